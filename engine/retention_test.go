package engine_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/pgstore"
	"github.com/creditgate/creditgate/engine/pgstore/pgtest"
)

// retentionKinds opens engines that hold at most memKeys keys in memory,
// on the journal (with its on-disk key index) or on PostgreSQL (where the
// store answers for older keys).
func retentionKinds(t *testing.T, memKeys int, clock engine.Clock) map[string]func(t *testing.T) func() *engine.Engine {
	return map[string]func(t *testing.T) func() *engine.Engine{
		"jsonl": func(t *testing.T) func() *engine.Engine {
			path := journalPath(t)
			return func() *engine.Engine {
				cfg := testConfig(t, path)
				cfg.IdempotencyMemKeys, cfg.Clock = memKeys, clock
				return openEngine(t, cfg)
			}
		},
		"postgres": func(t *testing.T) func() *engine.Engine {
			url := pgtest.Shared(t).FreshDB(t)
			return func() *engine.Engine {
				s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				cfg := testConfig(t, "")
				cfg.Store, cfg.IdempotencyMemKeys, cfg.Clock = s, memKeys, clock
				return openEngine(t, cfg)
			}
		},
	}
}

// The repro of issue 17 item 5: the key index held the newest N keys, so a
// retry of a key N+1 requests old ran again (journal: money moved twice)
// or forced a full reload (PostgreSQL: 409). Keys are now retained by
// time, whatever their number: far more keys than memory holds, then the
// first one again, answers the original event and writes nothing — live
// and after a restart.
func TestARetryOfAKeyFarBeyondTheMemoryBoundReturnsTheOriginalEvent(t *testing.T) {
	for name, kind := range retentionKinds(t, 5, nil) {
		t.Run(name, func(t *testing.T) {
			open := kind(t)
			ctx := context.Background()
			e := open()
			// A keyed create is a two-event transaction (registered + allocated).
			created, err := e.CreateAgent(ctx, as("op", "create-a"), "a", 1.0)
			if err != nil || len(created.Events) != 2 {
				t.Fatalf("create: %v with %d events, want 2", err, len(created.Events))
			}
			in := engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "r"}
			first, err := e.Consume(ctx, as("op", "first"), in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 300 {
				if _, err := e.Consume(ctx, as("op", fmt.Sprint("other-", i)), in); err != nil {
					t.Fatal(err)
				}
			}
			before := balance(t, e, "a")
			retryIsTheOriginal := func(e *engine.Engine, when string) {
				t.Helper()
				again, err := e.Consume(ctx, as("op", "first"), in)
				if err != nil {
					t.Fatalf("%s: retry: %v", when, err)
				}
				if !again.Replayed || again.Primary().EventID != first.Primary().EventID || again.Primary().Seq != first.Primary().Seq {
					t.Fatalf("%s: retry: replayed=%v event %s, want the original %s", when, again.Replayed, again.Primary().EventID, first.Primary().EventID)
				}
				if n := countKey(t, e, "first"); n != 1 {
					t.Fatalf("%s: %d events carry key first, want 1", when, n)
				}
				if b := balance(t, e, "a"); b != before {
					t.Fatalf("%s: balance %d after the retry, want %d (money moved twice)", when, b, before)
				}
				again, err = e.CreateAgent(ctx, as("op", "create-a"), "a", 1.0)
				if err != nil || !again.Replayed || len(again.Events) != 2 {
					t.Fatalf("%s: retry of the create: %v replayed=%v with %d events, want the original 2", when, err, again.Replayed, len(again.Events))
				}
				for i, ev := range again.Events {
					if ev.EventID != created.Events[i].EventID || ev.IdempotencyKey != created.Events[i].IdempotencyKey {
						t.Fatalf("%s: retry of the create: event %d is %s (%s), want %s (%s)", when, i, ev.EventID, ev.IdempotencyKey, created.Events[i].EventID, created.Events[i].IdempotencyKey)
					}
				}
				r := as("op", "first")
				r.RequestHash = "another body"
				if _, err := e.Consume(ctx, r, engine.CreditInput{AgentID: "a", AmountMilli: 2, Reason: "r"}); ruleCode(err) != engine.CodeIdempotencyConflict {
					t.Fatalf("%s: the key with another body: %v, want %s", when, err, engine.CodeIdempotencyConflict)
				}
			}
			retryIsTheOriginal(e, "live")
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = open()
			defer e.Close()
			retryIsTheOriginal(e, "after a restart")
		})
	}
}

// Keys expire by their primary event's time against the engine clock: a
// retry within the retention is the original; after it, on the journal,
// the key is a new request.
func TestAKeyIsHonouredForTheRetentionByTheEngineClock(t *testing.T) {
	clock := newFakeClock()
	path := journalPath(t)
	cfg := testConfig(t, path)
	cfg.Clock, cfg.IdempotencyMemKeys = clock, 1
	e := openEngine(t, cfg)
	ctx := context.Background()
	mustCreate(t, e, "a", 1.0)
	in := engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "r"}
	first, err := e.Consume(ctx, as("op", "k"), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // push k out of memory, onto disk
		if _, err := e.Consume(ctx, as("op", fmt.Sprint("o", i)), in); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(engine.DefaultIdempotencyRetention - time.Second)
	again, err := e.Consume(ctx, as("op", "k"), in)
	if err != nil || !again.Replayed || again.Primary().EventID != first.Primary().EventID {
		t.Fatalf("retry within the retention: %v replayed=%v, want the original", err, again.Replayed)
	}
	clock.Advance(2 * time.Second)
	later, err := e.Consume(ctx, as("op", "k"), in)
	if err != nil || later.Replayed || later.Primary().EventID == first.Primary().EventID {
		t.Fatalf("retry after the retention: %v, want a new event", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openEngine(t, cfg)
	defer e.Close()
	after, err := e.Consume(ctx, as("op", "k"), in)
	if err != nil || !after.Replayed || after.Primary().EventID != later.Primary().EventID {
		t.Fatalf("retry after a restart: %v, want the newest transaction of the key (%s)", err, later.Primary().EventID)
	}
}

// The on-disk key index is a cache: garbage in its place is rebuilt from
// the journal on open, and old keys are honoured as before.
func TestAGarbledKeyIndexIsRebuiltFromTheJournal(t *testing.T) {
	path := journalPath(t)
	cfg := testConfig(t, path)
	cfg.IdempotencyMemKeys = 1
	e := openEngine(t, cfg)
	ctx := context.Background()
	mustCreate(t, e, "a", 1.0)
	in := engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: "r"}
	first, err := e.Consume(ctx, as("op", "k"), in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := e.Consume(ctx, as("op", fmt.Sprint("o", i)), in); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, garble := range []func(){
		func() { _ = os.WriteFile(path+".keys", []byte("garbage"), 0o644) },
		func() { _ = os.Remove(path + ".keys") },
	} {
		garble()
		e = openEngine(t, cfg)
		again, err := e.Consume(ctx, as("op", "k"), in)
		if err != nil || !again.Replayed || again.Primary().EventID != first.Primary().EventID {
			t.Fatalf("retry after the index was garbled: %v, want the original", err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
