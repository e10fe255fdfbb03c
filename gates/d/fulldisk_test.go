// Gate D — full disk: the backend's journal sits on the power-loss layer
// with a byte quota; the gate drives it to ENOSPC and requires a clear 503
// (never a 500), health that says so, a failure that sticks until restart
// even when space comes back, and nothing acknowledged that is not durable.
package d_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// diskRoom is how many bytes the data directory may still grow by when the
// gate switches the quota on: room for a few dozen events.
const diskRoom = 16 << 10

var _ = journalFileApplies && Describe("Gate D: full disk", Label("full-disk"), harness.Checks("D34", "D35", "D36", "D37", "D38", "D39", "D40", "D43", "A8"), func() {
	It("a full disk is a clear 503, failed health, sticky until restart, and loses nothing acknowledged", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "full-disk", "D34", "D35", "D36", "D37", "D38", "D39", "D40", "D43", "A8")
		agent := "fd-agent"
		err := env.C.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "the full-disk agent must be created with 1000 credits: %v", err)
		full := &fault.DiskFull{PC: pc, Room: diskRoom}
		_, err = env.Inject(ctx, full)
		harness.Injected(err, "the disk quota must be set to %d bytes of room", diskRoom)

		consume := func(key string) scenarios.Reply {
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: key,
				Body: map[string]any{"agent_id": agent, "amount": 0.25, "reason": "full-disk " + strings.Repeat("x", 64)}})
		}
		// Fill the disk: consume until the backend refuses.
		var first scenarios.Reply
		statuses := map[int]int{}
		acked := 0
		for i := 0; i < 2000; i++ {
			r := consume(fmt.Sprintf("gate-d-fd-%04d", i))
			statuses[r.Status]++
			if r.OK() {
				acked++
				continue
			}
			first = r
			break
		}
		reached := first.Status != 0 || first.Err != nil
		env.Record("D34", harness.Measure{OK: reached, Samples: 1, Measured: fmt.Sprintf("%d acknowledged, then %d %s", acked, first.Status, first.Raw),
			Threshold: "a refusal within 2000 consumes", Detail: fmt.Sprintf("quota: %d bytes of room", diskRoom)})
		// Keep writing into the full disk: every answer must be the same clear refusal.
		refusals := 0
		if reached {
			refusals = 1
		}
		for i := 0; i < 10; i++ {
			statuses[consume(fmt.Sprintf("gate-d-fd-full-%02d", i)).Status]++
			refusals++
		}
		env.Record("D35", harness.Measure{OK: statuses[500] == 0 && first.Status == 503, Samples: refusals, Measured: statuses, Threshold: "503 (journal_failed), no 500",
			Detail: fmt.Sprintf("first refusal: %d %s; answers once the disk was full", first.Status, first.Raw)})
		h := env.C.Get(ctx, "/api/health")
		env.Record("D36", harness.Measure{OK: h.Str("status") == "failed" || h.Str("status") == "degraded", Samples: 1,
			Measured: fmt.Sprintf("%d %s", h.Status, h.Str("status")), Threshold: "failed (or degraded)", Detail: string(h.Raw)})

		// Free the space: the failure must stick until restart (after a
		// failed write or fsync nothing the journal holds can be trusted).
		_, err = env.Heal(ctx, full)
		harness.Ensure(err == nil, "the disk quota must be lifted: %v", err)
		sticky := map[int]int{}
		for i := 0; i < 5; i++ {
			sticky[consume(fmt.Sprintf("gate-d-fd-freed-%02d", i)).Status]++
		}
		env.Record("D37", harness.Measure{OK: sticky[503] == 5, Samples: 5, Measured: sticky, Threshold: "5 × 503 until restart",
			Detail: "a journal that resumes after a failed write may have lost or torn what came before"})
		h = env.C.Get(ctx, "/api/health")
		env.Record("D38", harness.Measure{OK: h.Str("status") == "failed" || h.Str("status") == "degraded", Samples: 1,
			Measured: h.Str("status"), Threshold: "failed (or degraded)", Detail: string(h.Raw)})

		// Restart through a power cut: whatever was acknowledged must have
		// been durable, not just written.
		cut := &fault.PowerCut{PC: pc}
		_, err = env.Inject(ctx, cut)
		harness.Injected(err, "the power cut and the restart after the full disk must succeed")
		rep := cut.Report
		GinkgoWriter.Println("verify after restart:", string(env.C.Get(ctx, "/api/credits/journal/verify").Raw))
		after := consume("gate-d-fd-after-restart")
		env.Record("D39", harness.Measure{OK: after.OK(), Samples: 1, Measured: after.Status, Threshold: "2xx", Detail: string(after.Raw)})

		j := readJournal(ctx, env)
		entries := env.Ops()
		present := map[string]bool{}
		for _, e := range j.Events() {
			present[e.IdempotencyKey] = true
		}
		var lost []string
		checked := 0
		for _, e := range entries {
			if !e.Kind.Mutation() || !e.Outcome.Acked() || e.Role == history.Setup {
				continue
			}
			checked++
			if !present[e.Key] {
				lost = append(lost, fmt.Sprintf("op %d key %s", e.ID, e.Key))
			}
		}
		figures := fmt.Sprintf("%d acknowledged consumes checked after the restart; %d unsynced bytes dropped by the power cut; lost %d",
			checked, rep.BytesDropped, len(lost))
		env.Record("D40", harness.Measure{OK: len(lost) == 0, Samples: checked, Measured: len(lost), Threshold: 0, Detail: figures + "\n" + firstN(lost, 20)})
		env.RecordFinding(audit.CheckHistoryExact(j, entries, audit.HistoryOptions{}), "full disk")
		env.RecordFinding(audit.CheckAckedSurvivedFaults(j, entries, env.Windows(), cut.Name()), "full disk, then a power cut")
		env.SaveScenario(reports.Scenario{Name: "full disk", Status: harness.ScenarioStatus(!CurrentSpecReport().Failed()), InvariantsPassed: len(lost) == 0, Detail: figures,
			Metrics: map[string]any{"acknowledged_before_full": acked, "statuses_when_full": reports.Readable(statuses),
				"acknowledged_checked": checked, "lost": len(lost)}})
	})
})
