package audit

import (
	"strings"
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
)

// rtEvents are rtWorld's ledger event ids of a1 (allocation, consume).
var rtEvents []string

// rtWorld: agent a1 created with 80 credits (key k-a1, sent at 0, acked
// at 10), then a consume of 12.5 (k-c1, sent at 20, acked at 30): the
// balance series is 0 → 80 → 67.5.
func rtWorld(t *testing.T) (*Journal, []Op) {
	b := &builder{t: t}
	b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.8}),
		pc("credit.allocated", credit("a1", 80_000, 80_000), 0))
	c := b.cmd("k-c1", "anonymous", p("credit.consumed", credit("a1", 12_500, 67_500)))
	j := b.journal()
	rtEvents = nil
	for _, le := range Fold(j).Ledgers["a1"] {
		rtEvents = append(rtEvents, le.EventID)
	}
	ops := []Op{
		{ID: 1, Kind: history.KindCreateAgent, Key: "k-a1", Agent: "a1", CallNs: 0, ReturnNs: 10, Status: 201, Outcome: history.OK},
		{ID: 2, Kind: history.KindConsume, Key: "k-c1", Agent: "a1", CallNs: 20, ReturnNs: 30, Status: 200, Outcome: history.OK, EventID: c[0].EventID},
	}
	return j, ops
}

func historyRead(id uint64, call, ret int64, newest string) Op {
	return Op{ID: id, Kind: history.KindReadHistory, Agent: "a1", CallNs: call, ReturnNs: ret, Status: 200, Outcome: history.OK,
		ReadNewest: newest, HasRead: true}
}

func TestHistoryReadsFollowTheSameRealTimeRules(t *testing.T) {
	rtWorld(t)
	alloc, consume := rtEvents[0], rtEvents[1]
	if f, _ := rtCheck(t, historyRead(3, 40, 50, consume)); !f.OK {
		t.Errorf("a history read showing the acknowledged consume was rejected: %s", f)
	}
	if f, _ := rtCheck(t, historyRead(3, 40, 50, alloc)); f.OK {
		t.Errorf("a history read missing the acknowledged consume passed: %s", f)
	}
	if f, _ := rtCheck(t, historyRead(3, 12, 15, consume)); f.OK {
		t.Errorf("a history read showing a consume sent after it returned passed: %s", f)
	}
	if f, _ := rtCheck(t, historyRead(3, 40, 50, "e-unknown")); f.OK {
		t.Errorf("a history read naming an entry the journal lacks passed: %s", f)
	}
	// Mixed kinds of reads are ordered together.
	if _, f2 := rtCheck(t, historyRead(3, 21, 23, consume), read(4, 25, 27, 80_000)); f2.OK {
		t.Errorf("a balance read going back behind a history read passed: %s", f2)
	}
}

func read(id uint64, call, ret, milli int64) Op {
	return Op{ID: id, Kind: history.KindReadBalance, Agent: "a1", CallNs: call, ReturnNs: ret, Status: 200, Outcome: history.OK,
		ReadMilli: milli, HasRead: true}
}

func rtCheck(t *testing.T, reads ...Op) (Finding, Finding) {
	j, ops := rtWorld(t)
	return RealtimeReads(j, Fold(j), append(ops, reads...))
}

func TestReadAfterAnAcknowledgedWriteMustReflectIt(t *testing.T) {
	if f, _ := rtCheck(t, read(3, 40, 50, 67_500)); !f.OK {
		t.Errorf("a read of the current balance was rejected: %s", f)
	}
	f, _ := rtCheck(t, read(3, 40, 50, 80_000))
	if f.OK || f.ViolationCount != 1 || !strings.Contains(f.Violations[0], "80") {
		t.Errorf("a stale read after the consume was acknowledged passed: %s", f)
	}
	// Sent while the consume was in flight: either state is allowed.
	for _, v := range []int64{80_000, 67_500} {
		if f, _ := rtCheck(t, read(3, 25, 28, v)); !f.OK {
			t.Errorf("a read overlapping the consume returning %d was rejected: %s", v, f)
		}
	}
	// A value that is no prefix of the journal at all.
	if f, _ := rtCheck(t, read(3, 40, 50, 70_000)); f.OK {
		t.Errorf("a balance the journal never had passed: %s", f)
	}
}

func TestReadMustNotReflectAWriteSentAfterItReturned(t *testing.T) {
	if f, _ := rtCheck(t, read(3, 12, 15, 80_000)); !f.OK {
		t.Errorf("a read between the two writes was rejected: %s", f)
	}
	if f, _ := rtCheck(t, read(3, 12, 15, 67_500)); f.OK {
		t.Errorf("a read that returned before the consume was sent, showing it, passed: %s", f)
	}
}

func TestReadsOfOneAgentNeverGoBackInTime(t *testing.T) {
	// Both reads overlap the consume, so each alone is fine; but the second
	// was sent after the first returned the newer state.
	f1, f2 := rtCheck(t, read(3, 21, 23, 67_500), read(4, 25, 27, 80_000))
	if !f1.OK {
		t.Fatalf("each read alone is consistent: %s", f1)
	}
	if f2.OK || f2.ViolationCount != 1 {
		t.Errorf("a read going back in time passed: %s", f2)
	}
	// The same values in the other order move forward.
	if _, f2 := rtCheck(t, read(3, 21, 23, 80_000), read(4, 25, 27, 67_500)); !f2.OK {
		t.Errorf("reads moving forward were rejected: %s", f2)
	}
	// Overlapping reads are not ordered: either may show either state.
	if _, f2 := rtCheck(t, read(3, 21, 26, 67_500), read(4, 25, 27, 80_000)); !f2.OK {
		t.Errorf("overlapping reads were ordered: %s", f2)
	}
}

// A balance that returns to an earlier value is not "going back": the
// check picks the earliest consistent prefix, not the first equal value.
func TestReadsMayRepeatAValueTheJournalReturnsTo(t *testing.T) {
	b := &builder{t: t}
	b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.8}),
		pc("credit.allocated", credit("a1", 80_000, 80_000), 0))
	c := b.cmd("k-c1", "anonymous", p("credit.consumed", credit("a1", 10_000, 70_000)))
	r := b.cmd("k-r1", "anonymous", p("credit.refunded", credit("a1", 10_000, 80_000)))
	j := b.journal()
	ops := []Op{
		{ID: 1, Kind: history.KindCreateAgent, Key: "k-a1", Agent: "a1", CallNs: 0, ReturnNs: 10, Outcome: history.OK},
		{ID: 2, Kind: history.KindConsume, Key: "k-c1", CallNs: 20, ReturnNs: 30, Outcome: history.OK, EventID: c[0].EventID},
		{ID: 3, Kind: history.KindRefund, Key: "k-r1", CallNs: 40, ReturnNs: 50, Outcome: history.OK, EventID: r[0].EventID},
		read(4, 35, 36, 70_000), read(5, 60, 61, 80_000),
	}
	f1, f2 := RealtimeReads(j, Fold(j), ops)
	if !f1.OK || !f2.OK {
		t.Errorf("%s\n%s", f1, f2)
	}
}

func TestUnknownAndRefusedReadsAreNotJudged(t *testing.T) {
	r := read(3, 40, 50, 80_000)
	r.Outcome, r.HasRead = history.Unknown, false
	if f, _ := rtCheck(t, r); !f.OK {
		t.Errorf("%s", f)
	}
}

func decisionOp(id uint64, key string, call, ret int64, o history.Outcome, state, code string) Op {
	return Op{ID: id, Kind: history.KindApprove, Key: key, Entity: "r1", CallNs: call, ReturnNs: ret, Outcome: o, State: state, Code: code}
}

func TestADecisionAfterATerminalAnswerIsAlreadyDecided(t *testing.T) {
	won := decisionOp(1, "k1", 0, 10, history.OK, "approved", "")
	cases := []struct {
		name  string
		later Op
		ok    bool
	}{
		{"already_decided", decisionOp(2, "k2", 20, 30, history.Refused, "", "already_decided"), true},
		{"a replay of the winner's own key", decisionOp(2, "k1", 20, 30, history.Replayed, "approved", ""), true},
		{"a second approval", decisionOp(2, "k2", 20, 30, history.OK, "approved", ""), false},
		{"another refusal code", decisionOp(2, "k2", 20, 30, history.Refused, "", "four_eyes_violation"), false},
		{"concurrent with the winner (not judged here)", decisionOp(2, "k2", 5, 30, history.OK, "approved", ""), true},
		{"unknown outcome", decisionOp(2, "k2", 20, 30, history.Unknown, "", ""), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := RealtimeDecisions([]Op{won, c.later})
			if f.OK != c.ok {
				t.Errorf("ok=%t, want %t: %s", f.OK, c.ok, f)
			}
		})
	}
	// A first vote of two (pending) decides nothing.
	vote := decisionOp(1, "k1", 0, 10, history.OK, "pending", "")
	if f := RealtimeDecisions([]Op{vote, decisionOp(2, "k2", 20, 30, history.OK, "approved", "")}); !f.OK {
		t.Errorf("a second approver after a pending vote was rejected: %s", f)
	}
}

func TestAlreadyDecidedMustNameADurableDecision(t *testing.T) {
	b := &builder{t: t}
	rq := b.cmd("k-add1", "alice", p("approval.requested", request("r1", "add", "a2", 600_000)))
	ap := b.cmd("k-ap1", "bob", pid("approval.approved", decision("r1", "bob", 1), rq[0].EventID))
	j := b.journal()
	loser := decisionOp(2, "k2", 0, 10, history.Refused, "", "already_decided")
	loser.WinnerEventID = ap[0].EventID
	if f := WinnersDurable(j, []Op{loser}); !f.OK {
		t.Errorf("a loser naming the journaled winner was rejected: %s", f)
	}
	loser.WinnerEventID = "e-lost-in-the-crash"
	if f := WinnersDurable(j, []Op{loser}); f.OK || f.ViolationCount != 1 {
		t.Errorf("a loser naming a decision the journal lost passed: %s", f)
	}
}

// The one retry rule (docs/gates.md "Retries"), on hand-built histories.
func TestOneRuleForRetries(t *testing.T) {
	b := &builder{t: t}
	b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.8}),
		pc("credit.allocated", credit("a1", 80_000, 80_000), 0))
	c := b.cmd("k-c1", "anonymous", p("credit.consumed", credit("a1", 12_500, 67_500)))
	j := b.journal()
	ev := c[0].EventID
	op := func(id uint64, role history.Role, call, ret int64, o history.Outcome, event, code string) Op {
		return Op{ID: id, Kind: history.KindConsume, Role: role, Key: "k-c1", CallNs: call, ReturnNs: ret, Outcome: o, EventID: event, Code: code}
	}
	orig := op(1, history.Original, 0, 10, history.OK, ev, "")
	cases := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"sequential retry replayed with the original event", []Op{orig, op(2, history.Retry, 20, 30, history.Replayed, ev, "")}, true},
		{"sequential retry without Idempotent-Replayed", []Op{orig, op(2, history.Retry, 20, 30, history.OK, ev, "")}, false},
		{"sequential retry naming another event", []Op{orig, op(2, history.Retry, 20, 30, history.Replayed, "e-other", "")}, false},
		{"sequential retry refused", []Op{orig, op(2, history.Retry, 20, 30, history.Refused, "", "insufficient_credits")}, false},
		{"concurrent duplicate replayed", []Op{orig, op(2, history.ConcurrentDuplicate, 1, 9, history.Replayed, ev, "")}, true},
		{"concurrent duplicates both executed", []Op{orig, op(2, history.ConcurrentDuplicate, 1, 9, history.OK, ev, "")}, false},
		{"concurrent duplicate refused", []Op{orig, op(2, history.ConcurrentDuplicate, 1, 9, history.Refused, "", "insufficient_credits")}, false},
		{"a refusal that returned before the executing copy was sent", []Op{op(2, history.Original, 0, 5, history.Refused, "", "insufficient_credits"),
			op(1, history.Retry, 6, 10, history.OK, ev, "")}, true},
		{"unknown retry", []Op{orig, op(2, history.Retry, 20, 30, history.Unknown, "", "")}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops := append([]Op{{ID: 9, Kind: history.KindCreateAgent, Key: "k-a1", Outcome: history.OK}}, c.ops...)
			f := CheckRetriesOriginal(j, ops)
			if f.OK != c.ok {
				t.Errorf("ok=%t, want %t: %s", f.OK, c.ok, f)
			}
		})
	}
}

func TestLoadHistoryCountsAcknowledgedMutations(t *testing.T) {
	j, ops := rtWorld(t)
	f := LoadHistory(j, ops, HistoryOptions{})
	if !f.OK || !strings.HasPrefix(f.Measured, "2 acknowledged mutations checked") {
		t.Errorf("%s", f)
	}
	ops[1].Outcome, ops[1].Status = history.Refused, 409
	if f := LoadHistory(j, ops, HistoryOptions{}); f.OK {
		t.Errorf("a refused consume found in the journal passed: %s", f)
	}
}
