package d_test

// Health versus a failed journal (SPEC §3 "sticky write errors": after a
// failed write or sync the journal refuses every later append, the engine
// answers 503 and health reports the journal as failed). The harness puts
// the process or container target's journal on a small tmpfs it mounts itself, fills the
// file system while the backend runs, and watches: no write is acknowledged
// once the disk is full, health says failed, the failure is sticky when
// space comes back, the stream serves nothing of the refused append, and
// after a restart everything acknowledged is there.
// Without root (mount refused) or on a url target the spec checks
// only that health reports a journal state, and skips with the reason.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

var _ = Describe("Gate D: health tells the truth about a failed journal", Ordered, ContinueOnFailure, harness.Checks("D27", "D28", "D29", "D30", "D31", "D46", "D51"), func() {
	var env *harness.Env
	var mnt, noMount string

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
		err := os.MkdirAll(mnt, 0o755)
		harness.Ensure(err == nil, "the tmpfs mount point %s must be created: %v", mnt, err)
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m"); err != nil {
			noMount = fmt.Sprintf("the harness cannot mount a tmpfs for the journal (%v): run as root to inject a journal failure", err)
			GinkgoWriter.Println(noMount)
			_ = os.Remove(mnt)
			mnt = ""
			env = harness.Boot(ctx, "D", nil)
			return
		}
		DeferCleanup(func() {
			_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
			_ = os.Remove(mnt)
		})
		env = harness.Boot(ctx, "D", nil, harness.WithoutKarma(), harness.WithOutDir("journal-failure"), // health depends on the journal only
			harness.WithTarget(func(c *target.Config) { c.DataDir = filepath.Join(mnt, "data") }))
	}, NodeTimeout(2*time.Minute))

	It("health reports the journal's state", func(ctx SpecContext) {
		env.Require("D27")
		status, body := health(ctx)
		j, _ := body["journal"].(string)
		env.Record("D27", harness.Measure{OK: status == 200 && j == "ok", Samples: 1, Measured: fmt.Sprintf("%d journal=%q", status, j), Threshold: `200 journal="ok"`,
			Detail: "GET /api/credits/health must name the journal state so an operator sees it fail"})
	})

	if journalFileApplies {
		It("a journal that cannot append is reported failed by health, stays failed, and loses nothing acknowledged", Label("critical"), func(ctx SpecContext) {
			ids := []string{"D28", "D29", "D46", "D51", "D30", "D31"}
			env.Require(ids...)
			if mnt == "" {
				for _, id := range ids {
					env.Record(id, harness.Measure{Detail: noMount})
				}
				return
			}
			agent := "fd-agent"
			err := env.C.CreateAgent(ctx, agent, 600)
			harness.Ensure(err == nil, "the full-disk agent must be created with 600 credits: %v", err)
			consume := func(key string) scenarios.Reply {
				return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: key,
					Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "full disk"}})
			}
			r0 := consume("fd-before")
			harness.Accepted(r0, "a consume before the disk fills")
			// D51: what the stream may serve once appends fail — the events
			// it served before, and the ones acknowledged since.
			known := map[string]bool{r0.Str("event_id"): true}
			base := env.C.Get(ctx, "/api/credits/events")
			for l := range bytes.Lines(base.Raw) {
				var e struct {
					EventID string `json:"event_id"`
				}
				if json.Unmarshal(l, &e) == nil {
					known[e.EventID] = true
				}
			}

			// Fill the file system: the journal's next block cannot be allocated.
			filler := filepath.Join(mnt, "filler")
			f, err := os.Create(filler)
			harness.Ensure(err == nil, "the filler file must be created on the tmpfs: %v", err)
			chunk := make([]byte, 64<<10)
			for {
				if _, err := f.Write(chunk); err != nil {
					harness.Ensure(errors.Is(err, syscall.ENOSPC), "filling the tmpfs must end in ENOSPC, got %v", err)
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
			var acked, sent int
			var refused scenarios.Reply
			for i := 0; i < 200; i++ {
				r := consume(fmt.Sprintf("fd-full-%d", i))
				sent++
				if !r.OK() {
					refused = r
					break
				}
				known[r.Str("event_id")] = true
				acked++
			}
			env.Record("D28", harness.Measure{OK: !refused.OK() && refused.Status >= 500, Samples: sent,
				Measured:  fmt.Sprintf("%d acknowledged, then %d %s", acked, refused.Status, strings.TrimSpace(string(refused.Raw))),
				Threshold: "a 5xx (503) once the disk is full, within 200 appends", Detail: "an append the journal could not write must never be acknowledged"})

			status, body := health(ctx)
			// A backend whose health has no "journal" member (another schema)
			// is judged by status and HTTP code alone.
			journal, named := body["journal"]
			env.Record("D29", harness.Measure{OK: status == 503 && body["status"] == "failed" && (!named || journal == "failed"), Samples: 1,
				Measured: fmt.Sprintf("%d status=%v journal=%v", status, body["status"], body["journal"]), Threshold: `503 status="failed" (journal="failed" where named)`,
				Detail: fmt.Sprintf("journal_error=%v", body["journal_error"])})

			// The stream serves what is durable: never a line of the append
			// the journal refused, whole or in part.
			served := env.C.Get(ctx, "/api/credits/events")
			d51 := streamWhileFailed(served, known)
			d51.Variant = "disk full"
			env.Record("D51", d51)

			// Readiness: a load balancer must stop sending writes to an
			// instance that refuses every one.
			ready := env.C.Get(ctx, "/readyz")
			env.Record("D46", harness.Measure{OK: ready.Status >= 500, Samples: 1, Measured: fmt.Sprintf("%d %s", ready.Status, strings.TrimSpace(string(ready.Raw))),
				Threshold: "not ready (5xx, 503)", Detail: "GET /readyz while every append is refused because the journal failed"})

			err = os.Remove(filler)
			harness.Ensure(err == nil, "the filler must be removed to give the space back: %v", err)
			after := consume("fd-after-space")
			status, body = health(ctx)
			env.Record("D30", harness.Measure{OK: !after.OK() && status == 503, Samples: 1, Measured: fmt.Sprintf("append %d, health %d %v", after.Status, status, body["status"]),
				Threshold: "append refused (5xx), health still 503", Detail: "SPEC §3: after a failed write or sync every later append is refused with the same error"})

			// Restart: replay cuts a torn tail if the failed write left one;
			// everything acknowledged must be there, nothing refused.
			kill := &fault.Kill{T: env.T}
			_, err = env.Inject(ctx, kill)
			harness.Injected(err, "kill -9 of the backend with the failed journal must succeed")
			_, err = env.Heal(ctx, kill)
			harness.Ensure(err == nil, "the backend must start again after the journal failure: %v", err)
			r := consume("fd-after-restart")
			j, err := env.FullJournal(ctx)
			harness.Ensure(err == nil, "the journal must be readable after the restart: %v", err)
			f2 := audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{})
			env.Record("D31", harness.Measure{OK: f2.OK && r.OK(), Samples: f2.Samples, Measured: f2.Measured + fmt.Sprintf("; append after restart %d", r.Status),
				Threshold: "0 violations; appends work after a restart", Detail: f2.Detail + " " + strings.Join(f2.Violations, "; ")})
		})
	}
})

// streamWhileFailed judges one GET /events read while the journal refuses
// every append: 200 with only whole lines of events served before or
// acknowledged since (known event ids), or 503 (the backend refuses reads
// too). A line of a refused append, or a part of one, is served data that
// never became durable.
func streamWhileFailed(r scenarios.Reply, known map[string]bool) harness.Measure {
	m := harness.Measure{Samples: 1, Threshold: "200 with only events served before or acknowledged since, or 503"}
	if r.Status == 503 {
		m.OK, m.Measured, m.Detail = true, "503", "the backend refuses reads of the stream while its journal has failed"
		return m
	}
	if r.Status != 200 {
		m.Measured, m.Detail = fmt.Sprintf("%d", r.Status), fmt.Sprintf("GET /events answered %d %.300s", r.Status, r.Raw)
		return m
	}
	var bad []string
	lines := 0
	for l := range bytes.Lines(r.Raw) {
		lines++
		var e struct {
			EventID string `json:"event_id"`
		}
		switch err := json.Unmarshal(l, &e); {
		case err != nil:
			bad = append(bad, fmt.Sprintf("line %d is not a whole event (%v): %.160q", lines, err, l))
		case !known[e.EventID]:
			bad = append(bad, fmt.Sprintf("line %d is event %s, which was never acknowledged: %.160s", lines, e.EventID, l))
		}
	}
	m.Samples = max(lines, 1)
	m.OK, m.Measured = len(bad) == 0, len(bad)
	m.Detail = fmt.Sprintf("%d lines served after the refused append\n%s", lines, strings.Join(bad, "\n"))
	return m
}
