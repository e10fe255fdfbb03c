package c_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
)

// Generated decisions (issue 17): the generative workload of gate B's
// generated-commands spec, judged for who acted (C31: the token's
// principal, never the body's; four-eyes) and whether the settings decided
// what they should (C32).
var _ = Describe("Gate C: generated decisions and settings", Ordered, ContinueOnFailure, harness.Checks("C31", "C32"), func() {
	var env *harness.Env
	var run audit.ExploreRun

	BeforeAll(func(ctx SpecContext) {
		env, run = harness.BootExplore(ctx, "C", 0, "C31", "C32")
	}, NodeTimeout(3*time.Minute))

	It("takes the acting principal from the token, keeps four-eyes and follows the settings", Label("critical"), func() {
		env.RecordExplore(run, "C31", "C32")
	})
})
