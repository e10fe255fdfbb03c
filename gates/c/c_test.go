// Gate C — human-gate safety: under races at most one terminal decision per
// request wins, losers get already_decided naming the winner, the gated
// action is applied once, four-eyes and two-distinct-approver rules hold,
// expired requests cannot be decided, the audit lists every decision, and
// all of it survives a crash mid-race.
package c_test

import (
	"context"
	"fmt"
	"os"
	"sort"
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
)

func TestGateC(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gate C - Human Gate Safety", Label("gate:C"))
}

// highTimeout is how long a HIGH request stays decidable in this gate's
// backend, so expiry can be observed in seconds.
const highTimeout = 3 * time.Second

var _ = Describe("Gate C: human-gate safety", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var agent string
	var raceLat []time.Duration
	var multiple int64

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "C", map[string]string{"CREDITD_APPROVAL_TIMEOUT_HIGH": highTimeout.String()})
		agent = env.ID("gate-c-agent")
		Expect(env.C.CreateAgent(ctx, agent, 100)).To(Succeed())
	}, NodeTimeout(2*time.Minute))

	AfterAll(func() {
		if env == nil {
			return
		}
		sort.Slice(raceLat, func(i, j int) bool { return raceLat[i] < raceLat[j] })
		p95 := 0.0
		if len(raceLat) > 0 {
			p95 = float64(raceLat[len(raceLat)*95/100].Microseconds()) / 1000
		}
		env.SaveScenario(reports.Scenario{Name: "3 approval race", Status: harness.ScenarioStatus(multiple == 0 && !CurrentSpecReport().Failed()),
			P95Latency: p95, InvariantsPassed: multiple == 0, Critical: multiple > 0,
			Metrics: map[string]any{"decisions_raced": len(raceLat), "multiple_final_decisions": multiple}})
		env.SaveFacts(reports.Facts{MultipleFinalDecisions: multiple})
	})

	// journalDecisions folds the journal and returns the model.
	fold := func(ctx context.Context) *audit.Model {
		j, err := env.Journal(ctx)
		Expect(err).NotTo(HaveOccurred())
		return audit.Fold(j)
	}

	// checkRaces verifies races on the given requests against the journal
	// and the audit endpoint.
	checkRaces := func(ctx context.Context, label string, results []scenarios.RaceResult, balanceBefore int64, amountMilli int64) {
		m := fold(ctx)
		winners, losersOK, terminalBad, approved := 0, 0, 0, 0
		var problems []string
		for _, r := range results {
			raceLat = append(raceLat, r.Latencies...)
			if r.Winners == 1 {
				winners++
			} else {
				problems = append(problems, fmt.Sprintf("request %s: %d winners", r.RequestID, r.Winners))
			}
			if r.Winners+r.Decided == len(r.Latencies) && r.LoserNamedWinner {
				losersOK++
			} else {
				problems = append(problems, fmt.Sprintf("request %s: %d already_decided, winner named consistently=%t, other=%v", r.RequestID, r.Decided, r.LoserNamedWinner, r.Other))
			}
			st, ok := m.Approvals[r.RequestID]
			if !ok || len(st.TerminalEventIDs) != 1 {
				terminalBad++
				problems = append(problems, fmt.Sprintf("request %s: %d terminal decisions in the journal", r.RequestID, len(st.TerminalEventIDs)))
				continue
			}
			if st.Status == audit.StatusApproved {
				approved++
				if len(st.ExecutedEventIDs) != 1 {
					problems = append(problems, fmt.Sprintf("request %s: approved but executed %d times", r.RequestID, len(st.ExecutedEventIDs)))
				}
			}
		}
		multiple += int64(terminalBad)
		env.Check(label+": requests with exactly one winner", winners == len(results), winners, len(results), join(problems), true)
		env.Check(label+": every loser got already_decided naming the winner", losersOK == len(results), losersOK, len(results), join(problems), false)
		env.Check(label+": terminal decisions per request in the journal", terminalBad == 0, fmt.Sprintf("%d requests not exactly 1", terminalBad), "exactly 1 each", join(problems), true)
		bal := m.Balances[agent]
		want := balanceBefore + int64(approved)*amountMilli
		env.Check(label+": credit effect applied once per approval", bal == want, audit.FormatMilli(bal), audit.FormatMilli(want),
			fmt.Sprintf("%d approved of %d raced", approved, len(results)), true)
		// Every decision event id is in the audit.
		r := env.C.Get(ctx, "/api/credits/approvals/audit?limit=100000")
		Expect(r.OK()).To(BeTrue(), "GET /approvals/audit: %d %s", r.Status, r.Raw)
		listed := map[string]bool{}
		entries, _ := r.Body["audit"].([]any)
		for _, e := range entries {
			ids, _ := e.(map[string]any)["decision_event_ids"].([]any)
			for _, id := range ids {
				listed[fmt.Sprint(id)] = true
			}
		}
		missing := 0
		for _, res := range results {
			for _, id := range m.Approvals[res.RequestID].DecisionEventIDs {
				if !listed[id] {
					missing++
				}
			}
		}
		env.Check(label+": decision event ids missing from the audit", missing == 0, missing, 0, "GET /approvals/audit must list every decision event id", false)
	}

	balance := func(ctx context.Context) int64 { return fold(ctx).Balances[agent] }

	// rt3 judges the history so far by RT3 (gates/audit/realtime.go): the
	// late decisions and every racer sent after its winner returned must be
	// refused already_decided.
	rt3 := func(label string) {
		f := audit.RealtimeDecisions(env.Ops())
		f.Check += " (" + label + ")"
		env.Report(f, true)
	}

	It("10 racers on one pending request: one decision wins, applied once, audited", Label("critical"), func(ctx SpecContext) {
		before := balance(ctx)
		id, r := env.C.RequestApproval(ctx, agent, "gate-c-requester", 500, "", "gate-c-single")
		Expect(id).NotTo(BeEmpty(), "request: %d %s", r.Status, r.Raw)
		Expect(r.Status).To(Equal(202), "an add of 500 credits must wait for approval")
		res := scenarios.Race(ctx, env.C, env.Rand("race-single"), id, 10, "gate-c-single")
		scenarios.LateDecisions(ctx, env.C, []string{id}, "gate-c-single")
		rt3("1 request × 10 racers")
		checkRaces(ctx, "1 request × 10 racers", []scenarios.RaceResult{res}, before, 500_000)
	})

	It("50 requests × 10 racers at once: never more than one decision each", Label("critical"), func(ctx SpecContext) {
		before := balance(ctx)
		ids := make([]string, 50)
		for i := range ids {
			id, r := env.C.RequestApproval(ctx, agent, "gate-c-requester", 500, "", fmt.Sprintf("gate-c-many-%02d", i))
			Expect(id).NotTo(BeEmpty(), "request %d: %d %s", i, r.Status, r.Raw)
			ids[i] = id
		}
		results := make([]scenarios.RaceResult, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				results[i] = scenarios.Race(ctx, env.C, env.Rand(fmt.Sprintf("race-many-%d", i)), id, 10, "gate-c-many")
			}(i, id)
		}
		wg.Wait()
		scenarios.LateDecisions(ctx, env.C, ids, "gate-c-many")
		rt3("50 requests × 10 racers")
		checkRaces(ctx, "50 requests × 10 racers", results, before, 500_000)
	})

	It("the requester cannot approve their own request (four-eyes)", Label("critical"), func(ctx SpecContext) {
		id, r := env.C.RequestApproval(ctx, agent, "gate-c-self", 600, "", "gate-c-self")
		Expect(id).NotTo(BeEmpty(), "request: %d %s", r.Status, r.Raw)
		self := env.C.DecideAsRequester(ctx, id, "gate-c-self", "gate-c-self-approve")
		m := fold(ctx)
		env.Check("self-approval refused", !self.OK() && self.Status >= 400 && self.Status < 500, fmt.Sprintf("%d %s", self.Status, self.Code()),
			"4xx (403 four_eyes_violation)", string(self.Raw), true)
		env.Check("self-approval wrote no decision", len(m.Approvals[id].DecisionEventIDs) == 0, len(m.Approvals[id].DecisionEventIDs), 0, "", true)
		other := env.C.Decide(ctx, id, "gate-c-other", true, "ok", "gate-c-self-other")
		env.Check("a different approver can still decide", other.OK(), other.Status, "2xx", string(other.Raw), false)
	})

	It("a CRITICAL request needs two distinct approvers and a justification", Label("critical"), func(ctx SpecContext) {
		id, r := env.C.RequestApproval(ctx, agent, "gate-c-crit-requester", 50_000, "quarterly budget", "gate-c-critical")
		Expect(id).NotTo(BeEmpty(), "request: %d %s", r.Status, r.Raw)
		env.Check("risk level of 50,000 credits", r.Str("risk_level") == "CRITICAL", r.Str("risk_level"), "CRITICAL", "", false)
		noJust := env.C.Decide(ctx, id, "gate-c-a1", true, "", "gate-c-crit-nojust")
		env.Check("approval without justification refused", !noJust.OK(), noJust.Status, "4xx (422 justification_required)", string(noJust.Raw), true)
		first := env.C.Decide(ctx, id, "gate-c-a1", true, "reviewed", "gate-c-crit-1")
		Expect(first.OK()).To(BeTrue(), "first approval: %d %s", first.Status, first.Raw)
		env.Check("one approval leaves it pending", first.Str("status") == "pending", first.Str("status"), "pending", "a CRITICAL request needs a second, distinct approver", true)
		again := env.C.Decide(ctx, id, "gate-c-a1", true, "reviewed again", "gate-c-crit-1b")
		env.Check("the same approver twice is refused", !again.OK(), again.Status, "4xx (409 duplicate_approver)", string(again.Raw), true)
		m := fold(ctx)
		env.Check("no execution after one approver", len(m.Approvals[id].ExecutedEventIDs) == 0, len(m.Approvals[id].ExecutedEventIDs), 0, "", true)
		second := env.C.Decide(ctx, id, "gate-c-a2", true, "second pair of eyes", "gate-c-crit-2")
		env.Check("second distinct approver approves", second.OK() && second.Str("status") == "approved", fmt.Sprintf("%d %s", second.Status, second.Str("status")), "2xx approved", string(second.Raw), true)
		m = fold(ctx)
		env.Check("executed exactly once after two approvers", len(m.Approvals[id].ExecutedEventIDs) == 1, len(m.Approvals[id].ExecutedEventIDs), 1, "", true)
	})

	It("an expired request cannot be decided", Label("critical"), func(ctx SpecContext) {
		wait := highTimeout
		if env.T.Kind() == target.KindURL {
			// The harness cannot configure a backend it does not boot.
			d, err := time.ParseDuration(os.Getenv("CREDITGATE_APPROVAL_TIMEOUT_HIGH"))
			if err != nil || d > time.Minute {
				Skip("url target: the backend's HIGH approval timeout is unknown or above a minute; start it with CREDITD_APPROVAL_TIMEOUT_HIGH=3s and set CREDITGATE_APPROVAL_TIMEOUT_HIGH=3s here")
			}
			wait = d
		}
		id, r := env.C.RequestApproval(ctx, agent, "gate-c-exp-requester", 5_000, "needs review", "gate-c-expire")
		Expect(id).NotTo(BeEmpty(), "request: %d %s", r.Status, r.Raw)
		env.Check("risk level of 5,000 credits", r.Str("risk_level") == "HIGH", r.Str("risk_level"), "HIGH", "", false)
		time.Sleep(wait + 1500*time.Millisecond)
		late := env.C.Decide(ctx, id, "gate-c-late", true, "too late", "gate-c-expire-late")
		m := fold(ctx)
		st := m.Approvals[id]
		env.Check("decision after expiry refused", !late.OK() && late.Status == 409, fmt.Sprintf("%d %s", late.Status, late.Code()), "409 already_decided (expired)", string(late.Raw), true)
		env.Check("request state after expiry", st.Status == audit.StatusExpired, st.Status, "expired", "the engine's timer or the lazy check must expire it", true)
		env.Check("no execution of an expired request", len(st.ExecutedEventIDs) == 0, len(st.ExecutedEventIDs), 0, "", true)
	})

	// RT3 over the whole gate's history (races, four-eyes, CRITICAL,
	// expiry): a decision sent after its request's terminal answer
	// returned must be refused already_decided.
	It("a decision sent after its request was decided is refused already_decided (real time)", Label("critical"), func() {
		env.Report(audit.RealtimeDecisions(env.Ops()), true)
	})

	It("holds across a crash mid-race: at most one terminal decision, acknowledged decisions survive", Label("critical"), func(ctx SpecContext) {
		env.RequireCap(target.CapCrash)
		ids := make([]string, 20)
		for i := range ids {
			id, r := env.C.RequestApproval(ctx, agent, "gate-c-requester", 500, "", fmt.Sprintf("gate-c-crash-%02d", i))
			Expect(id).NotTo(BeEmpty(), "request %d: %d %s", i, r.Status, r.Raw)
			ids[i] = id
		}
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				time.Sleep(time.Duration(i) * 5 * time.Millisecond)
				scenarios.Race(ctx, env.C, env.Rand(fmt.Sprintf("race-crash-%d", i)), id, 10, "gate-c-crash")
			}(i, id)
		}
		time.Sleep(40 * time.Millisecond)
		Expect(env.T.Kill(ctx)).To(Succeed())
		wg.Wait()
		Expect(env.T.Start(ctx)).To(Succeed())
		m := fold(ctx)
		bad := 0
		for _, id := range ids {
			if n := len(m.Approvals[id].TerminalEventIDs); n > 1 {
				bad++
			}
		}
		multiple += int64(bad)
		env.Check("requests with more than one terminal decision after the crash", bad == 0, bad, 0, "", true)
		j, err := env.Journal(ctx)
		Expect(err).NotTo(HaveOccurred())
		env.Report(audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{}), true)
		env.Report(audit.ApprovalDecisions(m), true)
		// After recovery the races can be finished: still one decision each.
		var results []scenarios.RaceResult
		for i, id := range ids {
			if m.Approvals[id].Status == audit.StatusPending {
				results = append(results, scenarios.Race(ctx, env.C, env.Rand(fmt.Sprintf("race-after-%d", i)), id, 5, "gate-c-after"))
			}
		}
		after := fold(ctx)
		for _, id := range ids {
			if n := len(after.Approvals[id].TerminalEventIDs); n != 1 {
				bad++
			}
		}
		env.Check("every request decided exactly once after recovery", bad == 0, bad, 0, fmt.Sprintf("%d requests raced again after the restart", len(results)), true)
		f := audit.RealtimeDecisions(env.Ops())
		f.Check += " (across kill -9)"
		env.Report(f, true)
		// RT4: losers told already_decided before the crash must name a
		// decision the journal kept (no dirty reads).
		jf, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred())
		env.Report(audit.WinnersDurable(jf, env.Ops()), true)
	})
})

func join(s []string) string {
	if len(s) > 10 {
		s = append(s[:10], fmt.Sprintf("… %d more", len(s)-10))
	}
	out := ""
	for _, x := range s {
		out += x + "\n"
	}
	return out
}
