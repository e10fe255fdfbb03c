package audit

import (
	"strings"
	"testing"
)

// durableJournal: agent x registered (0, then 100 in the same command) and credited 5, agent y
// consumed from; x's balances held are 100 and 105.
func durableJournal(t *testing.T) *Journal {
	b := &builder{t: t}
	b.cmd("k-x", "op", p("agent.registered", map[string]any{"agent_id": "x", "skill_level": 1}), p("credit.allocated", credit("x", 100_000, 100_000)))
	b.cmd("k-y", "op", p("credit.allocated", credit("y", 10_000, 10_000)))
	b.cmd("k-y2", "op", p("credit.consumed", credit("y", 5_000, 5_000)))
	b.cmd("k-x2", "op", p("credit.allocated", credit("x", 5_000, 105_000)))
	return b.journal()
}

func TestBalancesHeldAreTheAgentsBalancesAfterEachOfItsEvents(t *testing.T) {
	j := durableJournal(t)
	if got := BalancesHeld(j, "x"); len(got) != 2 || got[0] != 100_000 || got[1] != 105_000 {
		t.Fatalf("x held %v, want [100000 105000]", got)
	}
	if got := BalancesHeld(j, "nobody"); len(got) != 0 {
		t.Fatalf("an agent the journal never names held %v", got)
	}
}

func TestARefusalNoDurableBalanceJustifiesFails(t *testing.T) {
	held := BalancesHeld(durableJournal(t), "x")
	for _, c := range []struct {
		amount int64
		ok     bool
	}{{60_000, false}, {100_000, false}, {100_001, true}, {200_000, true}} {
		f := RefusalsJustified("x", held, []Refusal{{What: "consume", AmountMilli: c.amount}})
		if f.OK != c.ok || f.Samples != 1 || !strings.HasPrefix(f.Check, "D52 ") {
			t.Errorf("refusal of %d milli with balances %v: ok=%v, want %v (%s)", c.amount, held, f.OK, c.ok, f)
		}
	}
	if f := RefusalsJustified("nobody", nil, []Refusal{{What: "consume", AmountMilli: 1}}); f.OK {
		t.Error("a refusal for an agent the journal never names must fail")
	}
}

func TestAReadOfABalanceTheJournalNeverHeldFails(t *testing.T) {
	held := BalancesHeld(durableJournal(t), "x")
	f := ReadsDurable("x", held, []BalanceRead{{What: "r1", BalanceMilli: 100_000}, {What: "r2", BalanceMilli: 105_000}})
	if !f.OK || f.Samples != 2 {
		t.Fatalf("durable reads: %s", f)
	}
	f = ReadsDurable("x", held, []BalanceRead{{What: "r1", BalanceMilli: 100_000}, {What: "r3", BalanceMilli: 40_000}})
	if f.OK || f.ViolationCount != 1 || !strings.Contains(f.Violations[0], "r3") {
		t.Fatalf("a read of 40 after a failed debit: %s", f)
	}
}
