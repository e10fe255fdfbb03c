package a_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
)

// The black-box judge needs only the original's routes: it measures any
// backend, including one whose journal the harness cannot read.
var _ = Describe("Gate A (black-box): retries, 5xx answers and hostile amounts judged from the answers alone", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var findings map[string]audit.Finding

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil)
		if !env.Applies("A11") {
			return // the specs record N/A with the missing routes
		}
		run, err := scenarios.BlackBox(ctx, env.C, env.Rand("blackbox-a"), scenarios.DefaultBlackBox())
		harness.Ensure(err == nil, "the black-box workload over the original's routes could not run: %v", err)
		findings = map[string]audit.Finding{}
		for _, f := range audit.BlackBox(run.Ops, run.Snapshot) {
			findings[catalog.IDOf(f.Check)] = f
		}
	}, NodeTimeout(2*time.Minute))

	It("a keyed retry answered 2xx never moves money again", Label("critical"), func() {
		env.Require("A11")
		env.RecordFinding(findings["A11"], "")
	})
	It("a write answered 5xx changed nothing", func() {
		env.Require("A12")
		env.RecordFinding(findings["A12"], "")
	})
	It("non-finite, negative and absurd amounts are refused and change nothing", Label("critical"), func() {
		env.Require("A13")
		env.RecordFinding(findings["A13"], "")
	})
})
