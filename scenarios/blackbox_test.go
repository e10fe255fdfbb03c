package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/scenarios/money"
)

// bbFake is a small in-memory backend of the original's routes: exact
// decimals, Idempotency-Key honoured (unless ignoreKeys), every 13th write
// failed with a 503 that changes nothing (an honest journal failure).
type bbFake struct {
	ignoreKeys bool
	mu         sync.Mutex
	bal        map[string]int64
	hist       map[string][]string // JSON entries, newest first
	keys       map[string][]byte
	writes     int
}

func newBBFake(ignoreKeys bool) *bbFake {
	return &bbFake{ignoreKeys: ignoreKeys, bal: map[string]int64{}, hist: map[string][]string{}, keys: map[string][]byte{}}
}

func (f *bbFake) entry(agent string, delta int64, reason string) {
	f.hist[agent] = append([]string{fmt.Sprintf(`{"event_id":"e%d","amount":%s,"balance_after":%s,"reason":%q}`,
		len(f.hist[agent])+1, money.FormatMilli(delta), money.FormatMilli(f.bal[agent]), reason)}, f.hist[agent]...)
}

func (f *bbFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	reply := func(status int, body string) { w.WriteHeader(status); _, _ = w.Write([]byte(body)) }
	path := strings.TrimPrefix(r.URL.Path, api)
	switch {
	case r.Method == "GET" && path == "/balances":
		var parts []string
		for id, b := range f.bal {
			parts = append(parts, fmt.Sprintf("%q:%s", id, money.FormatMilli(b)))
		}
		reply(200, fmt.Sprintf(`{"balances":{%s},"total_agents":%d}`, strings.Join(parts, ","), len(parts)))
	case r.Method == "GET" && strings.HasPrefix(path, "/balance/"):
		id := strings.TrimPrefix(path, "/balance/")
		if b, ok := f.bal[id]; ok {
			reply(200, fmt.Sprintf(`{"agent_id":%q,"balance":%s}`, id, money.FormatMilli(b)))
		} else {
			reply(404, `{"detail":"agent not found"}`)
		}
	case r.Method == "GET" && strings.HasPrefix(path, "/history/"):
		id := strings.TrimPrefix(path, "/history/")
		if _, ok := f.bal[id]; !ok {
			reply(404, `{"detail":"agent not found"}`)
			return
		}
		reply(200, fmt.Sprintf(`{"agent_id":%q,"history":[%s],"total_entries":%d}`, id, strings.Join(f.hist[id], ","), len(f.hist[id])))
	case r.Method == "POST" && path == "/agents":
		var b struct {
			AgentID string `json:"agent_id"`
		}
		if json.NewDecoder(r.Body).Decode(&b) != nil || b.AgentID == "" {
			reply(400, `{"detail":"malformed"}`)
		} else if _, ok := f.bal[b.AgentID]; ok {
			reply(409, `{"detail":"agent exists","code":"agent_exists"}`)
		} else {
			f.bal[b.AgentID] = 100_000
			f.entry(b.AgentID, 100_000, "agent_created")
			reply(201, fmt.Sprintf(`{"agent_id":%q,"initial_credits":100,"balance":100,"skill_level":1}`, b.AgentID))
		}
	case r.Method == "POST" && (path == "/consume" || path == "/refund" || path == "/add"):
		key := r.Header.Get("Idempotency-Key")
		if prev, ok := f.keys[key]; ok && key != "" && !f.ignoreKeys {
			w.Header().Set("Idempotent-Replayed", "true")
			reply(200, string(prev))
			return
		}
		var b struct {
			AgentID string          `json:"agent_id"`
			Amount  json.RawMessage `json:"amount"`
			Reason  string          `json:"reason"`
		}
		dec := json.NewDecoder(r.Body)
		if dec.Decode(&b) != nil {
			reply(400, `{"detail":"malformed JSON"}`)
			return
		}
		m, err := money.ParseMilli(string(b.Amount))
		if err != nil || m <= 0 || m > 1_000_000_000_000 {
			reply(422, `{"detail":"amount invalid"}`)
			return
		}
		if _, ok := f.bal[b.AgentID]; !ok {
			reply(404, `{"detail":"agent not found"}`)
			return
		}
		if f.writes++; f.writes%13 == 0 {
			reply(503, `{"detail":"journal failed"}`)
			return
		}
		delta := m
		if path == "/consume" {
			delta = -m
			if f.bal[b.AgentID] < m {
				reply(409, `{"detail":"insufficient","code":"insufficient_credits"}`)
				return
			}
		}
		f.bal[b.AgentID] += delta
		f.entry(b.AgentID, delta, b.Reason)
		body := fmt.Sprintf(`{"agent_id":%q,"amount":%s,"balance_after":%s,"reason":%q,"mission_id":null}`,
			b.AgentID, money.FormatMilli(m), money.FormatMilli(f.bal[b.AgentID]), b.Reason)
		if key != "" {
			f.keys[key] = []byte(body)
		}
		reply(200, body)
	default:
		reply(404, `{"detail":"no route"}`)
	}
}

func runBlackBox(t *testing.T, fake *bbFake) (BlackBoxRun, []audit.Finding) {
	t.Helper()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := NewClient(srv.URL, "")
	start := time.Now()
	run, err := BlackBox(t.Context(), c, rand.New(rand.NewPCG(42, 0)), DefaultBlackBox())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
	if n := run.Requests(); n < 100 || n > 1000 || n != c.History.Len() {
		t.Errorf("%d requests, the history holds %d", n, c.History.Len())
	}
	return run, audit.BlackBox(run.Ops, run.Snapshot)
}

func TestBlackBoxHonestBackendPassesEveryCheckMeasured(t *testing.T) {
	_, fs := runBlackBox(t, newBBFake(false))
	for _, f := range fs {
		t.Logf("samples=%d %s", f.Samples, f)
		if !f.OK || f.Samples == 0 {
			t.Errorf("samples=%d %s", f.Samples, f)
		}
	}
}

func TestBlackBoxBackendIgnoringKeysFailsA11(t *testing.T) {
	_, fs := runBlackBox(t, newBBFake(true))
	for _, f := range fs {
		if strings.HasPrefix(f.Check, "A11 ") {
			t.Log(f)
		}
		if strings.HasPrefix(f.Check, "A11 ") && (f.OK || f.Samples == 0) {
			t.Errorf("keyed retries ran twice, yet: %s", f)
		}
	}
}

// The workload sends hostile amounts verbatim and records each request's
// body hash and amount as sent.
func TestBlackBoxSendsHostileAmountsVerbatim(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	fake := newBBFake(false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		mu.Lock()
		bodies = append(bodies, buf.String())
		mu.Unlock()
		r.Body = httpBody(buf.Bytes())
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	run, err := BlackBox(t.Context(), c, rand.New(rand.NewPCG(1, 2)), BlackBoxConfig{Agents: 1, Sequential: 3, Concurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(bodies, "\n")
	for _, want := range []string{`"amount":NaN`, `"amount":Infinity`, `"amount":1e309`, `"amount":"abc"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no body with %s", want)
		}
	}
	for _, o := range run.Ops {
		if o.Kind.Mutation() && o.BodyHash == "" {
			t.Errorf("op %d without a body hash", o.ID)
		}
	}
}

func httpBody(b []byte) *bodyReader { return &bodyReader{bytes.NewReader(b)} }

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

// floatOriginal is a backend like the original system: float money, no
// Idempotency-Key support, any positive float amount accepted.
type floatOriginal struct {
	mu   sync.Mutex
	bal  map[string]float64
	hist map[string][]string
}

func (f *floatOriginal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	reply := func(status int, body string) { w.WriteHeader(status); _, _ = w.Write([]byte(body)) }
	path := strings.TrimPrefix(r.URL.Path, api)
	switch {
	case r.Method == "GET" && path == "/balances":
		var parts []string
		for id, b := range f.bal {
			parts = append(parts, fmt.Sprintf("%q:%s", id, num(b)))
		}
		reply(200, `{"balances":{`+strings.Join(parts, ",")+`}}`)
	case r.Method == "GET" && strings.HasPrefix(path, "/balance/"):
		id := strings.TrimPrefix(path, "/balance/")
		if b, ok := f.bal[id]; ok {
			reply(200, fmt.Sprintf(`{"agent_id":%q,"balance":%s}`, id, num(b)))
		} else {
			reply(404, `{"detail":"Agent not found"}`)
		}
	case r.Method == "GET" && strings.HasPrefix(path, "/history/"):
		id := strings.TrimPrefix(path, "/history/")
		reply(200, fmt.Sprintf(`{"agent_id":%q,"history":[%s],"total_entries":%d}`, id, strings.Join(f.hist[id], ","), len(f.hist[id])))
	case r.Method == "POST" && path == "/agents":
		var b struct {
			AgentID string `json:"agent_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		if _, ok := f.bal[b.AgentID]; ok {
			reply(400, `{"detail":"Agent already exists"}`)
			return
		}
		f.bal[b.AgentID] = 100
		reply(200, fmt.Sprintf(`{"agent_id":%q,"initial_credits":100,"balance":100,"skill_level":1}`, b.AgentID))
	case r.Method == "POST":
		var b struct {
			AgentID string  `json:"agent_id"`
			Amount  float64 `json:"amount"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || !(b.Amount > 0) || math.IsInf(b.Amount, 0) {
			reply(422, `{"detail":"invalid"}`)
			return
		}
		if _, ok := f.bal[b.AgentID]; !ok {
			reply(404, `{"detail":"Agent not found"}`)
			return
		}
		signed := b.Amount
		if path == "/consume" {
			if f.bal[b.AgentID] < b.Amount {
				reply(400, `{"detail":"Insufficient credits"}`)
				return
			}
			signed = -b.Amount
		}
		f.bal[b.AgentID] += signed
		f.hist[b.AgentID] = append([]string{fmt.Sprintf(`{"amount":%s,"balance_after":%s}`, num(signed), num(f.bal[b.AgentID]))}, f.hist[b.AgentID]...)
		reply(200, fmt.Sprintf(`{"agent_id":%q,"amount":%s,"balance_after":%s,"reason":"r","mission_id":null}`, b.AgentID, num(b.Amount), num(f.bal[b.AgentID])))
	}
}

// The case that motivated the black-box judge: a backend like the original
// (float money, keys ignored) was reported with "0 idempotency violations".
func TestBlackBoxOriginalLikeBackendFailsIdempotencyAndExactness(t *testing.T) {
	srv := httptest.NewServer(&floatOriginal{bal: map[string]float64{}, hist: map[string][]string{}})
	defer srv.Close()
	run, err := BlackBox(t.Context(), NewClient(srv.URL, ""), rand.New(rand.NewPCG(42, 0)), DefaultBlackBox())
	if err != nil {
		t.Fatal(err)
	}
	fs := audit.BlackBox(run.Ops, run.Snapshot)
	for _, f := range fs {
		t.Logf("samples=%d %s", f.Samples, f)
		switch f.Check[:3] {
		case "A11", "A13", "B14":
			if f.OK || f.Samples == 0 {
				t.Errorf("not caught: %s", f.Check)
			}
		}
	}
}
