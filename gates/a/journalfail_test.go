package a_test

// A12 (a write answered 5xx changed no state) needs writes answered 5xx,
// and a healthy backend answers none: the black-box workload alone leaves
// it with nothing to judge. Here the journal runs out of disk (the
// power-loss layer's quota, where the machine has FUSE): writes then fail
// with a 5xx, and the black-box judge checks that no balance or history
// read afterwards — while the journal is failed, and after a kill -9 and a
// restart with space again — shows any of them.

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// failRoom is how many bytes the journal may still grow by once the quota
// is on: room for a few dozen events before the writes fail.
const failRoom = 16 << 10

// journalFailureTarget reports whether this target can run its journal
// out of disk (process and container targets on the power-loss layer), and
// if not why.
func journalFailureTarget(cfg target.Config) (bool, string) {
	if cfg.Kind != target.KindProcess && cfg.Kind != target.KindContainer && cfg.Kind != "" {
		return false, fmt.Sprintf("target %s: the harness cannot put the backend's journal on a disk that runs full (process and container targets can)", cfg.Kind)
	}
	return cfg.Supports(target.CapPowerLoss)
}

// Registered only where the journal can run out of disk (as the cluster
// specs only on a cluster): elsewhere the black-box workload's A12 stands,
// NOT MEASURED when no write answered 5xx, with the reason.
var _ = journalFailureJudgesA12() && Describe("Gate A: writes answered 5xx change no state", Ordered, ContinueOnFailure, harness.Checks("A12"), func() {
	var env *harness.Env
	var pc target.PowerCutter

	BeforeAll(func(ctx SpecContext) {
		var ok bool
		// This one target gets its data directory on the power-loss layer.
		env = harness.Boot(ctx, "A", nil, harness.WithPowerLoss(), harness.WithOutDir("journal-failure"))
		pc, ok = env.T.(target.PowerCutter)
		harness.Ensure(ok, "the %s target offers the power-loss layer but cannot set a disk quota (%T)", env.TCfg.Kind, env.T)
	}, NodeTimeout(2*time.Minute))

	It("a write answered 5xx while the journal cannot append shows in no balance and no history, before and after a restart", func(ctx SpecContext) {
		env.Require("A12")
		skipUnless(env, "A12")
		if ok, missing := env.Serves(catalog.Add, catalog.Refund, catalog.History, catalog.Balances); !ok {
			env.Record("A12", harness.Measure{Variant: "journal out of disk", Detail: fmt.Sprint("the workload needs ", missing)})
			return
		}
		if ok, reason := env.Has(catalog.CapCrash); !ok {
			env.Record("A12", harness.Measure{Variant: "journal out of disk", Detail: "a failed journal is sticky until a restart: " + reason})
			return
		}
		agent := env.ID("jf-agent")
		err := env.C.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "creating agent %s with 1000 credits must succeed: %v", agent, err)
		balance := func() { env.C.Get(ctx, "/api/credits/balance/"+agent) }
		write := func(kind history.Kind, path, key, amount string) scenarios.Reply {
			m, _ := money.ParseMilli(amount)
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: kind, Key: key, Agent: agent, AmountMilli: m,
				Route: "POST " + path, Body: map[string]any{"agent_id": agent, "amount": money.Credits(m), "reason": "journal failure"}})
		}
		balance()
		full := &fault.DiskFull{PC: pc, Room: failRoom}
		_, err = env.Inject(ctx, full)
		harness.Injected(err, "capping the data directory at %d more bytes", failRoom)
		healed := false
		DeferCleanup(func(ctx SpecContext) {
			if !healed {
				_, _ = env.Heal(ctx, full)
			}
		})

		// Fill the disk: consumes until the backend refuses one.
		var first scenarios.Reply
		for i := 0; i < 2000; i++ {
			if first = write(history.KindConsume, "/consume", fmt.Sprintf("jf-fill-%04d", i), "0.25"); !first.OK() {
				break
			}
		}
		harness.Ensure(first.Status >= 500, "a write into a full disk must be refused with a 5xx (503 journal_failed); the first refusal was %d %s", first.Status, first.Raw)
		balance()
		// Writes of every kind, amounts that no sum of the others makes,
		// while the journal cannot append: each must answer 5xx and
		// change nothing.
		for i, w := range []struct {
			kind         history.Kind
			path, amount string
		}{{history.KindAdd, "/add", "7.001"}, {history.KindRefund, "/refund", "3.019"}, {history.KindConsume, "/consume", "1.103"},
			{history.KindAdd, "/add", "40.07"}, {history.KindConsume, "/consume", "13.7"}} {
			write(w.kind, w.path, fmt.Sprintf("jf-failed-%d", i), w.amount)
			balance()
		}
		env.C.Get(ctx, "/api/credits/history/"+agent+"?limit=1000")

		// Space again and a restart (the failure is sticky): the state
		// replayed from the journal must not hold them either.
		_, err = env.Heal(ctx, full)
		healed = true
		harness.Ensure(err == nil, "lifting the disk quota: %v", err)
		kill := &fault.Kill{T: env.T}
		_, err = env.Inject(ctx, kill)
		harness.Injected(err, "the backend must be killable with SIGKILL")
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again on its journal once the disk has space: %v", err)
		balance()
		snap := history.Snapshot{History: map[string]history.HistoryRead{}}
		r := env.C.Get(ctx, "/api/credits/balances")
		snap.BalancesStatus = r.Status
		if r.OK() {
			snap.Balances, _ = history.ParseBalances(r.Raw)
		}
		r = env.C.Get(ctx, "/api/credits/history/"+agent+"?limit=1000")
		h := history.HistoryRead{Status: r.Status, Total: -1}
		if r.OK() {
			if es, total, err := history.ParseHistory(r.Raw); err == nil {
				h.Entries, h.Total = es, total
			}
		}
		snap.History[agent] = h
		env.RecordFindings(harness.Only(audit.BlackBox(env.Ops(), snap), "A12"), "journal out of disk")
	})
})

// journalFailureJudgesA12 reports whether the journal-failure spec measures
// A12 on this target, so the black-box workload's own A12 (which a healthy
// backend leaves with nothing to judge) need not be recorded when empty.
func journalFailureJudgesA12() bool {
	ok, _ := journalFailureTarget(target.ConfigFromEnv())
	return ok
}
