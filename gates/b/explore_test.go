package b_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// Generated commands (issue 17): a seeded generative workload over every
// route, on a backend started with settings drawn from the seed and several
// principals' tokens; the reference model judges every answer (B47) and
// the final state (B48).
var _ = Describe("Gate B: generated commands", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var run audit.ExploreRun

	BeforeAll(func(ctx SpecContext) {
		p := harness.Load()
		settings := explore.DrawSettings(rand.New(rand.NewPCG(p.Seed, 0x736574)))
		principals := explore.Principals("x-")
		backend := settings.Env()
		backend["CREDITD_TOKENS"] = explore.TokensSpec(principals)
		env = harness.Boot(ctx, "B", backend, harness.Requiring("B47", "B48"))
		env.Require("B47", "B48") // again, now that the routes are known
		env.C.Token = ""          // the explorer sends each command's own token
		r, err := explore.Explore(ctx, env.C, explore.Config{Seed: p.Seed, Commands: 900, Budget: 30 * time.Second,
			Prefix: env.ID("x"), Settings: settings, Principals: principals})
		harness.Ensure(err == nil, "the generated workload must run (seed %d, %s): %v", p.Seed, settings, err)
		b, _ := json.Marshal(r)
		_ = os.WriteFile(filepath.Join(env.OutDir, "explore-run.json"), b, 0o644)
		run, err = audit.ExploreRunFromJSON(b)
		harness.Ensure(err == nil, "the generated run must read back: %v", err)
		n := audit.CountExplore(run)
		GinkgoWriter.Printf("explore: seed %d, %d commands (%d distinct, %d boundary cases, %d retries, %d final reads), %d principals, settings %s\n",
			p.Seed, n.Commands, n.Distinct, n.Boundary, n.Retries, n.Final, n.Principals, settings)
	}, NodeTimeout(3*time.Minute))

	It("answers every generated command as the rules predict and ends in the model's state", Label("critical"), func() {
		n := audit.CountExplore(run)
		for _, f := range audit.JudgeExplore(run) {
			if f.Check == audit.CheckB47 || f.Check == audit.CheckB48 {
				f.Detail = fmt.Sprintf("%d commands (%d distinct, %d boundary cases, %d retries) over %d routes by %d principals; answers: %s; %s",
					n.Commands, n.Distinct, n.Boundary, n.Retries, n.Routes, n.Principals, n.OutcomeLine(), f.Detail)
				env.RecordFinding(f, "")
			}
		}
	})
})
