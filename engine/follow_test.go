package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/pgstore"
	"github.com/creditgate/creditgate/engine/pgstore/pgtest"
	"github.com/creditgate/creditgate/engine/store"
	"github.com/creditgate/creditgate/engine/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

func TestJournalStoreConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{Fresh: func(t *testing.T) func() store.Store {
		path := journalPath(t)
		return func() store.Store {
			s, err := engine.JournalStore(journal.Config{Path: path, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}})
}

// storeKinds opens engines on either store; for postgres every opener call
// is another instance on the same database.
func storeKinds(t *testing.T) map[string]func(t *testing.T) func() *engine.Engine {
	return map[string]func(t *testing.T) func() *engine.Engine{
		"jsonl": func(t *testing.T) func() *engine.Engine {
			path := journalPath(t)
			return func() *engine.Engine { return openEngine(t, testConfig(t, path)) }
		},
		"postgres": func(t *testing.T) func() *engine.Engine {
			url := pgtest.Shared(t).FreshDB(t)
			return func() *engine.Engine { return openPG(t, url) }
		},
	}
}

func openPG(t testing.TB, url string) *engine.Engine {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.Store = s
	return openEngine(t, cfg)
}

func countKey(t *testing.T, e *engine.Engine, key string) int {
	t.Helper()
	n := 0
	if err := e.Events(0, func(_ []byte, ev *event.Envelope) bool {
		if ev.IdempotencyKey == key {
			n++
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotencyKeyGivesOneEventAcrossReopenOnEveryStore(t *testing.T) {
	for name, kind := range storeKinds(t) {
		t.Run(name, func(t *testing.T) {
			open := kind(t)
			ctx := context.Background()
			e := open()
			if _, err := e.CreateAgent(ctx, engine.Request{ActorID: "t"}, "a", 1); err != nil {
				t.Fatal(err)
			}
			req := engine.Request{ActorID: "t", IdempotencyKey: "k1", RequestHash: "h1"}
			in := engine.CreditInput{AgentID: "a", AmountMilli: money.PerCredit, Reason: "x"}
			first, err := e.Consume(ctx, req, in)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = open()
			defer e.Close()
			again, err := e.Consume(ctx, req, in)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Replayed || again.Primary().EventID != first.Primary().EventID {
				t.Fatalf("retry after reopen: replayed=%v event %s, want the first event %s", again.Replayed, again.Primary().EventID, first.Primary().EventID)
			}
			if n := countKey(t, e, "k1"); n != 1 {
				t.Fatalf("%d events carry key k1, want 1", n)
			}
		})
	}
}

// Three engines on one database stand for three creditd instances.
func TestClusterConsumesAcrossInstancesNeverOverdraw(t *testing.T) {
	url := pgtest.Shared(t).FreshDB(t)
	ctx := context.Background()
	var es []*engine.Engine
	for range 3 {
		e := openPG(t, url)
		defer e.Close()
		es = append(es, e)
	}
	if _, err := es[0].CreateAgent(ctx, engine.Request{ActorID: "t"}, "hot", 1); err != nil { // 100 credits
		t.Fatal(err)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := es[i%3].Consume(ctx, engine.Request{ActorID: "t"}, engine.CreditInput{AgentID: "hot", AmountMilli: 3 * money.PerCredit, Reason: "x"})
			var re *engine.RuleError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &re) && re.Code == engine.CodeInsufficientCredits:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 33 || refused.Load() != 27 {
		t.Fatalf("accepted %d, refused %d; want 33 × 3 credits accepted of 100, 27 refused", ok.Load(), refused.Load())
	}
	for i, e := range es {
		b, err := e.Balance("hot")
		if err != nil {
			t.Fatal(err)
		}
		if b != money.PerCredit {
			t.Fatalf("instance %d reads balance %s, want 1 (reads catch up first)", i, money.Format(b))
		}
	}
}

func TestClusterRetryOnAnotherInstanceReplaysTheFirstEvent(t *testing.T) {
	url := pgtest.Shared(t).FreshDB(t)
	ctx := context.Background()
	a, b := openPG(t, url), openPG(t, url)
	defer a.Close()
	defer b.Close()
	if _, err := a.CreateAgent(ctx, engine.Request{ActorID: "t"}, "x", 1); err != nil {
		t.Fatal(err)
	}
	req := engine.Request{ActorID: "t", IdempotencyKey: "retry-1", RequestHash: "h"}
	in := engine.CreditInput{AgentID: "x", AmountMilli: money.PerCredit, Reason: "r"}
	first, err := a.Consume(ctx, req, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Consume(ctx, req, in)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.Primary().EventID != first.Primary().EventID {
		t.Fatalf("retry on b: replayed=%v, event %s vs %s", again.Replayed, again.Primary().EventID, first.Primary().EventID)
	}
	req.RequestHash = "other"
	var re *engine.RuleError
	if _, err := b.Consume(ctx, req, in); !errors.As(err, &re) || re.Code != engine.CodeIdempotencyConflict {
		t.Fatalf("same key, other request on b: %v, want idempotency conflict", err)
	}
	if n := countKey(t, b, "retry-1"); n != 1 {
		t.Fatalf("%d events with key retry-1", n)
	}
}

func TestClusterEnginesAnswer503WhileTheDatabaseIsDownAndRecover(t *testing.T) {
	srv, err := pgtest.Start()
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(srv.Dir)
	defer srv.Stop()
	url := srv.URL("postgres")
	ctx := context.Background()
	a, b := openPG(t, url), openPG(t, url)
	defer a.Close()
	defer b.Close()
	if _, err := a.CreateAgent(ctx, engine.Request{ActorID: "t"}, "p", 1); err != nil {
		t.Fatal(err)
	}
	consume := func(e *engine.Engine, i int) error {
		_, err := e.Consume(ctx, engine.Request{ActorID: "t", IdempotencyKey: fmt.Sprintf("c%d", i), RequestHash: "h"},
			engine.CreditInput{AgentID: "p", AmountMilli: money.PerCredit, Reason: "r"})
		return err
	}
	if err := consume(a, 0); err != nil {
		t.Fatal(err)
	}
	if err := srv.StopMode("immediate"); err != nil {
		t.Fatal(err)
	}
	if err := consume(b, 1); !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Fatalf("consume with the database down: %v, want ErrStoreUnavailable", err)
	}
	if _, err := a.Balance("p"); !errors.Is(err, engine.ErrStoreUnavailable) {
		t.Fatalf("read with the database down: %v, want ErrStoreUnavailable", err)
	}
	if err := srv.StartServer(); err != nil {
		t.Fatal(err)
	}
	// The first call after the restart may still meet a dead pooled
	// connection, and the engine answers 503 until its follower's probe
	// reaches the database again (every FollowInterval): it recovers alone.
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if last = consume(b, 1); last == nil {
			break
		}
		if !errors.Is(last, engine.ErrStoreUnavailable) {
			t.Fatalf("consume while the database comes back: %v, want success or ErrStoreUnavailable", last)
		}
	}
	if last != nil {
		t.Fatalf("consume after the database came back: %v", last)
	}
	// a finds the database on its own follower tick, independently of b:
	// b answering says nothing about a, so a is waited for too.
	var bal int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if bal, last = a.Balance("p"); last == nil {
			break
		}
		if !errors.Is(last, engine.ErrStoreUnavailable) || time.Now().After(deadline) {
			t.Fatalf("read on the other engine after the database came back: %v", last)
		}
	}
	if bal != 98*money.PerCredit {
		t.Fatalf("balance %s after restart, want 98 (both acknowledged consumes, once each)", money.Format(bal))
	}
}

// Issue 18: instances on one database could run with different approval
// rules, so which command needed a human depended on the instance that
// took it. The first instance records the settings that decide money; an
// instance with different ones refuses to start, naming them.
func TestInstancesOnOneDatabaseRefuseDifferentMoneySettings(t *testing.T) {
	url := pgtest.Shared(t).FreshDB(t)
	a := openPG(t, url)
	defer a.Close()
	b := openPG(t, url) // same settings: starts
	b.Close()
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := testConfig(t, "")
	cfg.Store = s
	cfg.Approval.ThresholdMilli *= 2
	if e, err := engine.Open(cfg); !errors.Is(err, engine.ErrSettingsDiffer) || !strings.Contains(fmt.Sprint(err), "approval.threshold_milli") {
		if e != nil {
			e.Close()
		}
		t.Fatalf("an instance with another approval threshold: %v, want ErrSettingsDiffer naming approval.threshold_milli", err)
	}
}

// Instances on hosts whose clocks disagree: the one behind stamps no
// earlier than the event the other wrote before it.
func TestClusterTimestampsNeverGoBackAcrossSkewedInstances(t *testing.T) {
	url := pgtest.Shared(t).FreshDB(t)
	ctx := context.Background()
	open := func(c engine.Clock) *engine.Engine {
		s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t, "")
		cfg.Store, cfg.Clock = s, c
		return openEngine(t, cfg)
	}
	ahead, behind := newFakeClock(), newFakeClock()
	ahead.Advance(time.Minute)
	a, b := open(ahead), open(behind)
	defer a.Close()
	defer b.Close()
	first, err := a.CreateAgent(ctx, engine.Request{ActorID: "t"}, "p", 1)
	if err != nil {
		t.Fatal(err)
	}
	next, err := b.Consume(ctx, engine.Request{ActorID: "t"}, engine.CreditInput{AgentID: "p", AmountMilli: 1, Reason: "r"})
	if err != nil {
		t.Fatal(err)
	}
	last := first.Events[len(first.Events)-1]
	if got := next.Primary(); got.Timestamp.Before(last.Timestamp) {
		t.Fatalf("seq %d stamped %v by the instance behind, before seq %d's %v", got.Seq, got.Timestamp, last.Seq, last.Timestamp)
	}
}
