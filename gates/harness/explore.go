package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// BootExplore boots our engine with settings drawn from the seed and
// several principals' tokens, runs the generative workload on it and
// returns the run for the reference model (gates/audit/explore.go). ids
// are the catalog checks the gate records from it: where the target cannot
// take settings or tokens the node is skipped before booting, each id SKIP.
func BootExplore(ctx context.Context, gate string, ids ...string) (*Env, audit.ExploreRun) {
	p := Load()
	settings := explore.DrawSettings(rand.New(rand.NewPCG(p.Seed, 0x736574)))
	principals := explore.Principals("x-")
	backend := settings.Env()
	backend["CREDITD_TOKENS"] = explore.TokensSpec(principals)
	opts := []BootOption{Requiring(ids...)}
	// Power cuts need the data directory on the power-loss layer; where
	// the target cannot mount it the explorer records them skipped.
	// Its fdatasync takes 2 ms, as on a real disk, so a power cut right
	// after a refusal can land before the sync of the batch that refusal
	// saw (a refusal answered before its cause is durable is caught).
	if ok, _ := target.ConfigFromEnv().Supports(catalog.CapPowerLoss); ok {
		opts = append(opts, WithPowerLoss(), WithTarget(func(c *target.Config) { c.SyncDelay = 2 * time.Millisecond }))
	}
	env := Boot(ctx, gate, backend, opts...)
	env.Require(ids...) // again, now that the routes are known
	env.C.Token = ""    // the explorer sends each command's own token
	r, err := explore.Explore(ctx, env.C, explore.Config{Seed: p.Seed, Commands: 900, Budget: 40 * time.Second,
		Prefix: env.ID("x"), Settings: settings, Principals: principals, Faults: &exploreFaults{env: env}})
	Ensure(err == nil, "the generated workload must run (seed %d, %s): %v", p.Seed, settings, err)
	b, _ := json.Marshal(r)
	_ = os.WriteFile(filepath.Join(env.OutDir, "explore-run.json"), b, 0o644)
	run, err := audit.ExploreRunFromJSON(b)
	Ensure(err == nil, "the generated run must read back: %v", err)
	n := audit.CountExplore(run)
	ginkgo.GinkgoWriter.Printf("explore: seed %d, %d commands (%d distinct, %d boundary cases, %d retries, %d final reads), %d principals; %s; settings %s\n",
		p.Seed, n.Commands, n.Distinct, n.Boundary, n.Retries, n.Final, n.Principals, n.FaultLine(), settings)
	return env, run
}

// RecordExplore judges the run and records the findings of the listed
// checks, each with what the run explored.
func (e *Env) RecordExplore(run audit.ExploreRun, ids ...string) {
	n := audit.CountExplore(run)
	for _, f := range audit.JudgeExplore(run) {
		if slices.Contains(ids, catalog.IDOf(f.Check)) {
			f.Detail = fmt.Sprintf("%d commands (%d distinct, %d boundary cases, %d retries) over %d routes by %d principals; %s; answers: %s; %s",
				n.Commands, n.Distinct, n.Boundary, n.Retries, n.Routes, n.Principals, n.FaultLine(), n.OutcomeLine(), f.Detail)
			if !f.OK {
				f.Detail += "\nrepro: " + e.P.Repro(e.Gate)
			}
			e.RecordFinding(f, "")
		}
	}
}
