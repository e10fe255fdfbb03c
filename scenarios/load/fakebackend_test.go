package load

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBackend is a minimal in-memory credit API (SPEC §6 shapes) with
// client idempotency, for tests only. With noIdempotency it executes every
// request (to prove the client notices).
type fakeBackend struct {
	noIdempotency bool
	// stall, when set, is called before each request is handled.
	stall func(r *http.Request)

	mu        sync.Mutex
	balances  map[string]int64
	idem      map[string]*idemEntry
	approvals map[string]string
	events    int64
	eventKeys map[string]int // idempotency key → events written
}

type idemEntry struct {
	done   chan struct{}
	status int
	body   []byte
}

func newFakeBackend(t *testing.T) (*fakeBackend, *httptest.Server) {
	t.Helper()
	f := &fakeBackend{balances: map[string]int64{}, idem: map[string]*idemEntry{},
		approvals: map[string]string{}, eventKeys: map[string]int{}}
	srv := httptest.NewServer(f) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.stall != nil {
		f.stall(r)
	}
	if r.URL.Path == "/metrics" {
		fmt.Fprintf(w, "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 12\ngo_memstats_heap_inuse_bytes 4.5e+06\nprocess_resident_memory_bytes 3.2e+07\nprocess_open_fds 9\n")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if r.Method != http.MethodPost || key == "" || f.noIdempotency {
		status, body := f.handle(r, key)
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	f.mu.Lock()
	if e, ok := f.idem[key]; ok {
		f.mu.Unlock()
		<-e.done
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(e.status)
		w.Write(e.body)
		return
	}
	e := &idemEntry{done: make(chan struct{})}
	f.idem[key] = e
	f.mu.Unlock()
	e.status, e.body = f.handle(r, key)
	close(e.done)
	w.WriteHeader(e.status)
	w.Write(e.body)
}

func milli(n json.Number) int64 {
	v, _ := strconv.ParseFloat(string(n), 64)
	return int64(v*1000 + 0.5)
}

func (f *fakeBackend) handle(r *http.Request, key string) (int, []byte) {
	path := strings.TrimPrefix(r.URL.Path, "/api/credits")
	var in struct {
		AgentID    string      `json:"agent_id"`
		Amount     json.Number `json:"amount"`
		SkillLevel float64     `json:"skill_level"`
		AgentIDs   []string    `json:"agent_ids"`
	}
	if r.Method == http.MethodPost && !strings.HasSuffix(path, "/approve") {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return 400, []byte(`{"detail":"malformed","code":"bad_request"}`)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	event := func(v map[string]any) (int, []byte) {
		f.events++
		f.eventKeys[key]++
		v["event_id"] = fmt.Sprintf("ev-%d", f.events)
		b, _ := json.Marshal(v)
		return 200, b
	}
	switch {
	case path == "/agents":
		if _, ok := f.balances[in.AgentID]; ok {
			return 409, []byte(`{"detail":"exists","code":"agent_exists"}`)
		}
		f.balances[in.AgentID] = int64(in.SkillLevel * 100_000)
		return event(map[string]any{"agent_id": in.AgentID})
	case path == "/consume":
		if f.balances[in.AgentID] < milli(in.Amount) {
			return 409, []byte(`{"detail":"insufficient","code":"insufficient_credits"}`)
		}
		f.balances[in.AgentID] -= milli(in.Amount)
		return event(map[string]any{"agent_id": in.AgentID})
	case path == "/refund" || path == "/add":
		f.balances[in.AgentID] += milli(in.Amount)
		return event(map[string]any{"agent_id": in.AgentID})
	case path == "/approvals" && r.Method == http.MethodPost:
		id := fmt.Sprintf("req-%d", len(f.approvals)+1)
		f.approvals[id] = in.AgentID
		f.events++
		f.eventKeys[key]++
		return 202, []byte(`{"request_id":"` + id + `","status":"pending","event_id":"ev-` + strconv.FormatInt(f.events, 10) + `"}`)
	case strings.HasPrefix(path, "/approvals/") && strings.HasSuffix(path, "/approve"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/approvals/"), "/approve")
		agent, ok := f.approvals[id]
		if !ok {
			return 404, []byte(`{"detail":"no such request","code":"not_found"}`)
		}
		f.balances[agent] += 600_000
		return event(map[string]any{"request_id": id})
	case path == "/synergie/collaborations":
		return event(map[string]any{"agents": len(in.AgentIDs)})
	case strings.HasPrefix(path, "/balance/"):
		b := f.balances[strings.TrimPrefix(path, "/balance/")]
		return 200, []byte(fmt.Sprintf(`{"agent_id":%q,"balance":%d.%03d}`, strings.TrimPrefix(path, "/balance/"), b/1000, b%1000))
	case strings.HasPrefix(path, "/history/"), path == "/balances":
		return 200, []byte(`{"ok":true}`)
	}
	return 404, []byte(`{"detail":"no route","code":"not_found"}`)
}

func (f *fakeBackend) eventCount() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events
}

// testConfig is a short, small run against srv.
func testConfig(srv *httptest.Server) Config {
	c := DefaultConfig()
	c.BaseURL = srv.URL
	c.Seed = 7
	c.Rate = 200
	c.Duration = 1500 * time.Millisecond
	c.Concurrency = 20
	c.Agents = 5
	c.RequestTimeout = 5 * time.Second
	c.Interval = 250 * time.Millisecond
	return c
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
