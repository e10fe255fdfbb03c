package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/faultfs"
	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/event"
)

func TestConcurrentConsumesNeverOverdrawAndNeverLoseAnUpdate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		goroutines int
		amount     int64 // milli; the agent starts with 100 credits
	}{
		{"64 racers, 3 credits, K=33", 64, credits(3)},
		{"64 racers, 7.5 credits, K=13", 64, credits(7.5)},
		{"128 racers, 0.9 credits, K=111", 128, credits(0.9)},
		{"16 racers, 100 credits, K=1", 16, credits(100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := journalPath(t)
			e := openEngine(t, testConfig(t, path))
			defer e.Close()
			mustCreate(t, e, "a", 1.0)
			start := balance(t, e, "a")
			want := int(start / tc.amount)

			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, insufficient := 0, 0
			var other []error
			gate := make(chan struct{})
			for i := 0; i < tc.goroutines; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					_, err := e.Consume(context.Background(), as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: tc.amount, Reason: "race"})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case ruleCode(err) == engine.CodeInsufficientCredits:
						insufficient++
					default:
						other = append(other, err)
					}
				}()
			}
			close(gate)
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("unexpected errors: %v", other)
			}
			if ok != want || insufficient != tc.goroutines-want {
				t.Fatalf("succeeded %d (want exactly %d), insufficient_credits %d (want %d)", ok, want, insufficient, tc.goroutines-want)
			}
			final := balance(t, e, "a")
			if final != start-int64(want)*tc.amount || final < 0 {
				t.Fatalf("final balance %d, want %d (never negative)", final, start-int64(want)*tc.amount)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			evs := readJournal(t, path)
			consumed := ofType(evs, event.CreditConsumed)
			var debit int64
			lastAfter := start
			for _, ev := range consumed {
				var c event.Credit
				_ = json.Unmarshal(ev.Payload, &c)
				debit += c.AmountMilli
				if c.BalanceAfterMilli != lastAfter-c.AmountMilli || c.BalanceAfterMilli < 0 {
					t.Fatalf("seq %d: balance_after %d does not follow %d − %d", ev.Seq, c.BalanceAfterMilli, lastAfter, c.AmountMilli)
				}
				lastAfter = c.BalanceAfterMilli
			}
			if len(consumed) != want || debit != int64(want)*tc.amount {
				t.Fatalf("journal has %d consumes debiting %d, want %d debiting %d", len(consumed), debit, want, int64(want)*tc.amount)
			}
			if got := foldBalances(t, evs)["a"]; got != final {
				t.Fatalf("fold of the journal %d != engine balance %d", got, final)
			}
		})
	}
}

func TestIdempotencyKeyMapsToExactlyOneTransaction(t *testing.T) {
	ctx := context.Background()
	path := journalPath(t)
	e := openEngine(t, testConfig(t, path))
	mustCreate(t, e, "a", 1.0)
	in := engine.CreditInput{AgentID: "a", AmountMilli: credits(2), Reason: "r"}

	first, err := e.Consume(ctx, as("op", "k1"), in)
	if err != nil || first.Replayed {
		t.Fatalf("first consume: %v replayed=%v", err, first.Replayed)
	}
	t.Run("same key, same request: original event, replayed", func(t *testing.T) {
		again, err := e.Consume(ctx, as("op", "k1"), in)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || again.Primary().EventID != first.Primary().EventID {
			t.Fatalf("retry: replayed=%v event %s, want replayed original %s", again.Replayed, again.Primary().EventID, first.Primary().EventID)
		}
	})
	t.Run("same key, different request: idempotency_key_conflict", func(t *testing.T) {
		r := as("op", "k1")
		r.RequestHash = "something else"
		_, err := e.Consume(ctx, r, engine.CreditInput{AgentID: "a", AmountMilli: credits(3), Reason: "r"})
		if ruleCode(err) != engine.CodeIdempotencyConflict {
			t.Fatalf("got %v, want %s", err, engine.CodeIdempotencyConflict)
		}
	})
	t.Run("32 concurrent duplicates resolve to one event", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]string, 32)
		errs := make([]error, 32)
		gate := make(chan struct{})
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				res, err := e.Consume(ctx, as("op", "dup"), in)
				errs[i] = err
				if err == nil {
					ids[i] = res.Primary().EventID
				}
			}()
		}
		close(gate)
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("duplicate %d: err=%v id=%s, want %s", i, errs[i], ids[i], ids[0])
			}
		}
	})
	agent, err := e.CreateAgent(ctx, as("op", "agent-b"), "b", 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	keys := map[string]int{}
	for _, ev := range readJournal(t, path) {
		keys[ev.IdempotencyKey]++
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("idempotency key %q is %d times in the journal", k, n)
		}
	}
	if keys["dup"] != 1 || keys["k1"] != 1 {
		t.Fatalf("want keys dup and k1 once each, got %d and %d", keys["dup"], keys["k1"])
	}

	t.Run("keys survive a restart", func(t *testing.T) {
		e2 := openEngine(t, testConfig(t, path))
		defer e2.Close()
		res, err := e2.Consume(ctx, as("op", "k1"), in)
		if err != nil || !res.Replayed || res.Primary().EventID != first.Primary().EventID {
			t.Fatalf("after restart: err=%v replayed=%v id=%v, want original %s", err, res.Replayed, res.Events, first.Primary().EventID)
		}
		// A multi-event transaction replays whole: the same events, in order.
		res, err = e2.CreateAgent(ctx, as("op", "agent-b"), "b", 0.3)
		if err != nil || !res.Replayed || len(res.Events) != len(agent.Events) {
			t.Fatalf("create-agent replay after restart: err=%v replayed=%v events=%d, want %d", err, res.Replayed, len(res.Events), len(agent.Events))
		}
		for i := range res.Events {
			if res.Events[i].EventID != agent.Events[i].EventID {
				t.Fatalf("event %d: %s, want %s", i, res.Events[i].EventID, agent.Events[i].EventID)
			}
		}
		r := as("op", "k1")
		r.RequestHash = "different"
		if _, err := e2.Consume(ctx, r, in); ruleCode(err) != engine.CodeIdempotencyConflict {
			t.Fatalf("conflict after restart: got %v", err)
		}
	})
}

// TestReplayEqualsLive drives every command family, with a fake clock that
// expires approvals and closes EoC windows, and requires the digest of the
// replayed state to equal the live one, twice.
func TestReplayEqualsLive(t *testing.T) {
	ctx := context.Background()
	path := journalPath(t)
	clock := newFakeClock()
	cfg := testConfig(t, path)
	cfg.Clock = clock
	cfg.Approval.MediumTimeout = time.Minute
	e := openEngine(t, cfg)
	must := func(_ engine.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		mustCreate(t, e, id, 0.2*float64(i+1))
	}
	// A norm of 1 credit, then consumes at 10× and 50× it: flagged.
	for i := 0; i < 8; i++ {
		must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "e", AmountMilli: credits(1), Reason: "norm"}))
		clock.Advance(3 * time.Second) // EoC windows (10s) close along the way
	}
	res, err := e.Consume(ctx, as("op", "spike"), engine.CreditInput{AgentID: "e", AmountMilli: credits(10), Reason: "spike"})
	must(res, err)
	if res.Primary().Metadata == nil || !res.Primary().Metadata.AnomalyDetected {
		t.Fatalf("10× consume not flagged: %+v", res.Primary().Metadata)
	}
	must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "e", AmountMilli: credits(50), Reason: "spike2"}))
	must(e.Refund(ctx, as("op", ""), engine.CreditInput{AgentID: "e", AmountMilli: credits(5), Reason: "refund"}))
	must(e.Add(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(20), Reason: "add"}))
	must(e.Withdraw(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "w"}))

	// Approvals: approved, rejected, critical with two votes, and expired
	// both by the sweep and lazily on a late decision.
	approval := func(amount float64, action, just string) string {
		t.Helper()
		res, err := e.RequestApproval(ctx, as("alice", ""), engine.ApprovalInput{ActionType: action, AgentID: "b",
			AmountMilli: credits(amount), Reason: "big", Justification: just})
		must(res, err)
		var ap event.Approval
		_ = json.Unmarshal(res.Primary().Payload, &ap)
		return ap.RequestID
	}
	must(e.Approve(ctx, as("bob", ""), engine.DecisionInput{RequestID: approval(600, "add", "")}))
	must(e.Reject(ctx, as("bob", ""), engine.DecisionInput{RequestID: approval(700, "add", ""), Justification: "no"}))
	crit := approval(60_000, "add", "needed")
	must(e.Approve(ctx, as("bob", ""), engine.DecisionInput{RequestID: crit, Justification: "ok"}))
	must(e.Approve(ctx, as("carol", ""), engine.DecisionInput{RequestID: crit, Justification: "ok too"}))
	must(e.Withdraw(ctx, as("alice", ""), engine.CreditInput{AgentID: "b", AmountMilli: credits(600), Reason: "gated"}))
	lazy := approval(800, "add", "")
	swept := approval(900, "add", "")
	_ = swept
	clock.Advance(2 * time.Minute)
	if _, err := e.Approve(ctx, as("bob", ""), engine.DecisionInput{RequestID: lazy}); ruleCode(err) != engine.CodeAlreadyDecided {
		t.Fatalf("late decision: got %v, want already_decided", err)
	}
	if n, err := e.ExpireDue(ctx); err != nil || n < 1 {
		t.Fatalf("ExpireDue = %d, %v; want ≥ 1 expired", n, err)
	}

	// Synergie with the cap reached, and a duplicate.
	for i := 0; i < 15; i++ {
		must(e.RecordCollaboration(ctx, as("op", ""), engine.CollaborationInput{CollaborationID: fmt.Sprintf("col-%d", i),
			TeamID: "alpha", AgentIDs: []string{"a", "b", "c"}, ContributionScores: map[string]float64{"a": 1, "b": 0.5, "c": 0.25}}))
	}
	must(e.RecordCollaboration(ctx, as("op", ""), engine.CollaborationInput{CollaborationID: "col-0",
		TeamID: "alpha", AgentIDs: []string{"a", "b"}, ContributionScores: map[string]float64{"a": 1, "b": 0.5}}))

	// Pools.
	must(e.CreatePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p1", Name: "one", Members: []string{"a", "b"}}))
	must(e.CreatePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p2", Members: []string{"c"}}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolAllocated, engine.PoolInput{PoolID: "p1", AmountMilli: credits(100)}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolConsumed, engine.PoolInput{PoolID: "p1", AgentID: "a", AmountMilli: credits(10)}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolRefunded, engine.PoolInput{PoolID: "p1", AgentID: "a", AmountMilli: credits(2)}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolTransferred, engine.PoolInput{PoolID: "p1", ToPoolID: "p2", AmountMilli: credits(30)}))
	must(e.PoolMember(ctx, as("op", ""), engine.PoolInput{PoolID: "p1", AgentID: "c"}, true))
	must(e.PoolMember(ctx, as("op", ""), engine.PoolInput{PoolID: "p1", AgentID: "b"}, false))
	must(e.ClosePool(ctx, as("op", ""), engine.PoolInput{PoolID: "p2", AgentID: "c"}))

	// Missions: each ending.
	for i, end := range []event.Type{event.MissionCompleted, event.MissionFailed, event.MissionCancelled} {
		id := fmt.Sprintf("m-%d", i)
		must(e.StartMission(ctx, as("op", ""), engine.MissionInput{MissionID: id, AgentID: "d", MissionType: "research", Complexity: "high"}))
		must(e.EndMission(ctx, as("op", ""), end, engine.MissionInput{MissionID: id, ActualMilli: credits(12)}))
		must(e.RateMission(ctx, as("op", ""), engine.MissionInput{MissionID: id, Rating: 0.7}))
	}
	clock.Advance(time.Minute)
	must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "d", AmountMilli: credits(1), Reason: "tick"}))

	liveSeq, live, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	liveEoC, _ := e.EoC()
	liveBalances, _ := e.Balances()
	liveState := snapshot(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	evs := readJournal(t, path)
	for _, typ := range []event.Type{event.EoCRegulated, event.ApprovalExpired, event.ApprovalVoteRecorded, event.ApprovalApproved,
		event.ApprovalRejected, event.SynergieRewardCapped, event.PoolClosed, event.MissionFailed, event.MissionRated} {
		if len(ofType(evs, typ)) == 0 {
			t.Errorf("workload wrote no %s event; the replay check would be vacuous for it", typ)
		}
	}
	if fold := foldBalances(t, evs); fmt.Sprint(fold) != fmt.Sprint(liveBalances) {
		t.Errorf("independent fold %v != live balances %v", fold, liveBalances)
	}

	for round := 1; round <= 2; round++ {
		e2 := openEngine(t, cfg)
		seq, d, err := e2.Digest()
		if err != nil {
			t.Fatal(err)
		}
		eocNow, _ := e2.EoC()
		replayed := snapshot(t, e2)
		_ = e2.Close()
		requireSameState(t, fmt.Sprintf("reopen %d", round), liveState, replayed)
		if seq != liveSeq || d != live {
			t.Fatalf("reopen %d: digest %d/%s, live %d/%s", round, seq, d, liveSeq, live)
		}
		if fmt.Sprint(eocNow) != fmt.Sprint(liveEoC) {
			t.Fatalf("reopen %d: EoC %+v, live %+v", round, eocNow, liveEoC)
		}
	}
}

func TestSynergieCapsEachAgentPerTeamAndJournalsTheWithheldPart(t *testing.T) {
	ctx := context.Background()
	path := journalPath(t)
	cfg := testConfig(t, path)
	e := openEngine(t, cfg)
	team := []string{"s1", "s2", "s3", "s4", "s5"}
	for _, id := range team {
		mustCreate(t, e, id, 0.5)
	}
	want := map[string]int64{} // sum of uncapped rewards per agent
	for i := 0; i < 100; i++ {
		scores := map[string]float64{}
		for j, id := range team {
			scores[id] = float64((i+j)%10+1) / 10
			want[id] += engine.RewardMilli(cfg.Synergie.BaseMilli, scores[id], 0.5) // no scorer: fallback 0.5
		}
		if _, err := e.RecordCollaboration(ctx, as("op", ""), engine.CollaborationInput{CollaborationID: fmt.Sprintf("c%d", i),
			TeamID: "alpha", MissionID: "m", AgentIDs: team, ContributionScores: scores}); err != nil {
			t.Fatal(err)
		}
	}
	before := len(readJournal(t, path))
	res, err := e.RecordCollaboration(ctx, as("op", ""), engine.CollaborationInput{CollaborationID: "c7",
		TeamID: "alpha", AgentIDs: team[:2], ContributionScores: map[string]float64{"s1": 1, "s2": 1}})
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("duplicate collaboration_id: err=%v events=%d, want no events", err, len(res.Events))
	}
	for _, ids := range [][]string{{"s1"}, {"s1", "s1"}, {}} {
		_, err := e.RecordCollaboration(ctx, as("op", ""), engine.CollaborationInput{CollaborationID: "solo",
			TeamID: "alpha", AgentIDs: ids, ContributionScores: map[string]float64{"s1": 1}})
		if ruleCode(err) != engine.CodeInvalid {
			t.Fatalf("team %v: got %v, want invalid (422)", ids, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	evs := readJournal(t, path)
	if len(evs) != before {
		t.Fatalf("duplicate or invalid collaborations wrote %d events", len(evs)-before)
	}
	granted, capped := map[string]int64{}, map[string]int64{}
	for _, ev := range evs {
		var r event.Reward
		switch ev.EventType {
		case event.SynergieRewardGranted:
			_ = json.Unmarshal(ev.Payload, &r)
			granted[r.AgentID] += r.AmountMilli
		case event.SynergieRewardCapped:
			_ = json.Unmarshal(ev.Payload, &r)
			capped[r.AgentID] += r.AmountMilli
		default:
			continue
		}
		if ev.CausationID == nil {
			t.Fatalf("seq %d %s has no causation", ev.Seq, ev.EventType)
		}
	}
	for _, id := range team {
		if granted[id] > cfg.Synergie.CapMilli {
			t.Errorf("%s earned %d milli from synergie, above the cap %d", id, granted[id], cfg.Synergie.CapMilli)
		}
		wantGranted := min(want[id], cfg.Synergie.CapMilli)
		if granted[id] != wantGranted || capped[id] != want[id]-wantGranted {
			t.Errorf("%s: granted %d capped %d, want %d and %d (formula total %d)", id, granted[id], capped[id], wantGranted, want[id]-wantGranted, want[id])
		}
	}
	if len(ofType(evs, event.SynergieRewardCapped)) == 0 {
		t.Fatal("no reward_capped events although the cap was reached")
	}
}

// Anomaly detector doubles.
type panicChecker struct{}

func (panicChecker) Check(string, int64) anomaly.Verdict { panic("detector exploded") }
func (panicChecker) Observe(string, int64)               { panic("detector exploded") }

type nanChecker struct{}

func (nanChecker) Check(string, int64) anomaly.Verdict {
	return anomaly.Verdict{Detected: true, Score: math.NaN(), Reason: anomaly.ReasonZScore}
}
func (nanChecker) Observe(string, int64) {}

func TestAnomalyIsFlaggedNeverBlocked(t *testing.T) {
	ctx := context.Background()
	t.Run("10× the norm succeeds with anomaly_detected", func(t *testing.T) {
		e := openEngine(t, testConfig(t, journalPath(t)))
		defer e.Close()
		mustCreate(t, e, "a", 1)
		for i := 0; i < 6; i++ {
			if _, err := e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "n"}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(10), Reason: "spike"})
		if err != nil {
			t.Fatalf("anomalous consume was refused: %v", err)
		}
		m := res.Primary().Metadata
		if m == nil || !m.AnomalyDetected || m.AnomalyScore == nil || m.AnomalyReason == "" {
			t.Fatalf("metadata %+v, want anomaly_detected with score and reason", m)
		}
	})
	for _, tc := range []struct {
		name    string
		checker anomaly.Checker
	}{
		{"panicking detector", panicChecker{}},
		{"NaN detector", nanChecker{}},
	} {
		t.Run(tc.name+" marks the consume unavailable and lets it through", func(t *testing.T) {
			path := journalPath(t)
			cfg := testConfig(t, path)
			cfg.Checker = tc.checker
			e := openEngine(t, cfg)
			mustCreate(t, e, "a", 1)
			for i := 0; i < 3; i++ {
				res, err := e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(5), Reason: "x"})
				if err != nil {
					t.Fatalf("consume failed because the detector failed: %v", err)
				}
				if m := res.Primary().Metadata; m == nil || m.AnomalyDetector != "unavailable" || m.AnomalyDetected {
					t.Fatalf("metadata %+v, want anomaly_detector=unavailable", m)
				}
			}
			if got := balance(t, e, "a"); got != credits(85) {
				t.Fatalf("balance %d, want 85 credits", got)
			}
			_, live, _ := e.Digest()
			_ = e.Close()
			// Replay folds through the same failing detector and still opens.
			e2 := openEngine(t, cfg)
			defer e2.Close()
			if _, d, _ := e2.Digest(); d != live {
				t.Fatalf("digest after replay %s != live %s", d, live)
			}
		})
	}
}

func TestJournalSyncFailureIsStickyAndFailsTheEngine(t *testing.T) {
	ctx := context.Background()
	path := journalPath(t)
	fs := faultfs.New(nil, nil)
	cfg := testConfig(t, path)
	cfg.Journal.NoSync = false
	cfg.Journal.FS = fs
	e := openEngine(t, cfg)
	defer e.Close()
	mustCreate(t, e, "a", 1)
	in := engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "x"}
	if _, err := e.Consume(ctx, as("op", ""), in); err != nil {
		t.Fatal(err)
	}
	fs.SetInjector(faultfs.Always(faultfs.OpSync, faultfs.ErrInjected))
	if _, err := e.Consume(ctx, as("op", "k"), in); !errors.Is(err, engine.ErrJournalFailed) {
		t.Fatalf("consume during a sync failure: %v, want ErrJournalFailed", err)
	}
	fs.SetInjector(nil) // the disk "recovers": the engine must stay failed
	for _, f := range []func() error{
		func() error { _, err := e.Consume(ctx, as("op", ""), in); return err },
		func() error { _, err := e.Consume(ctx, as("op", "k"), in); return err },
		func() error { _, err := e.Refund(ctx, as("op", ""), in); return err },
		func() error { _, err := e.Balance("a"); return err },
		func() error { _, _, err := e.Digest(); return err },
	} {
		if err := f(); !errors.Is(err, engine.ErrJournalFailed) {
			t.Fatalf("after the failure: %v, want ErrJournalFailed", err)
		}
	}
	if h := e.Health(); h.Status != "failed" || h.Journal != "failed" {
		t.Fatalf("health %+v, want failed", h)
	}
}

// A pool allocation creates credits and a closed pool pays them to an agent,
// so an allocation at or above the approval threshold would bypass the
// human gate.
func TestPoolAllocationCannotBypassTheApprovalThreshold(t *testing.T) {
	e := openEngine(t, testConfig(t, journalPath(t)))
	defer e.Close()
	ctx := context.Background()
	if _, err := e.CreatePool(ctx, engine.Request{ActorID: "op"}, engine.PoolInput{PoolID: "p"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.PoolMove(ctx, engine.Request{ActorID: "op"}, event.PoolAllocated, engine.PoolInput{PoolID: "p", AmountMilli: 500_000})
	var re *engine.RuleError
	if !errors.As(err, &re) || re.Code != engine.CodeInvalid {
		t.Fatalf("allocating 500 credits to a pool: err = %v, want %s", err, engine.CodeInvalid)
	}
	if _, err := e.PoolMove(ctx, engine.Request{ActorID: "op"}, event.PoolAllocated, engine.PoolInput{PoolID: "p", AmountMilli: 499_999}); err != nil {
		t.Fatalf("allocating below the threshold: %v", err)
	}
}

// Decided approvals beyond DecidedKeep leave memory (bounded over a soak),
// but a late decision is still already_decided, the request can still be
// read (from the journal), and replay evicts exactly the same ones.
func TestEvictedDecidedApprovalsStayDecidedAndReadable(t *testing.T) {
	path := journalPath(t)
	cfg := testConfig(t, path)
	cfg.Projection.DecidedKeep = 2
	e := openEngine(t, cfg)
	ctx := context.Background()
	req := func(actor string) engine.Request { return engine.Request{ActorID: actor} }
	if _, err := e.CreateAgent(ctx, req("op"), "a", 1); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 5; i++ {
		res, err := e.RequestApproval(ctx, req("alice"), engine.ApprovalInput{ActionType: "add", AgentID: "a", AmountMilli: 600_000, Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		var p event.Approval
		if err := json.Unmarshal(res.Primary().Payload, &p); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Approve(ctx, req("bob"), engine.DecisionInput{RequestID: p.RequestID}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.RequestID)
	}
	_, err := e.Reject(ctx, req("carol"), engine.DecisionInput{RequestID: ids[0]})
	var re *engine.RuleError
	if !errors.As(err, &re) || re.Code != engine.CodeAlreadyDecided {
		t.Fatalf("late decision on an evicted request: %v, want already_decided", err)
	}
	ap, err := e.Approval(ids[0])
	if err != nil || ap.Status != "approved" || ap.ExecutedEventID == "" || ap.DecidedBy != "bob" {
		t.Fatalf("evicted request read back: %+v, %v", ap, err)
	}
	audit, err := e.AuditApprovals(10)
	if err != nil || len(audit) != 5 {
		t.Fatalf("audit with 3 of 5 decided requests evicted: %d requests, %v; want all 5 from the journal", len(audit), err)
	}
	_, before, _ := e.Digest()
	liveState := snapshot(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openEngine(t, cfg)
	defer e2.Close()
	requireSameState(t, "after evictions", liveState, snapshot(t, e2))
	if _, after, _ := e2.Digest(); after != before {
		t.Fatalf("digest after replay %s, live %s", after, before)
	}
}

// Ledger pages older than the in-memory window are read from the journal
// and must equal what a projection that kept everything holds.
func TestLedgerPagesBeyondTheMemoryWindowEqualTheFullFold(t *testing.T) {
	path := journalPath(t)
	small := testConfig(t, path)
	small.Projection.LedgerKeep = 3
	e := openEngine(t, small)
	ctx := context.Background()
	r := engine.Request{ActorID: "op"}
	for _, id := range []string{"a", "b"} {
		if _, err := e.CreateAgent(ctx, r, id, 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := e.Consume(ctx, r, engine.CreditInput{AgentID: "a", AmountMilli: 1500, Reason: "c"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Refund(ctx, r, engine.CreditInput{AgentID: "a", AmountMilli: 500, Reason: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.RecordCollaboration(ctx, r, engine.CollaborationInput{CollaborationID: "c1", TeamID: "t",
		AgentIDs: []string{"a", "b"}, ContributionScores: map[string]float64{"a": 1, "b": 0.5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreatePool(ctx, r, engine.PoolInput{PoolID: "p", Members: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PoolMove(ctx, r, event.PoolAllocated, engine.PoolInput{PoolID: "p", AmountMilli: 7000}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ClosePool(ctx, r, engine.PoolInput{PoolID: "p", AgentID: "a"}); err != nil {
		t.Fatal(err)
	}
	paged, err := e.History("a", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	full := testConfig(t, path)
	full.Projection.LedgerKeep = 1000
	f := openEngine(t, full)
	defer f.Close()
	want, err := f.History("a", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(paged) != len(want) || len(want) != 11 {
		t.Fatalf("history of a: %d entries through the journal, %d from memory; want 11", len(paged), len(want))
	}
	for i := range want {
		g, w := paged[i], want[i]
		if g.EventID != w.EventID || g.AmountMilli != w.AmountMilli || g.BalanceAfterMilli != w.BalanceAfterMilli || g.Reason != w.Reason {
			t.Errorf("entry %d: journal page %+v, full fold %+v", i, g, w)
		}
	}
}

// A clock that steps back (NTP, a VM restored) must not stamp an event
// earlier than the one before it: A28 reads timestamps along seq.
func TestTimestampsNeverGoBackAlongSeqWhenTheClockDoes(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	cfg := testConfig(t, journalPath(t))
	cfg.Clock = clock
	e := openEngine(t, cfg)
	defer e.Close()
	mustCreate(t, e, "a", 1)
	in := engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "x"}
	first, err := e.Add(ctx, as("op", ""), in)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(-time.Hour)
	second, err := e.Consume(ctx, as("op", ""), in)
	if err != nil {
		t.Fatal(err)
	}
	if got, prev := second.Primary().Timestamp, first.Primary().Timestamp; got.Before(prev) {
		t.Fatalf("seq %d stamped %v, before seq %d's %v", second.Primary().Seq, got, first.Primary().Seq, prev)
	}
	clock.Advance(2 * time.Hour)
	third, err := e.Consume(ctx, as("op", ""), in)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now(); !third.Primary().Timestamp.Equal(want) {
		t.Fatalf("once the clock is ahead again the stamp is %v, want the clock's %v", third.Primary().Timestamp, want)
	}
}
