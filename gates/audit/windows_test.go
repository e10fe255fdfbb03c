package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
)

const sec = int64(time.Second)

func consumeOp(id uint64, key string, call, ret int64, out history.Outcome) history.Op {
	return history.Op{ID: id, Kind: history.KindConsume, Key: key, CallNs: call, ReturnNs: ret, Outcome: out, Status: 200}
}

func TestAckedSurvivedFaultsFailsWhenAnAckBeforeTheCutIsMissing(t *testing.T) {
	b := &builder{t: t}
	b.cmd("k-before", "svc", p("credit.consumed", credit("a1", 1, 999_000)))
	b.cmd("k-during", "svc", p("credit.consumed", credit("a1", 1, 998_000)))
	j := b.journal()
	cut := []history.Window{{ID: 1, Fault: "power cut", StartNs: 10 * sec, EndNs: 12 * sec}}
	good := []history.Op{
		consumeOp(1, "k-before", 1*sec, 2*sec, history.OK),
		consumeOp(2, "k-during", 9*sec, 11*sec, history.OK),
		consumeOp(3, "k-after-lost", 13*sec, 14*sec, history.OK),  // after the window: another check's business
		consumeOp(4, "k-unknown", 9*sec, 11*sec, history.Unknown), // never acknowledged: may be lost
	}
	f := CheckAckedSurvivedFaults(j, good, cut, "power cut")
	if !f.OK || f.Samples != 2 {
		t.Fatalf("a history whose acknowledgements all survived must pass, judging 2: %s", f)
	}
	bad := append(good, consumeOp(5, "k-acked-then-lost", 9*sec, 11*sec, history.OK))
	f = CheckAckedSurvivedFaults(j, bad, cut, "power cut")
	if f.OK || f.ViolationCount != 1 || !strings.Contains(f.Violations[0], "during the power cut window") {
		t.Fatalf("an acknowledgement returned during the cut and missing afterwards must fail: %s", f)
	}
	// Another fault's windows, or an open one, judge nothing.
	if f := CheckAckedSurvivedFaults(j, bad, cut, "kill -9"); f.Samples != 0 {
		t.Fatalf("a power cut must not be judged as a kill: %s", f)
	}
	open := []history.Window{{ID: 1, Fault: "power cut", StartNs: 10 * sec}}
	if f := CheckAckedSurvivedFaults(j, bad, open, "power cut"); f.Samples != 0 {
		t.Fatalf("an open window (the fault never ended) judges nothing: %s", f)
	}
}

func TestServedDuringOutageFailsOnARefusalOrASlowAnswerInsideTheWindow(t *testing.T) {
	blackout := []history.Window{{ID: 1, Fault: "KARMA hanging", StartNs: 10 * sec, EndNs: 20 * sec}}
	good := []history.Op{
		consumeOp(1, "k1", 11*sec, 11*sec+int64(50*time.Millisecond), history.OK),
		consumeOp(2, "k2", 12*sec, 12*sec+int64(100*time.Millisecond), history.Replayed),
		consumeOp(3, "k3", 25*sec, 30*sec, history.Unknown), // after the outage: not judged
	}
	f := CheckServedDuringOutage(good, blackout, 500*time.Millisecond, "KARMA hanging")
	if !f.OK || f.Samples != 2 {
		t.Fatalf("consumes all served inside the window must pass, judging 2: %s", f)
	}
	refused := consumeOp(4, "k4", 13*sec, 13*sec+int64(time.Millisecond), history.Unknown)
	refused.Status = 503
	slow := consumeOp(5, "k5", 14*sec, 16*sec, history.OK)
	f = CheckServedDuringOutage(append(good, refused, slow), blackout, 500*time.Millisecond, "KARMA hanging")
	if f.OK || f.ViolationCount != 2 || !strings.Contains(f.Violations[0], "unknown 503") || !strings.Contains(f.Violations[1], "after 2s") {
		t.Fatalf("a 503 and a 2 s answer during the outage must fail: %s", f)
	}
	if f := CheckServedDuringOutage(good, nil, time.Second); f.Samples != 0 {
		t.Fatalf("no window judges nothing: %s", f)
	}
}
