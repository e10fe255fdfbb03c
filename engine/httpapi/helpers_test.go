package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/event/eventtest"
	"github.com/creditgate/creditgate/engine/httpapi"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testServer struct {
	*httptest.Server
	eng   *engine.Engine
	path  string
	clock *fakeClock
	// token sent by do when the request sets none ("" = none).
	client *http.Client
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newServer runs a real engine (temp journal, fake clock) behind httptest.
// cfgFn may adjust the engine config.
func newServer(t *testing.T, tokens httpapi.Tokens, cfgFn func(*engine.Config)) *testServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := engine.DefaultConfig()
	cfg.Journal.Path = path
	cfg.Journal.NoSync = true
	cfg.Clock = clock
	cfg.Approval.SweepInterval = time.Hour
	cfg.Logger = quietLogger()
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	eng, err := engine.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(eng, httpapi.Options{Tokens: tokens, Logger: quietLogger()}))
	t.Cleanup(func() {
		srv.Close()
		_ = eng.Close()
	})
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	t.Cleanup(tr.CloseIdleConnections)
	return &testServer{Server: srv, eng: eng, path: path, clock: clock, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends body (a string is sent verbatim, anything else as JSON).
func (s *testServer) do(t testing.TB, method, path string, body any, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// readJournal decodes every line of the journal file, failing on any line
// that does not verify.
var readJournal = eventtest.ReadJournal

// decisionsFor returns the journal's decision events on one request.
func decisionsFor(t testing.TB, path, requestID string) []event.Envelope {
	var out []event.Envelope
	for _, ev := range readJournal(t, path) {
		switch ev.EventType {
		case event.ApprovalApproved, event.ApprovalRejected, event.ApprovalExpired, event.ApprovalVoteRecorded:
			var d event.Decision
			_ = json.Unmarshal(ev.Payload, &d)
			if d.RequestID == requestID {
				out = append(out, ev)
			}
		}
	}
	return out
}

func isTerminal(typ event.Type) bool {
	return typ == event.ApprovalApproved || typ == event.ApprovalRejected || typ == event.ApprovalExpired
}
