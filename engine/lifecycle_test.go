package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// hangingStore is empty and, once hang is set, never answers Begin until
// the caller's context ends: a database that accepts connections and then
// stalls.
type hangingStore struct{ hang atomic.Bool }

func (s *hangingStore) Begin(ctx context.Context, _ uint64, _ func(*event.Envelope) error) (store.Tx, error) {
	if !s.hang.Load() {
		return nopTx{}, nil
	}
	<-ctx.Done()
	return nil, errors.Join(store.ErrUnavailable, ctx.Err())
}
func (s *hangingStore) Iterate(uint64, func([]byte, *event.Envelope) bool) error { return nil }
func (s *hangingStore) Shared() bool                                             { return true }
func (s *hangingStore) Close() error                                             { return nil }

type nopTx struct{}

func (nopTx) Commit([]store.Record) <-chan error { c := make(chan error, 1); c <- nil; return c }
func (nopTx) Rollback()                          {}

// Issue 18: the expiry sweeper called ExpireDue(context.Background()), so
// a store that stopped answering held it (and Close, which waits for it)
// forever. The sweep is bounded by a deadline and Close stops it.
func TestCloseStopsTheSweeperWhileTheStoreHangs(t *testing.T) {
	s := &hangingStore{}
	cfg := testConfig(t, journalPath(t))
	cfg.Store = s
	cfg.Approval.SweepInterval = 10 * time.Millisecond
	e := openEngine(t, cfg)
	s.hang.Store(true)
	time.Sleep(100 * time.Millisecond) // a sweep is now waiting on Begin
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s while the store hung")
	}
	if _, err := e.Consume(context.Background(), as("svc", ""), engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "r"}); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("consume after Close: %v, want ErrClosed", err)
	}
}

// A command whose context ends while its batch waits on the store returns
// the context's error instead of hanging with it.
func TestACommandReturnsWhenItsContextEndsWhileTheStoreHangs(t *testing.T) {
	s := &hangingStore{}
	cfg := testConfig(t, journalPath(t))
	cfg.Store = s
	e := openEngine(t, cfg)
	defer e.Close()
	s.hang.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.ExpireDue(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("ExpireDue with a hanging store: %v after %v, want the deadline within 3 s", err, time.Since(start))
	}
}

// scriptedChecker flags every consume, or panics when broken.
type scriptedChecker struct{ broken bool }

func (c scriptedChecker) Check(string, int64) anomaly.Verdict {
	if c.broken {
		panic("detector down")
	}
	return anomaly.Verdict{Detected: true, Score: 12, Reason: anomaly.ReasonMeanFactor}
}
func (scriptedChecker) Observe(string, int64) {}

// The pipeline counts anomalies and detector failures from committed
// consumes: a refused consume counts nothing, a replayed one not again.
func TestAnomalyCountersCountCommittedConsumesOnly(t *testing.T) {
	for _, tc := range []struct {
		name              string
		broken            bool
		flagged, failures int64
	}{{"flagged", false, 1, 0}, {"detector failed", true, 0, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, journalPath(t))
			cfg.Checker = scriptedChecker{broken: tc.broken}
			e := openEngine(t, cfg)
			defer e.Close()
			mustCreate(t, e, "a", 0.5)
			ctx := context.Background()
			in := engine.CreditInput{AgentID: "a", AmountMilli: 1000, Reason: "r"}
			if _, err := e.Consume(ctx, as("svc", "k1"), in); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Consume(ctx, as("svc", "k1"), in); err != nil { // replay
				t.Fatal(err)
			}
			if _, err := e.Consume(ctx, as("svc", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1e6), Reason: "r"}); err == nil {
				t.Fatal("an overdraft was accepted")
			}
			st := e.Stats()
			if st.Anomalies != tc.flagged || st.DetectorFailures != tc.failures {
				t.Fatalf("anomalies %d, detector failures %d; want %d, %d", st.Anomalies, st.DetectorFailures, tc.flagged, tc.failures)
			}
		})
	}
}

// Close returns, and so does every command, while the store hangs and the
// command queue is full (appenders blocked on it).
func TestCloseReturnsWithAFullQueueAndAHangingStore(t *testing.T) {
	s := &hangingStore{}
	cfg := testConfig(t, journalPath(t))
	cfg.Store = s
	e := openEngine(t, cfg)
	s.hang.Store(true)
	const n = 5000 // beyond the queue's bound
	done := make(chan struct{}, n)
	for range n {
		go func() {
			_, _ = e.ExpireDue(context.Background())
			done <- struct{}{}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	deadline := time.After(10 * time.Second)
	select {
	case <-closed:
	case <-deadline:
		t.Fatal("Close did not return within 10 s")
	}
	for i := 0; i < n; i++ {
		select {
		case <-done:
		case <-deadline:
			t.Fatalf("%d of %d commands still waiting 10 s after Close", n-i, n)
		}
	}
}

// slowStore commits after a delay; it holds no events (one writer, empty
// at open).
type slowStore struct {
	delay time.Duration
	n     atomic.Int64
}

func (s *slowStore) Begin(context.Context, uint64, func(*event.Envelope) error) (store.Tx, error) {
	return slowTx{s}, nil
}
func (s *slowStore) Iterate(uint64, func([]byte, *event.Envelope) bool) error { return nil }
func (s *slowStore) Shared() bool                                             { return false }
func (s *slowStore) Close() error                                             { return nil }

type slowTx struct{ s *slowStore }

func (t slowTx) Commit(recs []store.Record) <-chan error {
	time.Sleep(t.s.delay)
	t.s.n.Add(int64(len(recs)))
	c := make(chan error, 1)
	c <- nil
	return c
}
func (slowTx) Rollback() {}

// A command whose context ends after the committer took it answers what
// the store did, never a timeout for a write that was committed (a 5xx
// must not hide a state change).
func TestACommandTakenByTheCommitterAnswersItsCommit(t *testing.T) {
	s := &slowStore{}
	cfg := testConfig(t, journalPath(t))
	cfg.Store = s
	e := openEngine(t, cfg)
	defer e.Close()
	mustCreate(t, e, "a", 1)
	s.delay = 300 * time.Millisecond
	before := s.n.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := e.Consume(ctx, as("svc", ""), engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "r"})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("consume whose context ended during its commit: %v, %v; want its committed event", res, err)
	}
	if got := s.n.Load() - before; got != 1 {
		t.Fatalf("%d events committed, want 1", got)
	}
}
