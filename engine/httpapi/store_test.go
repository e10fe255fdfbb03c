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
