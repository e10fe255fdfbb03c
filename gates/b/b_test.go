// Gate B — projection integrity: the harness folds the journal with its own
// reference model (gates/audit, which never imports the engine) and demands
// exact equality with the API — balances, ledgers, approvals, synergie — no
// negative balance, no NaN/Inf, and a state digest that survives a clean
// restart and a kill -9 with replay unchanged.
package b_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

func TestGateB(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gate B - Projection Integrity", Label("gate:B"))
}

var critical = map[string]bool{"B5": true, "B8": true}

func isCritical(check string) bool { return critical[strings.Fields(check)[0]] }

var _ = Describe("Gate B: projection integrity", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var storm scenarios.StormResult
	var syn scenarios.SynergyResult

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		var err error
		cfg := scenarios.DefaultStorm(env.P.Concurrency, env.P.RetryInjection)
		cfg.KeyPrefix = env.ID("storm-b")
		// Readers poll the storm's balances and histories while it runs: the real-time
		// rules judge every read against the journal and the writes' times.
		readCtx, stopReads := context.WithCancel(ctx)
		readsDone := make(chan int)
		go func() { readsDone <- scenarios.PollReads(readCtx, env.C, cfg.AgentIDs(), 4, 2*time.Millisecond) }()
		storm, err = scenarios.Storm(ctx, env.C, env.Rand("storm"), cfg)
		stopReads()
		<-readsDone
		Expect(err).NotTo(HaveOccurred(), "scenario 1 (credit storm)")
		Expect(scenarios.Mixed(ctx, env.C, env.Rand("mixed"), storm.AgentIDs, env.ID("gate-b"))).To(Succeed(), "mixed workload")
		syn, err = scenarios.Synergy(ctx, env.C, env.Rand("synergy"), env.ID("gate-b-team"), 5, 100)
		Expect(err).NotTo(HaveOccurred(), "scenario 2 (synergie)")
	}, NodeTimeout(5*time.Minute))

	// compare folds the journal and checks it against the API.
	compare := func(ctx context.Context, when string) *audit.Model {
		fs, m := env.FoldAndCompare(ctx, when)
		neg := 0
		for _, f := range fs {
			if strings.HasPrefix(f.Check, "B5") && !f.OK {
				neg = max(f.ViolationCount, 1)
			}
		}
		env.SaveFacts(reports.Facts{NegativeBalances: int64(neg)})
		env.ReportAll(fs, isCritical)
		return m
	}

	// realtime judges every recorded balance and history read against the whole journal
	// (RT1: reflects the writes acknowledged before it, none sent after it;
	// RT2: per agent, reads never go back in time).
	realtime := func(ctx context.Context, when string) {
		j, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred(), "reading the journal "+when)
		reflect, monotonic := audit.RealtimeReads(j, audit.Fold(j), env.Ops())
		reflect.Check += " (" + when + ")"
		monotonic.Check += " (" + when + ")"
		env.Report(reflect, true)
		env.Report(monotonic, true)
	}

	digest := func(ctx context.Context) string {
		r := env.C.Get(ctx, "/api/credits/digest")
		Expect(r.OK()).To(BeTrue(), "GET /digest: %d %s", r.Status, r.Raw)
		return fmt.Sprintf("%v@%v", r.Body["digest"], r.Body["seq"])
	}

	It("the API equals the independent fold of the journal, exactly", func(ctx SpecContext) {
		compare(ctx, "live")
	})

	It("reads during the storm reflect every acknowledged write and never go back in time", Label("critical"), func(ctx SpecContext) {
		realtime(ctx, "during the storm")
	})

	It("synergie anti-gaming: no agent earns above the cap per team; reward_capped records the rest", func(ctx SpecContext) {
		const capMilli = 500_000
		over, capped := 0, int64(0)
		for _, a := range syn.AgentIDs {
			if syn.GrantedMilli[a] > capMilli {
				over++
			}
			capped += syn.CappedMilli[a]
		}
		granted := map[string]string{}
		for a, m := range syn.GrantedMilli {
			granted[a] = audit.FormatMilli(m)
		}
		env.Check("agents above 500 credits from synergie in team "+syn.Team, over == 0, over, 0, "granted credits: "+reports.Readable(granted), false)
		env.Check("reward_capped recorded", capped > 0, audit.FormatMilli(capped), "> 0 after 100 collaborations",
			"100 collaborations of 5 agents must exceed the cap, so capped rewards must be journaled", false)
		env.Check("repeated collaboration ids wrote nothing", syn.Duplicates == 5, syn.Duplicates, 5, "", false)
		j, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred())
		env.Report(audit.CapCheck(audit.Fold(j), capMilli), false)
		env.SaveScenario(reports.Scenario{Name: "2 synergy anti-gaming", Status: harness.ScenarioStatus(over == 0 && capped > 0),
			InvariantsPassed: over == 0, Errors: int64(syn.Failed), Metrics: map[string]any{"collaborations": syn.Recorded, "capped_credits": audit.FormatMilli(capped)}})
	})

	It("concurrent consumes on one agent never overdraw and never lose an update", Label("critical"), func(ctx SpecContext) {
		const credits, amount = 100, 10.0
		workers := max(env.P.Concurrency, 20)
		hs, err := scenarios.HotSpot(ctx, env.C, env.ID("gate-b-hotspot"), credits, workers, amount)
		Expect(err).NotTo(HaveOccurred())
		want := int(credits / amount)
		env.Check("consumes accepted from one agent at once", hs.Accepted == want, hs.Accepted, want,
			fmt.Sprintf("%d workers × %g credits released together on %d credits; %d refused insufficient_credits; other: %v",
				workers, amount, credits, hs.Insufficient, hs.Other), true)
		env.Check("final balance after the race", hs.FinalMilli == 0, audit.FormatMilli(hs.FinalMilli), "0",
			"every accepted consume debited exactly once and nothing more", true)
		if hs.FinalMilli < 0 {
			env.SaveFacts(reports.Facts{NegativeBalances: 1})
		}
		compare(ctx, "after the hot-spot race")
	})

	It("the state digest is identical after a clean restart, and the fold still matches", func(ctx SpecContext) {
		env.RequireCap(target.CapRestart)
		before := digest(ctx)
		Expect(env.T.Stop(ctx)).To(Succeed(), "graceful stop must drain and exit 0")
		Expect(env.T.Start(ctx)).To(Succeed())
		after := digest(ctx)
		env.Check("digest after clean restart", before == after, after, before, "replay must rebuild exactly the live projections", true)
		compare(ctx, "after clean restart")
	})

	It("the state digest is identical after kill -9 and replay, and so is the fold after a kill mid-load", func(ctx SpecContext) {
		env.RequireCap(target.CapCrash)
		// State beside the projections is rebuilt by replay too: an agent
		// with a norm of about 5 credits must still have it after the kill,
		// or the first anomaly after a crash goes unflagged (SPEC §5: the
		// detector is a fold of the consumes).
		normal := env.ID("gate-b-norm")
		Expect(env.C.CreateAgent(ctx, normal, 1000)).To(Succeed())
		for i := range 10 {
			r := normConsume(ctx, env, normal, fmt.Sprintf("before-%d", i), 4500+int64(i)*20)
			Expect(r.OK()).To(BeTrue(), "norm consume: %d %s", r.Status, r.Raw)
		}
		before := digest(ctx)
		Expect(env.T.Kill(ctx)).To(Succeed())
		Expect(env.T.Start(ctx)).To(Succeed())
		after := digest(ctx)
		drift := 0
		if before != after {
			drift = 1
		}
		env.SaveFacts(reports.Facts{ReplayDriftEvents: int64(drift)})
		env.Check("digest after kill -9 + replay", before == after, after, before, "every acknowledged event was synced, so replay must rebuild the same state", true)
		big := normConsume(ctx, env, normal, "after-anomaly", 50_000) // 10× the norm
		small := normConsume(ctx, env, normal, "after-normal", 4600)
		env.Check(CheckNormSurvivesReplay, big.OK() && small.OK() && big.AnomalyDetected() && !small.AnomalyDetected(),
			fmt.Sprintf("10× flagged %v, normal flagged %v", big.AnomalyDetected(), small.AnomalyDetected()), "true, false",
			fmt.Sprintf("10 consumes of about 5 credits before the kill; after replay 50 → %d %s; 4.6 → %d %s", big.Status, big.Raw, small.Status, small.Raw), true)

		// Now kill mid-load: whatever was acknowledged must be there, and the
		// API must again equal the fold after replay.
		var wg sync.WaitGroup
		loadCtx, stop := context.WithCancel(ctx)
		// Readers keep polling through the kill and the restart: after
		// replay no read may show an older state than one before the kill.
		readCtx, stopReads := context.WithCancel(ctx)
		readsDone := make(chan int)
		go func() { readsDone <- scenarios.PollReads(readCtx, env.C, storm.AgentIDs, 4, 2*time.Millisecond) }()
		rng := env.Rand("kill-mid-load")
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; loadCtx.Err() == nil && i < 500; i++ {
					env.C.Do(loadCtx, scenarios.Call{Method: "POST", Path: "/api/credits/refund", Kind: history.KindRefund,
						Key: fmt.Sprintf("gate-b-kill-%d-%d", w, i), Body: map[string]any{"agent_id": storm.AgentIDs[(w+i)%len(storm.AgentIDs)],
							"amount": 1 + rng.IntN(5), "reason": "kill mid-load"}})
				}
			}(w)
		}
		time.Sleep(300 * time.Millisecond)
		Expect(env.T.Kill(ctx)).To(Succeed())
		stop()
		wg.Wait()
		Expect(env.T.Start(ctx)).To(Succeed())
		time.Sleep(300 * time.Millisecond) // reads after the restart
		stopReads()
		reads := <-readsDone
		compare(ctx, "after kill -9 mid-load")
		AddReportEntry("reads across kill -9", reads)
		realtime(ctx, "across kill -9 mid-load")
		ops := env.Ops()
		j, err := env.Journal(ctx)
		Expect(err).NotTo(HaveOccurred())
		env.Report(audit.CheckHistoryExact(j, ops, audit.HistoryOptions{KeylessSent: true}), true)
	})
})

// CheckNormSurvivesReplay: the anomaly detector's per-agent norm is a fold
// of the consumes, so replay rebuilds it.
const CheckNormSurvivesReplay = "an agent's norm survives kill -9 + replay: a consume at 10× it is flagged, a normal one is not"

// normConsume sends one consume of amountMilli for agent under its own key.
func normConsume(ctx context.Context, env *harness.Env, agent, key string, amountMilli int64) scenarios.Reply {
	return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Agent: agent, AmountMilli: amountMilli,
		Key: "gate-b-norm-" + key, Body: map[string]any{"agent_id": agent, "amount": scenarios.Credits(amountMilli), "reason": "norm " + key}})
}
