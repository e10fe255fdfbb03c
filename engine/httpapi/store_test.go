package httpapi_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// flakyStore is an in-memory shared store that can be switched off, like a
// database that went away.
type flakyStore struct {
	mu    sync.Mutex
	lines [][]byte
	down  atomic.Bool
}

func (s *flakyStore) Begin(_ context.Context, after uint64, apply func(*event.Envelope) error) (store.Tx, error) {
	if s.down.Load() {
		return nil, store.ErrUnavailable
	}
	s.mu.Lock()
	for _, l := range s.lines {
		ev, _ := event.Decode(l)
		if ev.Seq > after && apply != nil {
			if err := apply(&ev); err != nil {
				s.mu.Unlock()
				return nil, err
			}
		}
	}
	return &flakyTx{s: s}, nil // holds s.mu until Commit/Rollback
}

func (s *flakyStore) Iterate(after uint64, fn func([]byte, *event.Envelope) bool) error {
	if s.down.Load() {
		return store.ErrUnavailable
	}
	s.mu.Lock()
	lines := append([][]byte(nil), s.lines...)
	s.mu.Unlock()
	for _, l := range lines {
		ev, _ := event.Decode(l)
		if ev.Seq > after && !fn(l, &ev) {
			return nil
		}
	}
	return nil
}

func (s *flakyStore) Shared() bool { return true }
func (s *flakyStore) Close() error { return nil }

type flakyTx struct {
	s    *flakyStore
	done bool
}

func (t *flakyTx) Commit(recs []store.Record) <-chan error {
	res := make(chan error, 1)
	if t.s.down.Load() {
		res <- store.ErrUnavailable
	} else {
		t.s.lines = append(t.s.lines, store.Lines(recs)...)
		res <- nil
	}
	t.Rollback()
	return res
}

func (t *flakyTx) Rollback() {
	if !t.done {
		t.done = true
		t.s.mu.Unlock()
	}
}

// TestStoreOutageIsA503NeverA500 covers the HTTP side of a shared store
// going away: commands, state reads and GET /events answer 503
// store_unavailable while it is down, and everything works again once it
// is back, without a restart.
func TestStoreOutageIsA503NeverA500(t *testing.T) {
	fs := &flakyStore{}
	s := newServer(t, nil, func(c *engine.Config) { c.Store = fs })
	createAgent(t, s, "a")
	consume := `{"agent_id":"a","amount":1,"reason":"r"}`
	if r := s.do(t, "POST", "/api/credits/consume", consume); r.status != 200 {
		t.Fatalf("consume with the store up: %d %s", r.status, r.raw)
	}
	fs.down.Store(true)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/credits/consume", consume},
		{"GET", "/api/credits/balance/a", ""},
		{"GET", "/api/credits/events", ""},
		{"GET", "/api/credits/digest", ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := s.do(t, c.method, c.path, body)
		if r.status != 503 || r.str("code") != "store_unavailable" {
			t.Errorf("%s %s with the store down: %d %s, want 503 store_unavailable", c.method, c.path, r.status, r.raw)
		}
	}
	if h := s.do(t, "GET", "/api/health", nil); h.str("state") != "degraded" {
		t.Errorf("health with the store down: %d %s, want degraded", h.status, h.raw)
	}
	fs.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := s.do(t, "GET", "/api/credits/balance/a", nil)
		if r.status == 200 {
			if r.body["balance"] != float64(99) {
				t.Fatalf("balance after the outage: %s, want 99 (the refused consume wrote nothing)", r.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %s 5 s after the store came back", r.status, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 18: on a store other than the journal, /metrics froze
// journal.total_events at the seq the instance started with, reported
// event_bus.total_published 0, and /info claimed "jsonl-journal" with
// file_path "store"; /readyz answered 200 while the store was down.
func TestMetricsInfoAndReadinessAreTrueOnEveryStore(t *testing.T) {
	fs := &flakyStore{}
	s := newServer(t, nil, func(c *engine.Config) { c.Store = fs })
	createAgent(t, s, "a")
	for range 3 {
		if r := s.do(t, "POST", "/api/credits/consume", `{"agent_id":"a","amount":1,"reason":"r"}`); r.status != 200 {
			t.Fatalf("consume: %d %s", r.status, r.raw)
		}
	}
	fs.mu.Lock()
	stored := len(fs.lines)
	fs.mu.Unlock()
	m := s.do(t, "GET", "/api/credits/metrics", nil)
	journal, _ := m.body["journal"].(map[string]any)
	bus, _ := m.body["event_bus"].(map[string]any)
	if journal["total_events"] != float64(stored) {
		t.Errorf("journal.total_events = %v, the store holds %d events", journal["total_events"], stored)
	}
	if bus["total_published"] != float64(stored) {
		t.Errorf("event_bus.total_published = %v, this instance committed %d events", bus["total_published"], stored)
	}
	if journal["file_path"] == "store" {
		t.Errorf("journal.file_path = %q: not a file", journal["file_path"])
	}
	info := s.do(t, "GET", "/api/credits/info", nil)
	if info.body["storage"] == "jsonl-journal" {
		t.Errorf("/info storage = %v on a store that is not the journal", info.body["storage"])
	}
	if r := s.do(t, "GET", "/readyz", nil); r.status != 200 {
		t.Fatalf("/readyz with the store up: %d %s", r.status, r.raw)
	}
	fs.down.Store(true)
	s.do(t, "POST", "/api/credits/consume", `{"agent_id":"a","amount":1,"reason":"r"}`)
	if r := s.do(t, "GET", "/readyz", nil); r.status != 503 {
		t.Errorf("/readyz with the store down: %d %s, want 503", r.status, r.raw)
	}
}

// Issue 18: after_seq beyond int64 was cast to a negative seq by the
// database and exported everything from seq 1; it is malformed on every
// store.
func TestEventsAfterSeqBeyondInt64IsA400(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*engine.Config)
	}{{"journal", nil}, {"store", func(c *engine.Config) { c.Store = &flakyStore{} }}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil, tc.cfg)
			createAgent(t, s, "a")
			for _, q := range []string{"9223372036854775808", "18446744073709551615", "99999999999999999999"} {
				if r := s.do(t, "GET", "/api/credits/events?after_seq="+q, nil); r.status != 400 {
					t.Errorf("after_seq=%s: %d %.200s, want 400", q, r.status, r.raw)
				}
			}
			if r := s.do(t, "GET", "/api/credits/events?after_seq=9223372036854775807", nil); r.status != 200 || len(r.raw) != 0 {
				t.Errorf("after_seq=MaxInt64: %d %.200s, want 200 and nothing", r.status, r.raw)
			}
		})
	}
}
