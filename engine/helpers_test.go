package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/event/eventtest"
	"github.com/creditgate/creditgate/engine/money"
)

// fakeClock is a settable engine.Clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
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

// quietLogger drops engine logs unless the test runs with -v.
func quietLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is DefaultConfig on a temp journal without fsync (durability
// is proven by the crash test and the faultfs test, not here), with the
// expiry sweep slowed down so it never races a test's fake clock.
func testConfig(tb testing.TB, path string) engine.Config {
	cfg := engine.DefaultConfig()
	cfg.Journal.Path = path
	cfg.Journal.NoSync = true
	cfg.Approval.SweepInterval = time.Hour
	cfg.Logger = quietLogger(tb)
	return cfg
}

func openEngine(tb testing.TB, cfg engine.Config) *engine.Engine {
	tb.Helper()
	e, err := engine.Open(cfg)
	if err != nil {
		tb.Fatalf("engine.Open(%s): %v", cfg.Journal.Path, err)
	}
	return e
}

func journalPath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "credits.jsonl") }

// readJournal decodes every line of the journal file, failing on any line
// that does not verify.
var readJournal = eventtest.ReadJournal

func ofType(evs []event.Envelope, typ event.Type) []event.Envelope {
	var out []event.Envelope
	for _, e := range evs {
		if e.EventType == typ {
			out = append(out, e)
		}
	}
	return out
}

func as(actor, key string) engine.Request {
	r := engine.Request{ActorID: actor, IdempotencyKey: key}
	if key != "" {
		r.RequestHash = "h:" + key
	}
	return r
}

func mustCreate(tb testing.TB, e *engine.Engine, id string, skill float64) {
	tb.Helper()
	if _, err := e.CreateAgent(context.Background(), as("op", ""), id, skill); err != nil {
		tb.Fatalf("CreateAgent(%s): %v", id, err)
	}
}

func credits(c float64) int64 { return int64(c * float64(money.PerCredit)) }

func ruleCode(err error) engine.Code {
	var re *engine.RuleError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

func balance(tb testing.TB, e *engine.Engine, id string) int64 {
	tb.Helper()
	b, err := e.Balance(id)
	if err != nil {
		tb.Fatalf("Balance(%s): %v", id, err)
	}
	return b
}

// foldBalances is the test's own fold of a journal: the sum of signed
// deltas per agent, independent of engine/projection.
func foldBalances(tb testing.TB, evs []event.Envelope) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	for _, ev := range evs {
		var p struct {
			AgentID        string `json:"agent_id"`
			AmountMilli    int64  `json:"amount_milli"`
			RefundTo       string `json:"refund_to"`
			RemainderMilli int64  `json:"remainder_milli"`
		}
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			tb.Fatalf("seq %d: %v", ev.Seq, err)
		}
		switch ev.EventType {
		case event.AgentRegistered:
			out[p.AgentID] += 0
		case event.CreditAllocated, event.CreditRefunded, event.CreditRegenerated, event.SynergieRewardGranted:
			out[p.AgentID] += p.AmountMilli
		case event.CreditConsumed, event.CreditWithdrawn:
			out[p.AgentID] -= p.AmountMilli
		case event.PoolClosed:
			if p.RemainderMilli > 0 {
				out[p.RefundTo] += p.RemainderMilli
			}
		}
	}
	return out
}
