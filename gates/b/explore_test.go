package b_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
)

// Generated commands (issue 17): a seeded generative workload over every
// route, on a backend started with settings drawn from the seed and several
// principals' tokens; the reference model judges every answer (B47) and
// the final state (B48).
var _ = Describe("Gate B: generated commands", Ordered, ContinueOnFailure, harness.Checks("B47", "B48"), func() {
	var env *harness.Env
	var run audit.ExploreRun

	BeforeAll(func(ctx SpecContext) {
		env, run = harness.BootExplore(ctx, "B", "B47", "B48")
	}, NodeTimeout(3*time.Minute))

	It("answers every generated command as the rules predict and ends in the model's state", Label("critical"), func() {
		env.RecordExplore(run, "B47", "B48")
	})
})
