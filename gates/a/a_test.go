// Gate A — event integrity: every line parses and passes its checksum, seq
// is gapless, every causation names an earlier event, each idempotency key
// is journaled once, retries return the original event, and the journal
// holds exactly what clients were acknowledged — nothing lost, nothing extra.
// The scenarios only record (scenarios/history); gates/audit judges.
package a_test

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
)

func TestGateA(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gate A - Event Integrity", Label("gate:A"))
}

var _ = Describe("Gate A: event integrity", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var storm scenarios.StormResult
	var idemViolations int64 // A7 + A9 violations, for the report's facts

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil)
		var err error
		cfg := scenarios.DefaultStorm(env.P.Concurrency, env.P.RetryInjection)
		cfg.KeyPrefix = env.ID("storm-a")
		storm, err = scenarios.Storm(ctx, env.C, env.Rand("storm"), cfg)
		Expect(err).NotTo(HaveOccurred(), "scenario 1 (credit storm) could not run")
		// Derived events (approval executions, rewards) give the causation
		// check something to verify.
		_, err = scenarios.Synergy(ctx, env.C, env.Rand("synergy"), env.ID("gate-a-team"), 3, 5)
		Expect(err).NotTo(HaveOccurred(), "scenario 2 (synergie) could not run")
		id, r := env.C.RequestApproval(ctx, storm.AgentIDs[0], "gate-a-requester", 600, "", "gate-a-approval")
		Expect(id).NotTo(BeEmpty(), "approval request: %d %s", r.Status, r.Raw)
		Expect(env.C.Decide(ctx, id, "gate-a-approver", true, "ok", "gate-a-approve").OK()).To(BeTrue())
	}, NodeTimeout(5*time.Minute))

	It("injects retries, sequential and concurrent", func() {
		env.Check("retry injection exercised", !env.P.RetryInjection || storm.Retries > 0, storm.Retries, "> 0 when RETRY_INJECTION",
			"a gate that injects no retries proves nothing about idempotency", false)
	})

	// The audit (gates/audit) is the only judge of the history: A8 (journaled
	// exactly once) and A9 (the one retry rule, docs/gates.md) included.
	It("the journal holds every acknowledged mutation exactly once and nothing else, retries return the original event, in a gapless checksummed sequence", func(ctx SpecContext) {
		critical := map[string]bool{"A7": true, "A8": true, "A9": true}
		fs := env.AuditA(ctx, true)
		for _, f := range fs {
			if f.Check == audit.CheckRetries || f.Check == audit.CheckKeysOnce {
				idemViolations += int64(f.ViolationCount)
			}
		}
		env.ReportAll(fs, func(check string) bool { return critical[strings.Fields(check)[0]] })
	})

	It("the storm was not refused unexpectedly", func() {
		env.SaveScenario(reports.Scenario{Name: "1 credit storm", Status: harness.ScenarioStatus(storm.Unexpected == 0 && idemViolations == 0),
			Duration: reports.Seconds(storm.Elapsed.Seconds()), Throughput: storm.Throughput,
			P95Latency: scenarios.P95(env.C.Latency("POST /consume")), Errors: int64(storm.Unexpected),
			InvariantsPassed: idemViolations == 0,
			Metrics:          map[string]any{"requests": storm.Requests, "acknowledged": storm.OK, "insufficient_credits": storm.Refused, "retries": storm.Retries}})
		env.SaveFacts(reports.Facts{IdempotencyViolations: idemViolations})
		env.Check("unexpected errors in the storm", storm.Unexpected == 0, storm.Unexpected, 0,
			"every request of the storm must be acknowledged or refused with insufficient_credits", false)
	})
})
