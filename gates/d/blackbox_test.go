package d_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/chaos/corrupt"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// Crash and journal damage judged from the answers alone, so they apply to
// any backend the harness starts (the exec target included): after the
// fault, the API must still show every acknowledged write, and where it
// cannot (a line physically destroyed), health must say so.
var _ = Describe("Gate D (black-box): kill -9 and journal damage on any backend", Ordered, ContinueOnFailure, func() {
	var env *harness.Env

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "D", nil)
	}, NodeTimeout(2*time.Minute))

	// workload writes through the original's routes and returns the run
	// the judge folds.
	workload := func(ctx context.Context, stream string) scenarios.BlackBoxRun {
		cfg := scenarios.DefaultBlackBox()
		cfg.Prefix, cfg.Agents, cfg.Sequential = stream, 3, 15
		run, err := scenarios.BlackBox(ctx, env.C, env.Rand(stream), cfg)
		harness.Ensure(err == nil, "the black-box workload could not run: %v", err)
		return run
	}
	// survived judges the re-read state against the acknowledged writes:
	// B13 (balances) and B17 (histories) of the judge, as one finding.
	survived := func(run scenarios.BlackBoxRun) (ok bool, samples int, measured, detail string) {
		ok = true
		var parts []string
		for _, f := range audit.BlackBox(run.Ops, run.Snapshot) {
			switch catalog.IDOf(f.Check) {
			case "B13", "B17":
				ok = ok && f.OK
				samples += f.Samples
				parts = append(parts, f.Check+": "+f.Measured)
				for _, v := range f.Violations {
					detail += "\n  - " + v
				}
			}
		}
		return ok, samples, strings.Join(parts, "; "), detail
	}

	It("after kill -9 every acknowledged write is still there", Label("critical"), func(ctx SpecContext) {
		env.Require("D41")
		run := workload(ctx, "bbkill")
		harness.Ensure(env.T.Kill(ctx) == nil, "kill -9 of the backend failed")
		err := env.T.Start(ctx)
		harness.Ensure(err == nil, "the backend did not start again after kill -9: %v", err)
		run.Reread(ctx, env.C)
		ok, n, measured, detail := survived(run)
		env.Record("D41", harness.Measure{OK: ok, Samples: n, Measured: measured, Threshold: "every acknowledged write shows in balances and histories",
			Detail: "after kill -9 and restart" + detail})
	}, NodeTimeout(3*time.Minute))

	for _, c := range []corrupt.Corruptor{corrupt.Table[0], corrupt.Table[1]} { // torn tail, garbage line
		It("damage to the journal ("+c.Name+") is reported: health is not ok while an acknowledged write is lost or writes are refused", Label("critical"), func(ctx SpecContext) {
			env.Require("D42")
			run := workload(ctx, "bb"+strings.ReplaceAll(c.Name, " ", ""))
			harness.Ensure(env.T.Stop(ctx) == nil, "stopping the backend failed")
			path := env.T.JournalPath()
			before, err := os.ReadFile(path)
			harness.Ensure(err == nil, "reading the journal %s: %v", path, err)
			dmg, err := corrupt.ApplyFile(path, c, env.Rand("bb-"+c.Name))
			harness.Ensure(err == nil, "damaging the journal (%s): %v", c.Name, err)
			if err := env.T.Start(ctx); err != nil {
				// Refusing to start on damage is loud, never silent.
				env.Record("D42", harness.Measure{OK: true, Samples: 1, Variant: c.Name, Measured: "refused to start: " + err.Error(),
					Threshold: "damage reported (refusing to start reports it)"})
				_ = os.WriteFile(path, before, 0o644)
				harness.Ensure(env.T.Start(ctx) == nil, "the backend did not start on its undamaged journal")
				return
			}
			run.Reread(ctx, env.C)
			intact, n, measured, detail := survived(run)
			probe := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Agent: run.Agents[1],
				Body: map[string]any{"agent_id": run.Agents[1], "amount": 0.001, "reason": "after damage"}, AmountMilli: 1,
				Key: env.ID("bb-after-" + strings.ReplaceAll(c.Name, " ", "-"))})
			refused := probe.Status >= 500 || probe.Status == 0
			health := env.C.Get(ctx, "/api/health")
			reported := damageReported(health)
			ok := (intact || reported) && (!refused || reported)
			env.Record("D42", harness.Measure{OK: ok, Samples: n + 1, Variant: c.Name,
				Measured: fmt.Sprintf("writes intact: %v (%s); a new write answered %d; health %d %s", intact, measured, probe.Status,
					health.Status, strings.TrimSpace(string(health.Raw))),
				Threshold: "health not ok when an acknowledged write is gone or writes are refused",
				Detail:    fmt.Sprintf("damage at line %d (%s)%s", dmg.Line, dmg.Expect, detail)})
		}, NodeTimeout(3*time.Minute))
	}
})

// damageReported: health answers other than 200, or says it is not ok
// ("degraded", "failed", "unhealthy"), in `status` or `state`.
func damageReported(r scenarios.Reply) bool {
	if r.Status != 200 {
		return true
	}
	for _, k := range []string{"status", "state"} {
		switch strings.ToLower(r.Str(k)) {
		case "", "ok", "healthy", "up", "pass":
		default:
			return true
		}
	}
	return false
}
