// Gate D — full disk: the backend's journal sits on the power-loss layer
// with a byte quota; the gate drives it to ENOSPC and requires a clear 503
// (never a 500), health that says so, a failure that sticks until restart
// even when space comes back, and nothing acknowledged that is not durable.
package d_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// diskRoom is how many bytes the data directory may still grow by when the
// gate switches the quota on: room for a few dozen events.
const diskRoom = 16 << 10

var _ = journalFileApplies && Describe("Gate D: full disk", Label("full-disk"), func() {
	It("a full disk is a clear 503, failed health, sticky until restart, and loses nothing acknowledged", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "full-disk")
		agent := "fd-agent"
		Expect(env.C.CreateAgent(ctx, agent, 1000)).To(Succeed())
		Expect(pc.SetDiskQuota(pc.DiskUsed() + diskRoom)).To(Succeed())

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
		env.Check("full disk: reached", first.Status != 0 || first.Err != nil, fmt.Sprintf("%d acknowledged, then %d %s", acked, first.Status, first.Raw),
			"a refusal within 2000 consumes", fmt.Sprintf("quota: %d bytes of room", diskRoom), true)
		// Keep writing into the full disk: every answer must be the same clear refusal.
		for i := 0; i < 10; i++ {
			statuses[consume(fmt.Sprintf("gate-d-fd-full-%02d", i)).Status]++
		}
		env.Check("full disk: answered 503, never 500", statuses[500] == 0 && first.Status == 503, statuses, "503 (journal_failed), no 500",
			fmt.Sprintf("first refusal: %d %s", first.Status, first.Raw), true)
		h := env.C.Get(ctx, "/api/health")
		env.Check("full disk: health reports the failed journal", h.Str("status") == "failed" || h.Str("status") == "degraded",
			fmt.Sprintf("%d %s", h.Status, h.Str("status")), "failed (or degraded)", string(h.Raw), true)

		// Free the space: the failure must stick until restart (after a
		// failed write or fsync nothing the journal holds can be trusted).
		Expect(pc.SetDiskQuota(0)).To(Succeed())
		sticky := map[int]int{}
		for i := 0; i < 5; i++ {
			sticky[consume(fmt.Sprintf("gate-d-fd-freed-%02d", i)).Status]++
		}
		env.Check("full disk: refusal sticky after space is freed", sticky[503] == 5, sticky, "5 × 503 until restart",
			"a journal that resumes after a failed write may have lost or torn what came before", true)
		h = env.C.Get(ctx, "/api/health")
		env.Check("full disk: health stays failed until restart", h.Str("status") == "failed" || h.Str("status") == "degraded",
			h.Str("status"), "failed (or degraded)", string(h.Raw), true)

		// Restart through a power cut: whatever was acknowledged must have
		// been durable, not just written.
		rep, err := pc.PowerCut(ctx)
		Expect(err).NotTo(HaveOccurred(), "power cut and restart after the full disk")
		GinkgoWriter.Println("verify after restart:", string(env.C.Get(ctx, "/api/credits/journal/verify").Raw))
		after := consume("gate-d-fd-after-restart")
		env.Check("full disk: appends work again after space is freed and the backend restarts", after.OK(), after.Status, "2xx", string(after.Raw), true)

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
		env.Check("full disk: acknowledged events lost", len(lost) == 0, len(lost), 0, figures+"\n"+firstN(lost, 20), true)
		env.Report(audit.CheckHistoryExact(j, entries, audit.HistoryOptions{}), true)
		env.SaveScenario(reports.Scenario{Name: "full disk", Status: reports.ScenarioPassed, InvariantsPassed: true, Detail: figures,
			Metrics: map[string]any{"acknowledged_before_full": acked, "statuses_when_full": reports.Readable(statuses),
				"acknowledged_checked": checked, "lost": len(lost)}})
	})
})
