package audit

import (
	"strings"
	"testing"
)

// causeWorld holds one derived event of every SPEC §2 causation rule, each
// pointing at its right cause: an approval's execution, two rewards of a
// collaboration, and two missions' end refunds.
type causeWorld struct {
	b                                     *builder
	registered, consumeM1, consumeM2      *Event
	endM1, refundM1, refundM2             *Event
	requested, approved, executed, other  *Event
	collab, reward, capped, otherApproved *Event
}

func newCauseWorld(t *testing.T) *causeWorld {
	w := &causeWorld{b: &builder{t: t}}
	b := w.b
	reg := b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 1}),
		pc("credit.allocated", credit("a1", 100_000, 100_000), 0))
	b.cmd("k-a2", "op", p("agent.registered", map[string]any{"agent_id": "a2", "skill_level": 0}))
	w.registered = reg[0]
	mission := func(id string, after int64) *Event {
		s := b.cmd("k-"+id, "op", p("mission.started", map[string]any{"mission_id": id, "agent_id": "a1", "mission_type": "general",
			"complexity": "low", "estimate_milli": 3_500}),
			pc("credit.consumed", map[string]any{"agent_id": "a1", "amount_milli": 3_500, "balance_after_milli": after,
				"reason": "mission_start", "mission_id": id}, 0))
		return s[1]
	}
	w.consumeM1 = mission("m1", 96_500)
	w.consumeM2 = mission("m2", 93_000)
	end := func(id string, consume *Event, after int64) (*Event, *Event) {
		e := b.cmd("k-"+id+"-end", "op", p("mission.cancelled", map[string]any{"mission_id": id, "agent_id": "a1", "refund_milli": 3_500}),
			pid("credit.refunded", map[string]any{"agent_id": "a1", "amount_milli": 3_500, "balance_after_milli": after,
				"reason": "mission_cancelled", "mission_id": id}, consume.EventID))
		return e[0], e[1]
	}
	w.endM1, w.refundM1 = end("m1", w.consumeM1, 96_500)
	_, w.refundM2 = end("m2", w.consumeM2, 100_000)
	rq := b.cmd("k-r1", "alice", p("approval.requested", request("r1", "add", "a1", 600_000)))
	w.requested = rq[0]
	ap := b.cmd("k-r1-ap", "bob", pid("approval.approved", decision("r1", "bob", 1), rq[0].EventID),
		pc("credit.allocated", credit("a1", 600_000, 700_000), 0))
	w.approved, w.executed = ap[0], ap[1]
	rq2 := b.cmd("k-r2", "alice", p("approval.requested", request("r2", "add", "a2", 700_000)))
	ap2 := b.cmd("k-r2-ap", "bob", pid("approval.approved", decision("r2", "bob", 1), rq2[0].EventID),
		pc("credit.allocated", credit("a2", 700_000, 700_000), 0))
	w.otherApproved, w.other = ap2[0], ap2[1]
	col := b.cmd("k-c1", "op", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c1", "team_id": "t",
		"agent_ids": []string{"a1", "a2"}, "contribution_scores": map[string]float64{"a1": 1, "a2": 0.5}}),
		pc("synergie.reward_granted", reward("c1", "t", "a1", 100_000, 800_000, testCap), 0),
		pc("synergie.reward_capped", reward("c1", "t", "a2", 50_000, 0, testCap), 0))
	w.collab, w.reward, w.capped = col[0], col[1], col[2]
	return w
}

func causeOf(e *Event, cause *Event) {
	if cause == nil {
		e.CausationID = nil
		return
	}
	id := cause.EventID
	e.CausationID = &id
}

// A5 judges SPEC §2's causation rules by the kind and subject of the
// cause, not only that it is earlier: every case names an earlier event,
// the wrong one.
func TestA5FindsADerivedEventCausedByTheWrongEarlierEvent(t *testing.T) {
	cases := []struct {
		name string
		edit func(w *causeWorld)
		want string
	}{
		{"a mission refund caused by the mission's end, not its consumption", func(w *causeWorld) { causeOf(w.refundM1, w.endM1) },
			"want a credit.consumed of that mission"},
		{"a mission refund caused by another mission's consumption", func(w *causeWorld) { causeOf(w.refundM2, w.consumeM1) },
			"mission_id"},
		{"a mission's end refund without causation", func(w *causeWorld) { causeOf(w.refundM1, nil) }, "without causation_id"},
		{"an execution caused by the request, not the approval", func(w *causeWorld) { causeOf(w.executed, w.requested) },
			"want its request's approval.approved"},
		{"an execution caused by another request's approval", func(w *causeWorld) { causeOf(w.other, w.approved) },
			"not its own request's"},
		{"an execution without causation", func(w *causeWorld) { causeOf(w.executed, nil) }, "execution without causation_id"},
		{"a reward caused by a registration", func(w *causeWorld) { causeOf(w.reward, w.registered) },
			"want the synergie.collaboration_recorded"},
		{"a reward_capped without causation", func(w *causeWorld) { causeOf(w.capped, nil) }, "reward without causation_id"},
	}
	clean := newCauseWorld(t)
	if f := CheckCausationEarlier(clean.b.journal()); !f.OK || !strings.Contains(f.Detail, "2 approval executions, 2 synergie rewards, 2 mission refunds") {
		t.Fatalf("the clean world must pass with every rule judged: %s", f)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newCauseWorld(t)
			tc.edit(w)
			f := CheckCausationEarlier(w.b.journal())
			if f.OK || !strings.Contains(f.String(), tc.want) {
				t.Fatalf("want a violation saying %q: %s", tc.want, f)
			}
		})
	}
}

// A client's refund naming a mission is no derived event: it names no
// cause and breaks no rule.
func TestA5LeavesAClientsMissionRefundWithoutCause(t *testing.T) {
	w := newCauseWorld(t)
	w.b.cmd("k-client-refund", "op", p("credit.refunded", map[string]any{"agent_id": "a1", "amount_milli": 1_000,
		"balance_after_milli": 801_000, "reason": "client", "mission_id": "m1"}))
	if f := CheckCausationEarlier(w.b.journal()); !f.OK {
		t.Fatalf("%s", f)
	}
}

// A backend whose correlation_id spans more than one command: a later
// credit event of an approved request's kind, agent and amount is no second
// execution once the approval's execution named its cause.
func TestA5TellsAnExecutionOnceEvenUnderAWideCorrelation(t *testing.T) {
	w := newCauseWorld(t)
	later := w.b.cmd("k-later-add", "op", p("credit.allocated", credit("a1", 600_000, 1_400_000)))
	later[0].CorrelationID = w.approved.CorrelationID
	if f := CheckCausationEarlier(w.b.journal()); !f.OK {
		t.Fatalf("%s", f)
	}
}

// SPEC §2 fixes the unit of amount_milli, not the sign a debit is
// journaled with: an approved withdrawal journaled as a negative amount is
// still its request's execution, caused rightly.
func TestA5MatchesAnExecutionJournaledWithANegativeAmount(t *testing.T) {
	w := newCauseWorld(t)
	rq := w.b.cmd("k-r3", "alice", p("approval.requested", request("r3", "withdraw", "a1", 50_000)))
	ap := w.b.cmd("k-r3-ap", "bob", pid("approval.approved", decision("r3", "bob", 1), rq[0].EventID),
		pid("credit.withdrawn", credit("a1", -50_000, 750_000), ""))
	causeOf(ap[1], ap[0])
	if f := CheckCausationEarlier(w.b.journal()); !f.OK || !strings.Contains(f.Detail, "3 approval executions") {
		t.Fatalf("a negative withdrawal naming its approval must pass and count: %s", f)
	}
	causeOf(ap[1], w.approved)
	if f := CheckCausationEarlier(w.b.journal()); f.OK {
		t.Fatalf("caused by another request's approval must still fail: %s", f)
	}
}
