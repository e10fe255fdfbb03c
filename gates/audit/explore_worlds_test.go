package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// dirtyReadRun: agent a has 100; three consumes of 40 race (group 1): #1
// accepted, #2 refused insufficient_credits, #3 interrupted by a power cut
// (#4) that lands right after #2's refusal; #5 resends #3's key after the
// restart. fresh: #5 executed afresh (not replayed) — so #3 never
// happened, and #2's refusal saw a balance that was never durable.
func dirtyReadRun(fresh bool) ExploreRun {
	t0 := time.Now().UnixNano()
	at := func(ms int) int64 { return t0 + int64(ms)*int64(time.Millisecond) }
	cs := []ExploreCommand{
		{Method: "POST", Path: "/api/credits/agents", Body: json.RawMessage(`{"agent_id":"a","skill_level":1}`), Token: "t-op",
			Status: 200, Resp: json.RawMessage(`{"balance":100}`), CallNs: at(0), ReturnNs: at(1)},
		{Method: "POST", Path: "/api/credits/consume", Body: json.RawMessage(`{"agent_id":"a","amount":40}`), Token: "t-op", Key: "k1",
			Status: 200, Resp: json.RawMessage(`{"amount":40,"balance_after":60}`), CallNs: at(2), ReturnNs: at(3), Group: 1},
		{Method: "POST", Path: "/api/credits/consume", Body: json.RawMessage(`{"agent_id":"a","amount":40}`), Token: "t-op", Key: "k2",
			Status: 409, Resp: json.RawMessage(`{"code":"insufficient_credits"}`), CallNs: at(2), ReturnNs: at(4), Group: 1},
		{Method: "POST", Path: "/api/credits/consume", Body: json.RawMessage(`{"agent_id":"a","amount":40}`), Token: "t-op", Key: "k3",
			Err: "connection reset", CallNs: at(2), ReturnNs: at(6), Group: 1},
		{Fault: "power cut", Note: "right after the refusal of #2", CallNs: at(5), ReturnNs: at(50)},
		{Method: "POST", Path: "/api/credits/consume", Body: json.RawMessage(`{"agent_id":"a","amount":40}`), Token: "t-op", Key: "k3",
			RetryOf: 3, Status: 200, Resp: json.RawMessage(`{"amount":40,"balance_after":20}`), Replayed: true, CallNs: at(51), ReturnNs: at(52)},
		{Method: "GET", Path: "/api/credits/balance/a", Token: "t-op", Status: 200, Resp: json.RawMessage(`{"balance":20}`),
			CallNs: at(53), ReturnNs: at(54), Final: true},
	}
	if fresh {
		cs[5].Replayed = false
	}
	for i := range cs {
		cs[i].N = i
		if i != 5 {
			cs[i].RetryOf = -1
		}
	}
	return ExploreRun{Seed: 9, Settings: ExploreSettings{ThresholdMilli: 500_000, HighMilli: 5_000_000, CriticalMilli: 50_000_000,
		TimeoutMedium: time.Hour, TimeoutHigh: time.Hour, TimeoutCritical: time.Hour, MaxAmountMilli: 1_000_000_000},
		Principals: []ExplorePrincipal{{"op", "operator", "t-op"}}, Commands: cs}
}

func TestExploreJudgeAcceptsARaceWhoseInterruptedMemberReplays(t *testing.T) {
	for _, f := range JudgeExplore(dirtyReadRun(false)) {
		if !f.OK {
			t.Errorf("a correct engine failed: %s", f)
		}
	}
}

func TestExploreJudgeCatchesARefusalWhoseCauseWasNeverDurable(t *testing.T) {
	f := findingOf(JudgeExplore(dirtyReadRun(true)), CheckB47)
	if f.OK {
		t.Fatalf("a refusal that saw a lost consume passed: %s", f)
	}
	if !strings.Contains(f.Detail, "shortest failing prefix: commands #0..#5") || !strings.Contains(f.Detail, "seed 9") {
		t.Errorf("the shrunk repro is not the prefix up to the resend: %s", f.Detail)
	}
}

// Any serial order consistent with the answers: #2 answered before #1 in
// time but the balances say #1 went first.
func TestExploreJudgeAcceptsAnyOrderOfAConcurrentGroup(t *testing.T) {
	run := dirtyReadRun(false)
	run.Commands[1], run.Commands[2] = run.Commands[2], run.Commands[1]
	run.Commands[1].N, run.Commands[2].N = 1, 2
	for _, f := range JudgeExplore(run) {
		if !f.OK {
			t.Errorf("a reordered group failed: %s", f)
		}
	}
	// Two acceptances leaving 60 each are explained by no order.
	run.Commands[1].Status, run.Commands[1].Resp = 200, json.RawMessage(`{"amount":40,"balance_after":60}`)
	if f := findingOf(JudgeExplore(run), CheckB47); f.OK {
		t.Errorf("two debits both answering balance_after 60 passed")
	}
}

// An answer acknowledged before a kill -9 must survive it.
func TestExploreJudgeFailsAnAcknowledgementLostByAKill(t *testing.T) {
	run := dirtyReadRun(false)
	run.Commands[4].Fault = "kill -9"
	run.Commands[6].Resp = json.RawMessage(`{"balance":60}`) // #1 and #3 gone
	if f := findingOf(JudgeExplore(run), CheckB48); f.OK {
		t.Errorf("a final balance without acknowledged consumes passed")
	}
}

// concurrentRetryRun: agent a has 100; a consume of 40 (#1) and a retry of
// its key sent while it is in flight (#2, group 1) both answer; then the
// final balance.
func concurrentRetryRun(retryEvent, retryAfter, final string, retryReplayed bool) ExploreRun {
	run := dirtyReadRun(false)
	cs := run.Commands
	cs[1].Resp = json.RawMessage(`{"amount":40,"balance_after":60,"event_id":"e1"}`)
	run.Commands = []ExploreCommand{cs[0], cs[1],
		{N: 2, Method: "POST", Path: "/api/credits/consume", Body: cs[1].Body, Token: "t-op", Key: "k1", RetryOf: 1,
			Status: 200, Resp: json.RawMessage(`{"amount":40,"balance_after":` + retryAfter + `,"event_id":"` + retryEvent + `"}`), Replayed: retryReplayed,
			CallNs: cs[1].CallNs, ReturnNs: cs[1].ReturnNs, Group: 1},
		{N: 3, RetryOf: -1, Method: "GET", Path: "/api/credits/balance/a", Token: "t-op", Status: 200,
			Resp: json.RawMessage(`{"balance":` + final + `}`), Final: true},
	}
	return run
}

// A retry sent while its original is in flight is one execution with it,
// whichever of the two the backend took first; a key executed twice is
// explained by no order (the retry is never taken to run before its
// original, where both would be fresh executions).
func TestExploreJudgeFailsAKeyExecutedTwiceByAConcurrentRetry(t *testing.T) {
	for _, f := range JudgeExplore(concurrentRetryRun("e1", "60", "60", true)) {
		if !f.OK {
			t.Errorf("a concurrent retry answered with the replay failed: %s", f)
		}
	}
	// The backend took the retry first: the original is the replay.
	run := concurrentRetryRun("e1", "60", "60", false)
	run.Commands[1].Replayed = true
	for _, f := range JudgeExplore(run) {
		if !f.OK {
			t.Errorf("a concurrent retry the backend took first failed: %s", f)
		}
	}
	if f := findingOf(JudgeExplore(concurrentRetryRun("e2", "20", "20", false)), CheckB47); f.OK {
		t.Errorf("a key executed twice (balance 100 → 60 → 20) passed")
	}
	// Executed twice, the retry first: its answer leaves 60, the
	// original's 20.
	run = concurrentRetryRun("e2", "60", "20", false)
	run.Commands[1].Resp = json.RawMessage(`{"amount":40,"balance_after":20,"event_id":"e1"}`)
	if f := findingOf(JudgeExplore(run), CheckB47); f.OK {
		t.Errorf("a key executed twice, the retry before its original, passed")
	}
}
