package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/faultfs"
	"github.com/creditgate/creditgate/engine"
)

// syncGate holds every journal sync while closed, so a command's events
// are folded into the read models but not yet on disk.
type syncGate struct {
	held    atomic.Bool
	release chan struct{}
}

func (g *syncGate) MaybeError(op faultfs.Op, _ string) error {
	if op == faultfs.OpSync && g.held.Load() {
		<-g.release
	}
	return nil
}

// answeredWhileUnsynced runs f and reports whether it returned before the
// held sync was released (a dirty answer) — it must not.
func answeredWhileUnsynced(t *testing.T, g *syncGate, name string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Errorf("%s answered (%v) while the state it saw was not yet durable", name, err)
	case <-time.After(150 * time.Millisecond):
	}
}

func TestNoClientIsAnsweredFromStateThatIsNotYetDurable(t *testing.T) {
	ctx := context.Background()
	g := &syncGate{release: make(chan struct{})}
	cfg := testConfig(t, journalPath(t))
	cfg.Journal.NoSync = false
	cfg.Journal.FS = faultfs.New(nil, g)
	e := openEngine(t, cfg)
	defer e.Close()
	mustCreate(t, e, "a", 1)
	in := engine.CreditInput{AgentID: "a", AmountMilli: credits(100), Reason: "x"}

	g.held.Store(true)
	consumed := make(chan error, 1)
	go func() { _, err := e.Consume(ctx, as("op", "k1"), in); consumed <- err }()
	// Wait until the consume is folded (balance 0 once visible) but its sync is held.
	time.Sleep(100 * time.Millisecond)

	answeredWhileUnsynced(t, g, "a balance read", func() error { _, err := e.Balance("a"); return err })
	answeredWhileUnsynced(t, g, "a refusal (insufficient credits)", func() error {
		_, err := e.Consume(ctx, as("op", ""), in)
		return err
	})
	answeredWhileUnsynced(t, g, "a key conflict", func() error {
		_, err := e.Consume(ctx, as("op", "k1"), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "other"})
		return err
	})
	answeredWhileUnsynced(t, g, "the digest", func() error { _, _, err := e.Digest(); return err })

	g.held.Store(false)
	close(g.release)
	if err := <-consumed; err != nil {
		t.Fatalf("the held consume: %v", err)
	}
	bal, err := e.Balance("a")
	if err != nil || bal != 0 {
		t.Fatalf("balance after the sync: %d %v, want 0", bal, err)
	}
	_, err = e.Consume(ctx, as("op", ""), in)
	var r *engine.RuleError
	if !errors.As(err, &r) || r.Code != engine.CodeInsufficientCredits {
		t.Fatalf("consume of an empty balance: %v, want insufficient_credits", err)
	}
}

// While a commit's sync hangs, health still answers at once: the committer
// does not hold the engine's lock across the sync (reads wait for the
// commit, bounded by readDurableWait).
func TestHealthAnswersWhileASyncHangs(t *testing.T) {
	ctx := context.Background()
	g := &syncGate{release: make(chan struct{})}
	cfg := testConfig(t, journalPath(t))
	cfg.Journal.NoSync = false
	cfg.Journal.FS = faultfs.New(nil, g)
	e := openEngine(t, cfg)
	defer e.Close()
	defer close(g.release)
	mustCreate(t, e, "a", 1)
	g.held.Store(true)
	go func() {
		_, _ = e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "x"})
	}()
	time.Sleep(100 * time.Millisecond)
	done := make(chan engine.Health, 1)
	go func() { done <- e.Health() }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Health did not answer within 2 s while a sync hung")
	}
	g.held.Store(false)
}
