package audit

import (
	"slices"
	"strings"
	"testing"
)

// boundsWorld is cleanWorld plus a mission that a POST /refund named
// before its cancel (which refunds only what was left), a pool drained by
// a member then closed with the rest, and a collaboration in team "t" of
// agent "a1" after a1 filled the cap in team "alpha". edit may change the
// extra commands: mission (the cancel's refund), pool (the close's
// remainder), dropA2 (c3 records nothing for a2), cappedA1 (c3 withholds
// a1's reward whole).
type boundsEdit struct {
	cancelRefund, remainder int64
	dropA2, cappedA1        bool
}

func boundsWorld(t *testing.T, ed boundsEdit) *Model {
	w := cleanWorld(t)
	b := w.b
	const est = 7_600 // general, medium, skill 0.8
	st := b.cmd("k-ms", "op", p("mission.started", map[string]any{"mission_id": "m1", "agent_id": "a1",
		"mission_type": "general", "complexity": "medium", "estimate_milli": est}),
		pc("credit.consumed", map[string]any{"agent_id": "a1", "amount_milli": est, "reason": "mission_start", "mission_id": "m1"}, 0))
	b.cmd("k-mr", "op", p("credit.refunded", map[string]any{"agent_id": "a1", "amount_milli": 2_000, "reason": "r", "mission_id": "m1"}))
	b.cmd("k-mc", "op", p("mission.cancelled", map[string]any{"mission_id": "m1", "agent_id": "a1", "refund_milli": ed.cancelRefund}),
		pid("credit.refunded", map[string]any{"agent_id": "a1", "amount_milli": ed.cancelRefund, "reason": "mission_cancelled", "mission_id": "m1"}, st[1].EventID))
	b.cmd("k-p2", "op", p("pool.created", map[string]any{"pool_id": "p2"}), pc("pool.member_added", map[string]any{"pool_id": "p2", "agent_id": "a1"}, 0))
	b.cmd("k-p2a", "op", p("pool.allocated", map[string]any{"pool_id": "p2", "amount_milli": 40_000, "balance_after_milli": 40_000}))
	b.cmd("k-p2c", "op", p("pool.consumed", map[string]any{"pool_id": "p2", "agent_id": "a1", "amount_milli": 34_068, "balance_after_milli": 5_932}))
	b.cmd("k-p2x", "op", p("pool.closed", map[string]any{"pool_id": "p2", "remainder_milli": ed.remainder, "refund_to": "a2"}))
	parts := []part{p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c3",
		"team_id": "t", "agent_ids": []string{"a1", "a2"}, "contribution_scores": map[string]float64{"a1": 1, "a2": 0.5}})}
	if ed.cappedA1 {
		parts = append(parts, pc("synergie.reward_capped", reward("c3", "t", "a1", 50_000, 0, testCap), 0))
	} else {
		parts = append(parts, pc("synergie.reward_granted", reward("c3", "t", "a1", 50_000, 1, testCap), 0))
	}
	if !ed.dropA2 {
		parts = append(parts, pc("synergie.reward_granted", reward("c3", "t", "a2", 25_000, 1, testCap), 0))
	}
	b.cmd("k-c3", "op", parts...)
	return Fold(b.journal())
}

func TestMoneyBoundsJudgeOnlyTheirDefect(t *testing.T) {
	clean := boundsEdit{cancelRefund: 5_600, remainder: 5_932}
	cases := []struct {
		name string
		edit func(*boundsEdit)
		fail []string // the checks that must fail
	}{
		{"a clean world passes every bound", func(*boundsEdit) {}, nil},
		{"a cancel refunding what a POST /refund naming the mission already refunded", func(e *boundsEdit) { e.cancelRefund = 7_600 }, []string{CheckMissionRefundBound}},
		{"a close paying the remainder read before a consume", func(e *boundsEdit) { e.remainder = 40_000 }, []string{CheckPoolCloseBound}},
		{"a close paying less than what is left", func(e *boundsEdit) { e.remainder = 5_000 }, []string{CheckPoolCloseBound}},
		{"a reward withheld whole but not recorded", func(e *boundsEdit) { e.dropA2 = true }, []string{CheckRewardsRecorded}},
		// The per-team totals of B57 see it too: withheld, under the cap.
		{"a reward withheld by another pair's account", func(e *boundsEdit) { e.cappedA1 = true }, []string{CheckCapPerPair, CheckRewardsRecorded}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ed := clean
			c.edit(&ed)
			m := boundsWorld(t, ed)
			rec, _ := RewardsRecorded(m, testCap)
			for _, f := range []Finding{MissionRefundBound(m), PoolCloseBound(m), rec, CapPerPair(m, testCap, []string{"a1", "a2"})} {
				if f.Samples == 0 {
					t.Errorf("%s judged nothing", f.Check)
				}
				if want := !slices.Contains(c.fail, f.Check); f.OK != want {
					t.Errorf("%s: ok=%v, want %v\n%s", f.Check, f.OK, want, f)
				}
			}
		})
	}
}

func TestRewardsRecordedCountsRewardsWithheldWhole(t *testing.T) {
	m := boundsWorld(t, boundsEdit{cancelRefund: 5_600, remainder: 5_932, cappedA1: true})
	f, whole := RewardsRecorded(m, 0)
	// a1 in team t: 50 withheld whole under a cap of 120 is itself a
	// violation of the per-team totals; it still counts as withheld whole.
	if whole != 1 || f.OK || !strings.Contains(strings.Join(f.Violations, "\n"), `agent "a1" team "t"`) {
		t.Fatalf("whole=%d, %s", whole, f)
	}
}

// SPEC §5 bounds a mission's refunds by the mission: an end after a
// POST /refund naming the mission refunds only what is left, and the
// model's formula check (B11) expects exactly that.
func TestMissionEndRefundIsCappedByRefundsNamingIt(t *testing.T) {
	problems := func(cancel int64) []string {
		var out []string
		for _, p := range boundsWorld(t, boundsEdit{cancelRefund: cancel, remainder: 5_932}).Problems {
			if p.Kind == ProblemFormula && strings.Contains(p.Detail, `mission "m1"`) {
				out = append(out, p.Detail)
			}
		}
		return out
	}
	if got := problems(5_600); len(got) != 0 {
		t.Fatalf("a cancel refunding the 5.6 left after a refund of 2 is the formula; the model says %v", got)
	}
	if got := problems(7_600); len(got) != 1 {
		t.Fatalf("a cancel refunding all 7.6 after a refund of 2 must be one formula problem; got %v", got)
	}
}

// Another backend names a pool's amounts its own way (SPEC §2: "document
// every type and payload"): a close paying amount_milli to agent_id and
// moves stating pool_balance_after_milli fold like ours, a move stating no
// balance after is not compared; our engine's journal is held to
// docs/events.md's names.
func TestPoolPayloadsInAnotherBackendsNames(t *testing.T) {
	build := func(remainder int64) *builder {
		w := cleanWorld(t)
		b := w.b
		b.cmd("k-p9", "op", p("pool.created", map[string]any{"pool_id": "p9"}), pc("pool.member_added", map[string]any{"pool_id": "p9", "agent_id": "a1"}, 0))
		b.cmd("k-p9a", "op", p("pool.allocated", map[string]any{"pool_id": "p9", "amount_milli": 40_000, "pool_balance_after_milli": 40_000}))
		b.cmd("k-p9c", "op", p("pool.consumed", map[string]any{"pool_id": "p9", "agent_id": "a1", "amount_milli": 30_000}))
		b.cmd("k-p9x", "op", p("pool.closed", map[string]any{"pool_id": "p9", "amount_milli": remainder, "agent_id": "a2", "pool_balance_after_milli": 0}))
		return b
	}
	clean := Fold(cleanWorld(t).b.journal()) // its own problems are the formulas' (another test's)
	before := clean.Balances["a2"]
	m := Fold(build(10_000).journal())
	if len(m.Problems) != len(clean.Problems) || m.Balances["a2"] != before+10_000 || !m.Pools["p9"].Closed || m.Pools["p9"].PaidOutMilli != 10_000 {
		t.Fatalf("another backend's names: a2 %d (want %d), pool %+v, problems %v", m.Balances["a2"], before+10_000, m.Pools["p9"], m.Problems)
	}
	if m := Fold(build(12_000).journal()); len(m.Problems) == len(clean.Problems) {
		t.Fatal("a close paying more than the pool held, in another backend's names, was not reported")
	}
	j := build(10_000).journal()
	j.MarkOurs()
	if m := Fold(j); len(m.Problems) < len(clean.Problems)+3 {
		t.Fatalf("our engine's journal without remainder_milli and balance_after_milli: problems %v", m.Problems)
	}
}
