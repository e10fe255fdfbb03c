// Gate B — projection integrity: the harness folds the journal with its own
// reference model (gates/audit, which never imports the engine) and demands
// exact equality with the API — balances, ledgers, approvals, synergie — no
// negative balance, no NaN/Inf, and a state digest that survives a clean
// restart and a kill -9 with replay unchanged. Where the journal cannot be
// read, the black-box judge compares the API with the fold of the writes
// the client saw acknowledged (B13–B17).
package b_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

func TestGateB(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gate B - Projection Integrity", Label("gate:B"))
}

// foldIDs are the checks a comparison of the reference fold with the API
// records (audit.GateB).
var foldIDs = []string{"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12"}

// compareIDs are the checks a comparison records: the fold's and the
// pending list's (B49).
var compareIDs = append(append([]string(nil), foldIDs...), "B49")

// ids joins check ID lists for env.Require.
func ids(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// compareFold folds the whole journal with the reference model, compares it
// with every read route and records B1–B12 under variant when. The
// comparison reads every agent's history and synergie and the approvals
// list: without one of those routes, the checks that apply are NOT
// MEASURED, with the route named. It returns the count of negative
// balances (B5) for the report's facts.
func compareFold(ctx context.Context, env *harness.Env, when string) int {
	if ok, missing := env.Serves(catalog.Balances, catalog.History, catalog.Synergie, catalog.ApprovalList); !ok || !env.Applies("B1") {
		why := "the fold comparison reads every read route; the backend does not serve " + strings.Join(missing, ", ")
		if ok {
			why = "the fold comparison starts from B1 (balances), which does not apply to this target"
		}
		for _, id := range foldIDs {
			env.Record(id, harness.Measure{Variant: when, Detail: why})
		}
		return 0
	}
	fs, _ := env.FoldAndCompare(ctx, when)
	neg := 0
	for _, f := range fs {
		if strings.HasPrefix(f.Check, "B5 ") && !f.OK {
			neg = max(f.ViolationCount, 1)
		}
	}
	env.RecordFindings(fs, when)
	return neg
}

// pendingList judges GET /approvals?status=pending against the fold of the
// journal at the same last seq (B49): the journal is read before and after
// the list, and the list is judged only when no event came between (a
// decision or an expiry would make either read right).
func pendingList(ctx context.Context, env *harness.Env, when string) {
	if !env.Applies("B49") {
		env.Record("B49", harness.Measure{Variant: when})
		return
	}
	client := &audit.APIClient{BaseURL: env.T.BaseURL(), Token: env.T.Token()}
	const attempts = 3
	for range attempts {
		before, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable %s: %v", when, err)
		read, err := client.ApprovalsWithStatus(ctx, "pending")
		if err != nil {
			env.Record("B49", harness.Measure{OK: false, Samples: 1, Measured: err.Error(), Threshold: "200 with the pending requests", Variant: when,
				Detail: "SPEC §6: GET /api/credits/approvals?status=pending lists the pending requests"})
			return
		}
		after, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable %s: %v", when, err)
		if lastSeq(before) == lastSeq(after) {
			env.RecordFinding(audit.PendingList(audit.Fold(before), read), when)
			return
		}
	}
	env.Record("B49", harness.Measure{Variant: when,
		Detail: fmt.Sprintf("the journal moved during each of %d reads of the pending list: no read was at one seq", attempts)})
}

func lastSeq(j *audit.Journal) uint64 {
	evs := j.Events()
	if len(evs) == 0 {
		return j.AfterSeq
	}
	return evs[len(evs)-1].Seq
}

// openPending leaves requests pending for the pending list (B49) to show:
// one nobody decided and a CRITICAL one with the first of its two
// approvals (a request with a vote is still pending).
func openPending(ctx context.Context, env *harness.Env, agent string) error {
	id, r := env.C.RequestApproval(ctx, agent, "gate-b-requester", 600_000, "", env.ID("gate-b-pending-medium"))
	if id == "" {
		return fmt.Errorf("a request of 600 credits: %d %s", r.Status, r.Raw)
	}
	id, r = env.C.RequestApproval(ctx, agent, "gate-b-requester", 50_000_000, "a large grant", env.ID("gate-b-pending-critical"))
	if id == "" {
		return fmt.Errorf("a request of 50,000 credits: %d %s", r.Status, r.Raw)
	}
	if d := env.C.Decide(ctx, id, "gate-b-approver", true, "first of two", env.ID("gate-b-pending-vote")); !d.OK() {
		return fmt.Errorf("the first approval of %s: %d %s", id, d.Status, d.Raw)
	}
	return nil
}

var _ = Describe("Gate B: projection integrity", Ordered, ContinueOnFailure, harness.Checks(ids(compareIDs, []string{"B13", "B14", "B15", "B16", "B17", "B18", "B19", "B20", "B21", "B22", "B23", "B24", "B25", "B51", "B53", "RT1", "RT2", "A8"})...), func() {
	var env *harness.Env
	var storm scenarios.StormResult
	var stormRan, synRan bool
	var syn scenarios.SynergyResult
	var bb scenarios.BlackBoxRun
	var bbErr, mixedErr error

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		// Each workload runs only where the backend serves its routes: a
		// backend without them still gets every check it can be judged on.
		var skipped []string
		if ok, missing := env.Serves(catalog.Agents, catalog.Add, catalog.Consume); ok {
			cfg := scenarios.DefaultStorm(env.P.Concurrency, env.P.RetryInjection)
			cfg.KeyPrefix = env.ID("storm-b")
			// Readers poll the storm's balances and histories while it runs: the real-time
			// rules judge every read against the journal and the writes' times.
			readCtx, stopReads := context.WithCancel(ctx)
			readsDone := make(chan int)
			go func() { readsDone <- scenarios.PollReads(readCtx, env.C, cfg.AgentIDs(), 4, 2*time.Millisecond) }()
			var err error
			storm, err = scenarios.Storm(ctx, env.C, env.Rand("storm"), cfg)
			stopReads()
			<-readsDone
			harness.Ensure(err == nil, "scenario 1 (credit storm) could not set up its agents: %v", err)
			stormRan = true
		} else {
			skipped = append(skipped, "credit storm (not served: "+strings.Join(missing, ", ")+")")
		}
		// Registrations at the edges of skill_level: 0 (an allocation of
		// nothing is no money event), and levels whose × 100 is a hair
		// below a whole number in binary floating point (a truncating
		// allocation is one milli short). The fold judges both (B10, B11).
		if env.Routes.Has(catalog.Agents) {
			for _, skill := range []float64{0, 0.29, 0.57, 0.58} {
				id := env.ID(fmt.Sprintf("gate-b-skill-%g", skill))
				r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/agents", Key: id, Agent: id,
					Body: map[string]any{"agent_id": id, "skill_level": skill, "actor_id": "harness"}})
				harness.Accepted(r, "registering agent %s with skill_level %g", id, skill)
			}
		}
		// Mission estimates at their rounding: agents of skill 0.5, 0.7 and
		// 1 start one mission of every type × complexity, whose exact
		// estimate often ends in a hundredth of 5 (4.25, 5.25, 8.75, 3.95):
		// rounded to 0.1, not cut (B11 judges each from the journal).
		if ok, _ := env.Serves(catalog.Agents, catalog.Add, catalog.MissionStart); ok {
			missionEstimates(ctx, env)
		}
		mixedRoutes := []string{catalog.Refund, catalog.Withdraw, catalog.MissionStart, catalog.MissionComplete, catalog.MissionFail,
			catalog.MissionCancel, catalog.ApprovalRequest, catalog.Approve, catalog.Reject, catalog.PoolCreate, catalog.PoolAllocate,
			catalog.PoolConsume, catalog.PoolRefund, catalog.PoolClose}
		if ok, missing := env.Serves(mixedRoutes...); ok && stormRan {
			// An answer the workload did not expect stops it, not the gate:
			// what it sent is judged by every check below (a fixture error
			// here would skip them all and hide the defect behind it).
			// The unexpected answer itself fails the fold spec below.
			if mixedErr = scenarios.Mixed(ctx, env.C, env.Rand("mixed"), storm.AgentIDs, env.ID("gate-b")); mixedErr != nil {
				AddReportEntry("mixed workload stopped early", mixedErr.Error())
			}
		} else if !ok {
			skipped = append(skipped, "mixed workload (not served: "+strings.Join(missing, ", ")+")")
		}
		if ok, missing := env.Serves(catalog.ApprovalRequest, catalog.Approve, catalog.ApprovalList); ok && stormRan {
			if err := openPending(ctx, env, storm.AgentIDs[0]); err != nil {
				AddReportEntry("pending requests not opened", err.Error())
			}
		} else if !ok {
			skipped = append(skipped, "pending requests (not served: "+strings.Join(missing, ", ")+")")
		}
		if ok, missing := env.Serves(catalog.Agents, catalog.Collaborations, catalog.Synergie); ok {
			var err error
			syn, err = scenarios.Synergy(ctx, env.C, env.Rand("synergy"), env.ID("gate-b-team"), 5, 100)
			harness.Ensure(err == nil, "scenario 2 (synergie) could not run: %v", err)
			synRan = true
		} else {
			skipped = append(skipped, "synergie (not served: "+strings.Join(missing, ", ")+")")
		}
		// The black-box workload uses the original's routes only; its
		// judge needs no journal.
		if ok, missing := env.Serves(catalog.Agents, catalog.Add, catalog.Consume, catalog.Balance); ok {
			bb, bbErr = scenarios.BlackBox(ctx, env.C, env.Rand("blackbox"), scenarios.DefaultBlackBox())
		} else {
			skipped = append(skipped, "black-box workload (not served: "+strings.Join(missing, ", ")+")")
		}
		if len(skipped) > 0 {
			AddReportEntry("workloads not run", strings.Join(skipped, "; "))
		}
	}, NodeTimeout(5*time.Minute))

	compare := func(ctx context.Context, when string) {
		env.SaveFacts(reports.Facts{NegativeBalances: int64(compareFold(ctx, env, when))})
		pendingList(ctx, env, when)
	}

	// realtime judges every recorded balance and history read against the whole journal
	// (RT1: reflects the writes acknowledged before it, none sent after it;
	// RT2: per agent, reads never go back in time).
	realtime := func(ctx context.Context, when string) {
		if !env.Applies("RT1") {
			env.Record("RT2", harness.Measure{Variant: when,
				Detail: "reads are ordered against the journal's writes, which the harness cannot read on this backend"})
			return
		}
		j, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable %s: %v", when, err)
		reflect, monotonic := audit.RealtimeReads(j, audit.Fold(j), env.Ops())
		env.RecordFindings([]audit.Finding{reflect, monotonic}, when)
	}

	digest := func(ctx context.Context) string {
		r := env.C.Get(ctx, "/api/credits/digest")
		harness.Ensure(r.OK(), "GET /api/credits/digest must answer the state digest; it answered %d %s", r.Status, r.Raw)
		return fmt.Sprintf("%v@%v", r.Body["digest"], r.Body["seq"])
	}

	It("the API equals the independent fold of the journal, exactly", func(ctx SpecContext) {
		env.Require(compareIDs...)
		compare(ctx, "live")
		if re := (*scenarios.RefusedError)(nil); errors.As(mixedErr, &re) {
			harness.Accepted(re.Reply, "the mixed workload's %s", re.What)
		}
		harness.Ensure(mixedErr == nil, "the mixed workload (refunds, withdrawals, approvals, missions, a pool's life) must run through: %v", mixedErr)
	})

	It("reads during the storm reflect every acknowledged write and never go back in time", Label("critical"), func(ctx SpecContext) {
		env.Require("RT1", "RT2")
		realtime(ctx, "during the storm")
	})

	It("judged from the client history and the API alone: balances and histories equal the fold of acknowledged writes, money is exact", Label("critical"), func() {
		env.Require("B13", "B14", "B15", "B16", "B17")
		harness.Ensure(bbErr == nil, "the black-box workload could not create its agents: %v", bbErr)
		env.RecordFindings(harness.Only(audit.BlackBox(bb.Ops, bb.Snapshot), "B13", "B14", "B15", "B16", "B17"), "")
	})

	It("synergie anti-gaming: no agent earns above the cap per team; reward_capped records the rest", func(ctx SpecContext) {
		env.Require("B18", "B19", "B20", "B9")
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
			granted[a] = money.FormatMilli(m)
		}
		env.Record("B18", harness.Measure{OK: over == 0, Samples: len(syn.GrantedMilli), Measured: over, Threshold: 0,
			Detail: fmt.Sprintf("team %s, %d collaborations; granted credits per agent (GET /synergie/{id}): %s", syn.Team, syn.Recorded, reports.Readable(granted))})
		env.Record("B19", harness.Measure{OK: capped > 0, Samples: syn.Recorded, Measured: money.FormatMilli(capped), Threshold: "> 0 after 100 collaborations",
			Detail: fmt.Sprintf("%d collaborations of %d agents must exceed the cap, so capped rewards must be journaled", syn.Recorded, len(syn.AgentIDs))})
		// The scenario resends its first collaborations under new keys.
		resent := 0
		for _, o := range env.Ops() {
			if o.Kind == history.KindCollaboration && o.Role == history.NoWrite && synRan && strings.HasPrefix(o.Entity, syn.Team+"-") {
				resent++
			}
		}
		env.Record("B20", harness.Measure{OK: syn.Duplicates == resent, Samples: resent, Measured: syn.Duplicates, Threshold: resent,
			Detail: "each resent collaboration id (two of them again naming another team) must be answered duplicate: true, or the original's answer, or, naming another team, 409 (the journal side is A8's: it must write nothing)"})
		if env.Applies("B9") {
			j, err := env.FullJournal(ctx)
			harness.Ensure(err == nil, "the journal must be readable: %v", err)
			env.RecordFindings([]audit.Finding{audit.CapCheck(audit.Fold(j), capMilli)}, "cap 500 credits per agent and team")
		}
		if synRan {
			env.SaveScenario(reports.Scenario{Name: "2 synergy anti-gaming", Status: harness.ScenarioStatus(over == 0 && capped > 0),
				InvariantsPassed: over == 0, Errors: int64(syn.Failed), Metrics: map[string]any{"collaborations": syn.Recorded, "capped_credits": money.FormatMilli(capped)}})
		}
	})

	It("concurrent consumes on one agent never overdraw and never lose an update", Label("critical"), func(ctx SpecContext) {
		env.Require(ids([]string{"B21", "B22"}, compareIDs)...)
		if env.Applies("B21") {
			const credits, amountMilli = 100, 10_000
			workers := max(env.P.Concurrency, 20)
			hs, err := scenarios.HotSpot(ctx, env.C, env.ID("gate-b-hotspot"), credits, workers, amountMilli)
			answered := hs.Accepted + hs.Insufficient + len(hs.Other)
			harness.Ensure(err == nil || answered > 0, "the hot-spot agent could not be created: %v", err)
			want := int(credits * 1000 / amountMilli)
			env.Record("B21", harness.Measure{OK: hs.Accepted == want, Samples: answered, Measured: hs.Accepted, Threshold: want,
				Detail: fmt.Sprintf("%d workers × %s credits released together on %d credits; %d refused insufficient_credits; other: %v",
					workers, money.FormatMilli(amountMilli), credits, hs.Insufficient, firstN(hs.Other, 5))})
			finalRead := 0
			if err == nil {
				finalRead = 1
			}
			env.Record("B22", harness.Measure{OK: hs.FinalMilli == 0, Samples: finalRead, Measured: money.FormatMilli(hs.FinalMilli), Threshold: "0",
				Detail: fmt.Sprintf("every accepted consume debited exactly once and nothing more (GET /balance: %v)", err)})
			if hs.FinalMilli < 0 {
				env.SaveFacts(reports.Facts{NegativeBalances: 1})
			}
		}
		compare(ctx, "after the hot-spot race")
	})

	It("the state digest follows the state: every command changes it", func(ctx SpecContext) {
		env.Require("B51")
		agent := env.ID("b-digest")
		err := env.C.CreateAgent(ctx, agent, 10)
		harness.Ensure(err == nil, "the digest agent %s must be created with 10 credits: %v", agent, err)
		only := func() string {
			r := env.C.Get(ctx, "/api/credits/digest")
			harness.Ensure(r.OK(), "GET /api/credits/digest must answer the state digest; it answered %d %s", r.Status, r.Raw)
			return fmt.Sprint(r.Body["digest"])
		}
		// Changes to different projections, which a canonical encoding
		// may put anywhere: balances and ledgers, then missions.
		calls := []scenarios.Call{}
		for i := range 3 {
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: fmt.Sprintf("b-digest-%d", i),
				Agent: agent, AmountMilli: 1, Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "digest"}})
		}
		if env.Routes.Has(catalog.MissionStart) {
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Key: "b-digest-mission",
				Body: map[string]any{"mission_id": env.ID("b-digest-m"), "agent_id": agent, "mission_type": "research", "complexity": "low"}})
		}
		// Commands that move no credits: a digest that also hashes
		// statistics of the credit flow must still change with them.
		if env.Routes.Has(catalog.PoolCreate) {
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/pools", Kind: history.KindPoolCreate, Key: "b-digest-pool",
				Body: map[string]any{"pool_id": env.ID("b-digest-pool"), "members": []string{agent}}})
		}
		if env.Routes.Has(catalog.ApprovalRequest) {
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/approvals", Kind: history.KindApprovalRequest, Key: "b-digest-approval",
				Body: map[string]any{"action_type": "add", "agent_id": agent, "amount": 600.5, "reason": "digest", "requester_id": "b-digest-requester"}})
		}
		seen := []string{only()}
		var same []string
		for _, c := range calls {
			r := env.C.Do(ctx, c)
			harness.Accepted(r, "%s %s on %s", c.Method, c.Path, agent)
			d := only()
			if slices.Contains(seen, d) {
				same = append(same, fmt.Sprintf("after %s %s the digest is %s again", c.Method, c.Path, d))
			}
			seen = append(seen, d)
		}
		env.Record("B51", harness.Measure{OK: len(same) == 0, Samples: len(calls), Measured: len(same), Threshold: 0,
			Detail: fmt.Sprintf("digests before and after three consumes of 0.001, a mission start, a pool and a pending approval request (SPEC §4: a hash of all projections): %v %v", seen, same)})
	})

	// The counters of SPEC §6's /metrics and /info count what their names
	// say: the journal's events (live and after a restart), each event
	// published once, and 409 idempotency_key_conflict answers — not the
	// retries the key index answered with the original (a replay is the
	// key doing its job).
	It("the journal and event-bus counters count the journal's events and the key conflicts, not the replays", func(ctx SpecContext) {
		env.Require("B53")
		if !env.Fresh() {
			env.Record("B53", harness.Measure{Variant: "live", Detail: "a backend the harness did not start on an empty data directory (a url target, or CREDITGATE_EXEC_DATA_DIR): its counters include earlier runs' and other clients' requests"})
			return
		}
		agent := env.ID("gate-b-counters")
		err := env.C.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "creating agent %s must succeed: %v", agent, err)
		for i := range 2 { // two key conflicts of our own, so the counter has something to count
			key := env.ID(fmt.Sprintf("gate-b-conflict-%d", i))
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: key, Body: map[string]any{"agent_id": agent, "amount": 1, "reason": "counters"}})
			harness.Accepted(r, "a keyed consume")
			env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: key, Body: map[string]any{"agent_id": agent, "amount": 2, "reason": "counters"}})
		}
		env.Record("B53", counters(ctx, env, true))
	})

	It("the state digest is identical after a clean restart, and the fold still matches", func(ctx SpecContext) {
		env.Require(ids([]string{"B23", "B53"}, compareIDs)...)
		skipUnless(env, "B23")
		// A backend may journal system events on a timer of its own (an
		// expiry, an EoC window): one landing between the read and the
		// stop moves the digest rightly. Such a cycle is retried (at most
		// three); any event not by a "system:" actor is a failure.
		var before, after, interfered string
		for attempt := 0; attempt < 3; attempt++ {
			before = digest(ctx)
			restart := &fault.Restart{T: env.T}
			_, err := env.Inject(ctx, restart)
			harness.Injected(err, "a graceful stop must drain and exit 0")
			_, err = env.Heal(ctx, restart)
			harness.Ensure(err == nil, "the backend must start again on its data after a clean stop: %v", err)
			after = digest(ctx)
			if interfered = systemEventsBetween(ctx, env, before, after); before == after || interfered == "" {
				break
			}
		}
		m := harness.Measure{OK: before == after, Samples: 1, Measured: after, Threshold: before,
			Detail: "replay must rebuild exactly the live projections"}
		if before != after && interfered != "" {
			m.Samples, m.Detail = 0, "three restarts each met a system event of the backend's own between the read and the stop ("+interfered+"): not comparable"
		}
		env.Record("B23", m)
		if env.Fresh() {
			env.Record("B53", counters(ctx, env, false))
		}
		compare(ctx, "after clean restart")
	})

	It("the state digest is identical after kill -9 and replay, and so is the fold after a kill mid-load", func(ctx SpecContext) {
		env.Require(ids([]string{"B24", "B25", "RT1", "RT2", "A8"}, compareIDs)...)
		if ok, why := env.Has(catalog.CapCrash); !ok {
			Skip(why)
		}
		// State beside the projections is rebuilt by replay too: an agent
		// with a norm of about 5 credits must still have it after the kill,
		// or the first anomaly after a crash goes unflagged (SPEC §5: the
		// detector is a fold of the consumes).
		normal := env.ID("gate-b-norm")
		norm := env.Applies("B25") && env.Routes.Has(catalog.Add)
		if norm {
			err := env.C.CreateAgent(ctx, normal, 1000)
			harness.Ensure(err == nil, "creating agent %s with 1000 credits must succeed: %v", normal, err)
			for i := range 10 {
				r := normConsume(ctx, env, normal, fmt.Sprintf("before-%d", i), 4500+int64(i)*20)
				harness.Accepted(r, "a consume of about 4.5 credits from %s", normal)
			}
		}
		var before string
		if env.Applies("B24") {
			before = digest(ctx)
		}
		kill := &fault.Kill{T: env.T}
		_, err := env.Inject(ctx, kill)
		harness.Injected(err, "the backend must be killable with SIGKILL")
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again and replay its journal after kill -9: %v", err)
		if env.Applies("B24") {
			after := digest(ctx)
			drift := 0
			if before != after {
				drift = 1
			}
			env.SaveFacts(reports.Facts{ReplayDriftEvents: int64(drift)})
			env.Record("B24", harness.Measure{OK: before == after, Samples: 1, Measured: after, Threshold: before,
				Detail: "every acknowledged event was synced, so replay must rebuild the same state"})
		}
		if norm {
			big := normConsume(ctx, env, normal, "after-anomaly", 50_000) // 10× the norm
			small := normConsume(ctx, env, normal, "after-normal", 4600)
			// SPEC §5 and gate D: a consume's answer says whether it was
			// flagged (metadata.anomaly_detected; absent reads as false), so
			// a backend that never flags fails here rather than going
			// unmeasured.
			answered := 0
			for _, r := range []scenarios.Reply{big, small} {
				if r.Status != 0 {
					answered++
				}
			}
			env.Record("B25", harness.Measure{OK: big.OK() && small.OK() && big.AnomalyDetected() && !small.AnomalyDetected(), Samples: answered,
				Measured: fmt.Sprintf("10× flagged %v, normal flagged %v", big.AnomalyDetected(), small.AnomalyDetected()), Threshold: "true, false",
				Detail: fmt.Sprintf("10 consumes of about 5 credits before the kill; after replay 50 → %d %s; 4.6 → %d %s", big.Status, big.Raw, small.Status, small.Raw)})
		} else {
			env.Record("B25", harness.Measure{Detail: "the norm agent is funded through POST /api/credits/add, which the backend does not serve"})
		}

		// Now kill mid-load: whatever was acknowledged must be there, and the
		// API must again equal the fold after replay.
		var wg sync.WaitGroup
		loadCtx, stop := context.WithCancel(ctx)
		// Readers keep polling through the kill and the restart: after
		// replay no read may show an older state than one before the kill.
		readCtx, stopReads := context.WithCancel(ctx)
		readsDone := make(chan int)
		go func() { readsDone <- scenarios.PollReads(readCtx, env.C, storm.AgentIDs, 4, 2*time.Millisecond) }()
		if stormRan && env.Routes.Has(catalog.Refund) {
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
		}
		time.Sleep(300 * time.Millisecond)
		midLoad := &fault.Kill{T: env.T}
		_, err = env.Inject(ctx, midLoad)
		harness.Injected(err, "the backend must be killable with SIGKILL mid-load")
		stop()
		wg.Wait()
		_, err = env.Heal(ctx, midLoad)
		harness.Ensure(err == nil, "the backend must start again and replay its journal after kill -9 mid-load: %v", err)
		time.Sleep(300 * time.Millisecond) // reads after the restart
		stopReads()
		reads := <-readsDone
		compare(ctx, "after kill -9 mid-load")
		AddReportEntry("reads across kill -9", reads)
		realtime(ctx, "across kill -9 mid-load")
		if env.Applies("A8") {
			j, err := env.Journal(ctx)
			harness.Ensure(err == nil, "the journal must be readable after kill -9: %v", err)
			env.RecordFindings([]audit.Finding{audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{KeylessSent: true})}, "after kill -9 mid-load")
		}
	})
})

// skipUnless skips the rest of a spec whose main check does not apply (its
// variants then have nothing to run on): Require has already recorded the
// main check's SKIP or N/A with the reason.
func skipUnless(env *harness.Env, id string) {
	if !env.Applies(id) {
		Skip(id + " does not apply to this target (see its SKIP/N/A entry)")
	}
}

// normConsume sends one consume of amountMilli for agent under its own key.
func normConsume(ctx context.Context, env *harness.Env, agent, key string, amountMilli int64) scenarios.Reply {
	return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Agent: agent, AmountMilli: amountMilli,
		Key: "gate-b-norm-" + key, Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "norm " + key}})
}

// counters judges /api/credits/metrics and /api/credits/info against the
// journal and the client history, on every instance of a cluster:
// journal.total_events and /info's event_sourcing_metrics.total_events
// (where present) are the journal's event count; on a backend that has not
// restarted (live) every event was published once (event_bus.total_published,
// on one instance: a cluster's instances each publish their own) and
// journal.idempotency_violations, summed over the instances, is the 409
// idempotency_key_conflict answers this suite received.
// fileSizeMatches is "" when file_size_mb (SPEC §6's journal.file_size_mb)
// is the journal file's size in megabytes, decimal or binary, within 2 %
// or 64 KiB (appends of the backend's own timers between the two reads,
// rounding); else why not.
func fileSizeMatches(v any, path string) string {
	mb, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		return fmt.Sprintf("metrics journal.file_size_mb is %v, not a number", v)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	size := float64(fi.Size())
	slack := max(0.02*size, 64<<10)
	if math.Abs(mb*1e6-size) <= slack || math.Abs(mb*(1<<20)-size) <= slack {
		return ""
	}
	return fmt.Sprintf("metrics journal.file_size_mb is %v, the journal file holds %d bytes (%.3f MB, %.3f MiB)", v, fi.Size(), size/1e6, size/(1<<20))
}

func counters(ctx context.Context, env *harness.Env, live bool) harness.Measure {
	variant := "after a clean restart"
	if live {
		variant = "live"
	}
	j, err := env.FullJournal(ctx)
	harness.Ensure(err == nil, "reading the journal for the counters: %v", err)
	events := int64(len(j.Events()))
	num := func(v any) (int64, bool) { // a JSON integer, however the body decoded it
		n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
		return n, err == nil
	}
	var bad, judged []string
	judge := func(what string, v any, want int64) {
		if v == nil {
			return // not reported by this backend
		}
		judged = append(judged, what)
		if n, ok := num(v); !ok || n != want {
			bad = append(bad, fmt.Sprintf("%s is %v, want %d", what, v, want))
		}
	}
	bases := env.C.Instances
	if len(bases) == 0 {
		bases = []string{""}
	}
	var violations any
	var sum int64
	for i, b := range bases {
		where := ""
		if len(bases) > 1 {
			where = fmt.Sprintf("instance %d: ", i)
		}
		m := env.C.Do(ctx, scenarios.Call{Method: "GET", Path: "/api/credits/metrics", Base: b})
		info := env.C.Do(ctx, scenarios.Call{Method: "GET", Path: "/api/credits/info", Base: b})
		journal, _ := m.Body["journal"].(map[string]any)
		bus, _ := m.Body["event_bus"].(map[string]any)
		cfg, _ := info.Body["config"].(map[string]any)
		esm, _ := cfg["event_sourcing_metrics"].(map[string]any)
		judge(where+"metrics journal.total_events", journal["total_events"], events)
		judge(where+"info config.event_sourcing_metrics.total_events", esm["total_events"], events)
		if live && len(bases) == 1 {
			judge("metrics event_bus.total_published", bus["total_published"], events)
		}
		if path := env.T.JournalPath(); len(bases) == 1 && path != "" && journal["file_size_mb"] != nil {
			judged = append(judged, "metrics journal.file_size_mb")
			if why := fileSizeMatches(journal["file_size_mb"], path); why != "" {
				bad = append(bad, why)
			}
		}
		if n, ok := num(journal["idempotency_violations"]); ok {
			sum += n
			violations = sum
		}
	}
	// What idempotency_violations counts SPEC §6 leaves open (our engine
	// documents key conflicts; another backend may count duplicate keys in
	// its journal, 0 when it is right): judged on our engine only.
	if live && env.TCfg.Kind.OwnEngine() {
		conflicts := int64(0)
		for _, op := range env.Ops() {
			if op.Status == 409 && op.Code == "idempotency_key_conflict" {
				conflicts++
			}
		}
		judge("metrics journal.idempotency_violations (summed over the instances)", violations, conflicts)
	}
	return harness.Measure{OK: len(bad) == 0, Samples: len(judged), Measured: len(bad), Threshold: 0, Variant: variant,
		Detail: fmt.Sprintf("%d events in the journal; judged %s\n%s", events, strings.Join(judged, ", "), strings.Join(bad, "\n"))}
}

// systemEventsBetween names the events the journal holds between two
// digest reads ("digest@seq") when every one of them is by a "system:"
// actor; "" when the seq did not move, or any of them is not.
func systemEventsBetween(ctx context.Context, env *harness.Env, before, after string) string {
	seqOf := func(d string) uint64 {
		_, s, _ := strings.Cut(d, "@")
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	from, to := seqOf(before), seqOf(after)
	if to <= from {
		return ""
	}
	j, err := env.FullJournal(ctx)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range j.Events() {
		if e.Seq > from && e.Seq <= to {
			if !strings.HasPrefix(e.ActorID, "system:") {
				return ""
			}
			names = append(names, fmt.Sprintf("seq %d %s by %s", e.Seq, e.EventType, e.ActorID))
		}
	}
	return strings.Join(names, ", ")
}

// missionEstimates starts a mission of every type and complexity for agents
// of skill 0.5, 0.7 and 1, each funded first with an add below the gate.
func missionEstimates(ctx context.Context, env *harness.Env) {
	for _, skill := range []float64{0.5, 0.7, 1} {
		agent := env.ID(fmt.Sprintf("gate-b-est-%g", skill))
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/agents", Key: agent, Agent: agent,
			Body: map[string]any{"agent_id": agent, "skill_level": skill, "actor_id": "harness"}})
		harness.Accepted(r, "registering agent %s with skill_level %g", agent, skill)
		r = env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/add", Kind: history.KindAdd, Key: agent + "-fund", Agent: agent,
			AmountMilli: 400_000, Body: map[string]any{"agent_id": agent, "amount": 400, "reason": "mission estimates"}})
		harness.Accepted(r, "funding agent %s with 400 credits", agent)
		for _, typ := range []string{"general", "code_review", "deployment", "research", "architecture", "unknown_kind"} {
			for _, cx := range []string{"low", "medium", "high"} {
				id := fmt.Sprintf("%s-%s-%s", agent, typ, cx)
				r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Key: id, Agent: agent, Entity: id,
					Body: map[string]any{"mission_id": id, "agent_id": agent, "mission_type": typ, "complexity": cx}})
				if typ == "unknown_kind" && !r.OK() && r.Status < 500 {
					// The same body with a known type was acknowledged just
					// before, so this refusal is the rule's, not the body's:
					// SPEC §5 prices any other type at base 10.
					env.Record("B11", harness.Measure{Samples: 1, Measured: fmt.Sprintf("%d %s", r.Status, r.Code()), Threshold: "acknowledged",
						Variant: "a mission of a type SPEC §5 does not list", Detail: fmt.Sprintf("starting mission %s (mission_type %q, %s) answered %d %s; SPEC §5: \"base by type: … unknown 10\"",
							id, typ, cx, r.Status, strings.TrimSpace(string(r.Raw)))})
					continue
				}
				harness.Accepted(r, "starting mission %s (%s, %s) for agent %s of skill %g", id, typ, cx, agent, skill)
			}
		}
	}
}
