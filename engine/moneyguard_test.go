package engine_test

import (
	"context"
	"testing"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
)

// Issue 9, defect 1: an operator refunded 1,000,000,000 credits with no link
// to any consumption. A refund naming nothing is now refused at or above the
// approval threshold, and nothing is journaled.
func TestUnreferencedRefundAtOrAboveTheThresholdIsRefused(t *testing.T) {
	path := journalPath(t)
	e := openEngine(t, testConfig(t, path))
	defer e.Close()
	ctx := context.Background()
	mustCreate(t, e, "a", 0.5)
	before := balance(t, e, "a")
	for _, amount := range []int64{credits(1_000_000_000), credits(500)} {
		_, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: amount, Reason: "r"})
		if ruleCode(err) != engine.CodeApprovalRequired {
			t.Fatalf("refund of %d milli without a reference: err = %v, want %s", amount, err, engine.CodeApprovalRequired)
		}
	}
	// A mission_id the engine never started names nothing: 404, at any
	// amount (it used to succeed below the threshold).
	for _, amount := range []int64{credits(600), 1} {
		_, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: amount, MissionID: "free-text"})
		if ruleCode(err) != engine.CodeNotFound {
			t.Fatalf("refund of %d milli naming an unknown mission: err = %v, want %s", amount, err, engine.CodeNotFound)
		}
	}
	if got := balance(t, e, "a"); got != before {
		t.Fatalf("balance %d after refused refunds, want %d", got, before)
	}
	if n := len(ofType(readJournal(t, path), event.CreditRefunded)); n != 0 {
		t.Fatalf("%d credit.refunded journaled by refused refunds", n)
	}
	// Below the threshold an unreferenced refund applies, as an add would.
	if _, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(499.999), Reason: "r"}); err != nil {
		t.Fatalf("refund below the threshold: %v", err)
	}
}

// A refund naming a mission is bounded by the mission's consumed − refunded,
// counting the mission's own end refund, and the end refund is bounded by
// the direct refunds made before it: the total never exceeds the estimate.
func TestMissionRefundsNeverExceedWhatTheMissionConsumed(t *testing.T) {
	e := openEngine(t, testConfig(t, journalPath(t)))
	defer e.Close()
	ctx := context.Background()
	mustCreate(t, e, "a", 1)
	mustCreate(t, e, "b", 1)
	start := balance(t, e, "a")
	if _, err := e.StartMission(ctx, as("op", ""), engine.MissionInput{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}); err != nil {
		t.Fatal(err)
	}
	m, err := e.Mission("m1")
	if err != nil {
		t.Fatal(err)
	}
	est := m.ConsumedMilli
	if _, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: est + 1, MissionID: "m1"}); ruleCode(err) != engine.CodeRefundExceedsConsumed {
		t.Fatalf("refund above the estimate: err = %v, want %s", err, engine.CodeRefundExceedsConsumed)
	}
	if _, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "b", AmountMilli: 1, MissionID: "m1"}); ruleCode(err) != engine.CodeInvalid {
		t.Fatalf("refund of another agent's mission: err = %v, want %s", err, engine.CodeInvalid)
	}
	if _, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: est - 1000, MissionID: "m1"}); err != nil {
		t.Fatalf("refund within the mission's consumption: %v", err)
	}
	// Cancel refunds "everything consumed", but only 1 credit is left.
	if _, err := e.EndMission(ctx, as("op", ""), event.MissionCancelled, engine.MissionInput{MissionID: "m1"}); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, e, "a"); got != start {
		t.Fatalf("balance after start, refunds and cancel = %d, want the starting %d", got, start)
	}
	if _, err := e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: 1, MissionID: "m1"}); ruleCode(err) != engine.CodeRefundExceedsConsumed {
		t.Fatalf("refund of a fully refunded mission: err = %v, want %s", err, engine.CodeRefundExceedsConsumed)
	}
}

// Issue 9, defect 1 (pools): a pool refund of any size followed by closing
// the pool with refund_to paid an agent unbacked credits. A pool refund is
// now bounded by what members consumed from the pool.
func TestPoolRefundThenCloseCannotMintCredits(t *testing.T) {
	e := openEngine(t, testConfig(t, journalPath(t)))
	defer e.Close()
	ctx := context.Background()
	mustCreate(t, e, "a", 0.5)
	before := balance(t, e, "a")
	if _, err := e.CreatePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p", Members: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.PoolMove(ctx, as("op", ""), event.PoolRefunded, engine.PoolInput{PoolID: "p", AmountMilli: credits(1_000_000)})
	if ruleCode(err) != engine.CodeRefundExceedsConsumed {
		t.Fatalf("refund into an unused pool: err = %v, want %s", err, engine.CodeRefundExceedsConsumed)
	}
	for _, step := range []struct {
		typ    event.Type
		amount int64
	}{{event.PoolAllocated, credits(100)}, {event.PoolConsumed, credits(30)}, {event.PoolRefunded, credits(30)}} {
		if _, err := e.PoolMove(ctx, as("op", ""), step.typ, engine.PoolInput{PoolID: "p", AgentID: "a", AmountMilli: step.amount}); err != nil {
			t.Fatalf("%s %d: %v", step.typ, step.amount, err)
		}
	}
	if _, err := e.PoolMove(ctx, as("op", ""), event.PoolRefunded, engine.PoolInput{PoolID: "p", AmountMilli: 1}); ruleCode(err) != engine.CodeRefundExceedsConsumed {
		t.Fatalf("second refund of the same consumption: err = %v, want %s", err, engine.CodeRefundExceedsConsumed)
	}
	if _, err := e.ClosePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p", AgentID: "a"}); err != nil {
		t.Fatal(err)
	}
	if got, want := balance(t, e, "a"), before+credits(100); got != want {
		t.Fatalf("agent balance after close = %d, want %d (only what was allocated)", got, want)
	}
}

// A synergie reward is at most 1.5 × base; a configuration where that
// reaches the approval threshold is refused at startup.
func TestSynergieBaseMustStayBelowTheApprovalThreshold(t *testing.T) {
	cfg := testConfig(t, journalPath(t))
	cfg.Synergie.BaseMilli = cfg.Approval.ThresholdMilli
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepted a synergie base whose reward reaches the approval threshold")
	}
}

// Issue 9, defect 2, at the engine's own boundary: a key outside the
// documented alphabet (here invalid UTF-8, which the journal would store as
// U+FFFD) is refused before the command runs, so two such keys can never
// collapse into one journaled key that a retry after a restart misses.
func TestEngineRefusesIdempotencyKeysOutsideTheAlphabet(t *testing.T) {
	path := journalPath(t)
	e := openEngine(t, testConfig(t, path))
	mustCreate(t, e, "a", 0.5)
	for _, key := range []string{"k-\xff", "k-\xfe", "k#1", "k é"} {
		_, err := e.Consume(context.Background(), as("op", key), engine.CreditInput{AgentID: "a", AmountMilli: 1})
		if ruleCode(err) != engine.CodeInvalid {
			t.Fatalf("key %q: err = %v, want %s", key, err, engine.CodeInvalid)
		}
	}
	if _, err := e.Consume(context.Background(), as("op", "k-1"), engine.CreditInput{AgentID: "a", AmountMilli: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(ofType(readJournal(t, path), event.CreditConsumed)); n != 1 {
		t.Fatalf("%d consumes journaled, want only the one with a valid key", n)
	}
	// After a restart the valid key is still known: a retry is a replay.
	e = openEngine(t, testConfig(t, path))
	defer e.Close()
	res, err := e.Consume(context.Background(), as("op", "k-1"), engine.CreditInput{AgentID: "a", AmountMilli: 1})
	if err != nil || !res.Replayed {
		t.Fatalf("retry after restart: replayed=%v err=%v, want a replay", res.Replayed, err)
	}
}

// Issue 18: three allocations just below the threshold, gathered into one
// pool by transfers, were paid to an agent by close in one event, above the
// threshold and without approval. Close now bounds its payout like every
// other credit-creating path.
func TestPoolCloseNeverPaysAnAgentTheThresholdWithoutApproval(t *testing.T) {
	path := journalPath(t)
	e := openEngine(t, testConfig(t, path))
	defer e.Close()
	ctx := context.Background()
	mustCreate(t, e, "a", 0.5)
	before := balance(t, e, "a")
	for _, id := range []string{"p1", "p2", "p3"} {
		if _, err := e.CreatePool(ctx, as("op", ""), engine.PoolInput{PoolID: id, Name: id, Members: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.PoolMove(ctx, as("op", ""), event.PoolAllocated, engine.PoolInput{PoolID: id, AmountMilli: credits(499.999), Reason: "fund"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, from := range []string{"p2", "p3"} {
		if _, err := e.PoolMove(ctx, as("op", ""), event.PoolTransferred, engine.PoolInput{PoolID: from, ToPoolID: "p1", AmountMilli: credits(499.999), Reason: "gather"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.ClosePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p1", AgentID: "a"})
	if ruleCode(err) != engine.CodeApprovalRequired {
		t.Fatalf("close paying 1,499.997 credits to an agent: err = %v, want %s", err, engine.CodeApprovalRequired)
	}
	if got := balance(t, e, "a"); got != before {
		t.Fatalf("balance %d after the refused close, want %d", got, before)
	}
	// Below the threshold the remainder is paid as before.
	if _, err := e.ClosePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p2", AgentID: "a"}); err != nil {
		t.Fatalf("close of an empty pool: %v", err)
	}
}
