package b_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
)

// The black-box fold: balances and histories equal what the client was
// acknowledged, in exact money, on any backend that serves the original's
// routes (the journal fold of B1–B12 needs the event stream on top).
var _ = Describe("Gate B (black-box): balances and histories equal the fold of acknowledged writes", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var findings map[string]audit.Finding

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		if !env.Applies("B13") {
			return // the specs record N/A with the missing routes
		}
		run, err := scenarios.BlackBox(ctx, env.C, env.Rand("blackbox-b"), scenarios.DefaultBlackBox())
		harness.Ensure(err == nil, "the black-box workload over the original's routes could not run: %v", err)
		findings = map[string]audit.Finding{}
		for _, f := range audit.BlackBox(run.Ops, run.Snapshot) {
			findings[catalog.IDOf(f.Check)] = f
		}
	}, NodeTimeout(2*time.Minute))

	for _, c := range []struct{ id, text string }{
		{"B13", "balances equal the fold of acknowledged writes, exactly"},
		{"B14", "money is exact: at most three decimals, no float noise"},
		{"B15", "re-registering an agent leaves its balance alone"},
		{"B16", "an agent nobody created has no balance"},
		{"B17", "histories equal the fold of acknowledged writes"},
	} {
		It(c.text, Label("critical"), func() {
			env.Require(c.id)
			env.RecordFinding(findings[c.id], "")
		})
	}
})
