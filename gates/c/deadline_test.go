package c_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios/money"
)

// The deadlines of this container: long enough for a stop before the
// HIGH one passes, the CRITICAL one passing well after the start.
const (
	deadlineHigh     = 5 * time.Second
	deadlineCritical = 14 * time.Second
)

// SPEC §5: a request expires at its deadline ("a timer emits
// approval.expired ... and lazily on access"), and §3: state survives a
// restart. A deadline is the request's, not the process's: one that passed
// while the backend was down is past when it is back, and one still ahead
// at the start stays where it was — a backend that arms its timers anew at
// start (now + timeout) lets both be decided late.
var _ = Describe("Gate C: deadlines across a restart", Ordered, ContinueOnFailure, harness.Checks("C38"), func() {
	var env *harness.Env

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "C", map[string]string{"CREDITD_APPROVAL_TIMEOUT_HIGH": deadlineHigh.String(),
			"CREDITD_APPROVAL_TIMEOUT_CRITICAL": deadlineCritical.String()}, harness.WithOutDir("deadlines"), harness.Requiring("C38"))
	}, NodeTimeout(2*time.Minute))

	It("keeps every request's deadline across a restart: past ones are expired when the backend is back, pending ones expire when they were due", Label("critical"), func(ctx SpecContext) {
		env.Require("C38")
		agent := env.ID("gate-c-deadline-agent")
		harness.Ensure(env.C.CreateAgent(ctx, agent, 100) == nil, "the deadlines' agent %s must be created with 100 credits", agent)
		const requester = "gate-c-deadline-requester"
		created := time.Now()
		open := func(level string, milli int64) string {
			id, r := env.C.RequestApproval(ctx, agent, requester, milli, "needs review", "gate-c-deadline-"+level)
			harness.Ensure(id != "" && r.Status == 202 && r.Str("risk_level") == level,
				"POST /approvals for %s credits must open a pending %s request (202 with its request_id): got %d %s", money.FormatMilli(milli), level, r.Status, r.Raw)
			return id
		}
		high, crit := open("HIGH", 5_000_000), open("CRITICAL", 50_000_000)
		if why := env.TimeoutTaken(ctx, high, "CREDITD_APPROVAL_TIMEOUT_HIGH", deadlineHigh) + env.TimeoutTaken(ctx, crit, "CREDITD_APPROVAL_TIMEOUT_CRITICAL", deadlineCritical); why != "" {
			env.Record("C38", harness.Measure{Detail: why})
			return
		}
		before, err := env.C.BalanceMilli(ctx, agent)
		harness.Ensure(err == nil, "GET /balance/%s must answer: %v", agent, err)

		harness.Ensure(env.T.Stop(ctx) == nil, "the backend must stop cleanly with two requests pending")
		time.Sleep(time.Until(created.Add(deadlineHigh + 1500*time.Millisecond)))
		harness.Ensure(env.T.Start(ctx) == nil, "the backend must start again on its journal")
		started := time.Since(created)

		var bad []string
		late := func(id, what string) {
			r := env.C.Decide(ctx, id, "gate-c-deadline-approver", true, "reviewed, too late", "gate-c-deadline-late-"+id)
			if r.OK() || r.Status != 409 {
				bad = append(bad, fmt.Sprintf("%s %s: a decision %s after it was requested answered %d %s (want 409 already_decided)",
					what, id, time.Since(created).Round(100*time.Millisecond), r.Status, r.Raw))
			}
			if g := env.C.Get(ctx, "/api/credits/approvals/"+id); g.Str("status") != "expired" {
				bad = append(bad, fmt.Sprintf("%s %s: GET /approvals/{id} shows %q (want expired): %.300s", what, id, g.Str("status"), g.Raw))
			}
		}
		late(high, "HIGH request whose deadline passed while the backend was down")
		time.Sleep(time.Until(created.Add(deadlineCritical + 1500*time.Millisecond)))
		late(crit, fmt.Sprintf("CRITICAL request pending at the start (%s after it was requested), due at %s", started.Round(100*time.Millisecond), deadlineCritical))
		after, err := env.C.BalanceMilli(ctx, agent)
		harness.Ensure(err == nil, "GET /balance/%s must answer: %v", agent, err)
		if after != before {
			bad = append(bad, fmt.Sprintf("the agent's balance moved from %s to %s: an expired request executed", money.FormatMilli(before), money.FormatMilli(after)))
		}
		env.Record("C38", harness.Measure{OK: len(bad) == 0, Samples: 2, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("timeouts HIGH %s, CRITICAL %s; stopped with both pending, started %s after the requests; %s", deadlineHigh, deadlineCritical,
				started.Round(100*time.Millisecond), strings.Join(bad, "; "))})
	}, NodeTimeout(2*time.Minute))
})
