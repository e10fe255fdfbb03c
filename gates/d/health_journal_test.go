package d_test

// Health versus a failed journal (SPEC §3 "sticky write errors": after a
// failed write or sync the journal refuses every later append, the engine
// answers 503 and health reports the journal as failed). The harness puts
// the process or container target's journal on a small tmpfs it mounts itself, fills the
// file system while the backend runs, and watches: no write is acknowledged
// once the disk is full, health says failed, the failure is sticky when
// space comes back, and after a restart everything acknowledged is there.
// Without root (mount refused) or on a url target the spec checks
// only that health reports a journal state, and skips with the reason.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// Check names (the coverage map in gates/coverage refers to them).
const (
	CheckHealthJournalField  = "health reports the journal state"
	CheckFullDiskNotAcked    = "journal failure: no write is acknowledged once the journal cannot append"
	CheckHealthJournalFailed = "journal failure: health reports the journal failed (status failed, HTTP 503)"
	CheckJournalSticky       = "journal failure is sticky: appends stay refused after space returns (no fsync retry)"
	CheckAckedAfterFailure   = "journal failure: after a restart every acknowledged write is journaled, none refused"
)

var _ = Describe("Gate D: health tells the truth about a failed journal", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var mnt string

	health := func(ctx context.Context) (int, map[string]any) {
		r := env.C.Get(ctx, "/api/credits/health")
		return r.Status, r.Body
	}

	BeforeAll(func(ctx SpecContext) {
		cfg := target.ConfigFromEnv()
		if cfg.Kind == target.KindURL || cfg.Kind == target.KindCluster { // no journal disk the harness controls (cluster: events in PostgreSQL)
			env = harness.Boot(ctx, "D", nil)
			return
		}
		mnt = filepath.Join(os.TempDir(), fmt.Sprintf("creditgate-fulldisk-%d", os.Getpid()))
		Expect(os.MkdirAll(mnt, 0o755)).To(Succeed())
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m"); err != nil {
			GinkgoWriter.Printf("cannot mount a tmpfs for the journal (%v): the injection is unavailable\n", err)
			_ = os.Remove(mnt)
			mnt = ""
			env = harness.Boot(ctx, "D", nil)
			return
		}
		DeferCleanup(func() {
			_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
			_ = os.Remove(mnt)
		})
		cfg.DataDir = filepath.Join(mnt, "data")
		cfg.Env = map[string]string{} // KARMA disabled: health depends on the journal only
		t, err := target.New(ctx, cfg)
		if t != nil {
			DeferCleanup(func(ctx SpecContext) { _ = t.Terminate(ctx) }, NodeTimeout(time.Minute))
		}
		Expect(err).NotTo(HaveOccurred(), "booting the target on a tmpfs")
		env = &harness.Env{Gate: "D", P: harness.Load(), TCfg: cfg, T: t, C: scenarios.NewClient(t.BaseURL(), t.Token()),
			OutDir: filepath.Join(harness.OutDir("D"), "journal-failure")}
		Expect(os.MkdirAll(env.OutDir, 0o755)).To(Succeed())
	}, NodeTimeout(2*time.Minute))

	It("health reports the journal's state", func(ctx SpecContext) {
		status, body := health(ctx)
		j, _ := body["journal"].(string)
		env.Check(CheckHealthJournalField, status == 200 && j == "ok", fmt.Sprintf("%d journal=%q", status, j), `200 journal="ok"`,
			"GET /api/credits/health must name the journal state so an operator sees it fail", false)
	})

	if journalFileApplies {
		It("a journal that cannot append is reported failed by health, stays failed, and loses nothing acknowledged", Label("critical"), func(ctx SpecContext) {
			if mnt == "" {
				Skip("journal failure cannot be injected here: it needs a process or container target and permission to mount a tmpfs (root); " +
					"health's journal field is checked above")
			}
			agent := "fd-agent"
			Expect(env.C.CreateAgent(ctx, agent, 600)).To(Succeed())
			consume := func(key string) scenarios.Reply {
				return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: key,
					Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "full disk"}})
			}
			Expect(consume("fd-before").OK()).To(BeTrue())

			// Fill the file system: the journal's next block cannot be allocated.
			filler := filepath.Join(mnt, "filler")
			f, err := os.Create(filler)
			Expect(err).NotTo(HaveOccurred())
			chunk := make([]byte, 64<<10)
			for {
				if _, err := f.Write(chunk); err != nil {
					Expect(errors.Is(err, syscall.ENOSPC)).To(BeTrue(), "filling the tmpfs: %v", err)
					break
				}
			}
			for small := 1; small > 0; { // the last partial block too
				if _, err := f.Write(chunk[:512]); err != nil {
					small = 0
				}
			}
			f.Close()

			// The journal's last page may still have room: append until the
			// first refusal (each line is ~500 bytes).
			var acked int
			var refused scenarios.Reply
			for i := 0; i < 200; i++ {
				r := consume(fmt.Sprintf("fd-full-%d", i))
				if !r.OK() {
					refused = r
					break
				}
				acked++
			}
			env.Check(CheckFullDiskNotAcked, !refused.OK() && refused.Status >= 500, fmt.Sprintf("%d acknowledged, then %d %s", acked, refused.Status,
				strings.TrimSpace(string(refused.Raw))), "a 5xx (503) once the disk is full, within 200 appends",
				"an append the journal could not write must never be acknowledged", true)

			status, body := health(ctx)
			env.Check(CheckHealthJournalFailed, status == 503 && body["status"] == "failed" && body["journal"] == "failed",
				fmt.Sprintf("%d status=%v journal=%v", status, body["status"], body["journal"]), `503 status="failed" journal="failed"`,
				fmt.Sprintf("journal_error=%v", body["journal_error"]), true)

			Expect(os.Remove(filler)).To(Succeed())
			after := consume("fd-after-space")
			status, body = health(ctx)
			env.Check(CheckJournalSticky, !after.OK() && status == 503, fmt.Sprintf("append %d, health %d %v", after.Status, status, body["status"]),
				"append refused (5xx), health still 503", "SPEC §3: after a failed write or sync every later append is refused with the same error", true)

			// Restart: replay cuts a torn tail if the failed write left one;
			// everything acknowledged must be there, nothing refused.
			Expect(env.T.Kill(ctx)).To(Succeed())
			Expect(env.T.Start(ctx)).To(Succeed())
			r := consume("fd-after-restart")
			j, err := env.FullJournal(ctx)
			Expect(err).NotTo(HaveOccurred())
			f2 := audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{})
			env.Check(CheckAckedAfterFailure, f2.OK && r.OK(), f2.Measured+fmt.Sprintf("; append after restart %d", r.Status),
				"0 violations; appends work after a restart", f2.Detail+" "+strings.Join(f2.Violations, "; "), true)
		})
	}
})
