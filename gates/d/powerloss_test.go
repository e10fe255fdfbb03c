// Gate D — power loss: a kill -9 keeps the page cache, so a backend that
// acknowledges before fdatasync passes it. Here the backend's data directory
// sits on chaos/lazyfs; a power cut SIGKILLs the backend *and* drops every
// byte it had not synced, then restarts it. Every acknowledged mutation must
// be in the journal exactly once afterwards. And a power cut the backend
// lives through (every sync fails with EIO, writes still land): the append
// is refused, and GET /events serves none of its written, never-durable line.
package d_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/chaos/corrupt"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

var _ = journalFileApplies && Describe("Gate D: power loss", Label("power-loss"), harness.Checks("D32", "D33", "D43", "D51", "D52", "D53", "D54", "D57", "A8", "A2"), func() {
	It("a power cut mid-load (kill -9 and every unsynced byte dropped) loses no acknowledged mutation", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "power-cut", "D32", "D33", "D43", "D57", "A8", "A2")
		agents := []string{"pl-a", "pl-b", "pl-c", "pl-d"}
		for _, a := range agents {
			err := env.C.CreateAgent(ctx, a, 1000)
			harness.Ensure(err == nil, "the power-cut agent %s must be created with 1000 credits: %v", a, err)
		}
		var acked atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					agent := agents[(w+i)%len(agents)]
					kind, amount := "add", 1.0
					if i%2 == 1 {
						kind, amount = "consume", 0.5
					}
					r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/" + kind, Kind: scenarios.MutationKind("/api/credits/" + kind),
						Key: fmt.Sprintf("gate-d-pl-w%d-%05d", w, i), Agent: agent, AmountMilli: int64(amount * 1000),
						Body: map[string]any{"agent_id": agent, "amount": amount, "reason": "power-loss"}})
					if r.OK() {
						acked.Add(1)
					} else if r.Err != nil {
						time.Sleep(20 * time.Millisecond) // the backend is down: do not spin
					}
				}
			}()
		}
		// Cut the power once the load is well under way.
		deadline := time.Now().Add(10 * time.Second)
		for acked.Load() < 300 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		before := acked.Load()
		cut := &fault.PowerCut{PC: pc}
		_, err := env.Inject(ctx, cut)
		harness.Injected(err, "the power cut and the restart after it must succeed")
		rep := cut.Report
		// The restarted backend takes load again, over the recovered journal.
		after := acked.Load()
		for acked.Load() < after+100 && time.Now().Before(deadline.Add(10*time.Second)) {
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		// Then more cuts on the quiet backend, each right after one
		// acknowledged write: two adds (a backend that syncs only every n-th
		// append, n ≥ 2, or on a timer leaves at least one of the two
		// unsynced, whichever point of its cycle the cut under load hit),
		// then one of every other kind of write the original's routes take
		// (a path that forgets its sync — a refund's, a withdrawal's, a
		// registration's — shows only when the cut follows that write).
		// They go to an agent of their own that nothing else writes, so its
		// balance after each cut is known exactly (the load's unanswered
		// writes, either way, could explain a lost quiet write on a shared
		// agent).
		quietAgent := env.ID("gate-d-pl-quiet")
		err = env.C.CreateAgent(ctx, quietAgent, 1000)
		harness.Ensure(err == nil, "the quiet power-cut agent %s must be created with 1000 credits: %v", quietAgent, err)
		want, err := env.C.BalanceMilli(ctx, quietAgent)
		harness.Ensure(err == nil, "the quiet power-cut agent's balance must be readable: %v", err)
		type quietWrite struct {
			path  string
			delta int64
		}
		quiet := []quietWrite{{"/add", 1000}, {"/add", 1000}, {"/consume", -1000}, {"/refund", 1000}}
		if env.Routes.Has(catalog.Withdraw) {
			quiet = append(quiet, quietWrite{"/withdraw", -1000})
		}
		quiet = append(quiet, quietWrite{"/agents", 0})
		newcomer := env.ID("gate-d-pl-quiet-newcomer")
		var quietLost []string
		for k, q := range quiet {
			agent, body := quietAgent, map[string]any{"agent_id": quietAgent, "amount": 1.0, "reason": "power-loss, quiet"}
			if q.path == "/agents" {
				agent, body = newcomer, map[string]any{"agent_id": newcomer, "skill_level": 0.5}
			}
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + q.path, Kind: scenarios.MutationKind("/api/credits" + q.path),
				Key: fmt.Sprintf("gate-d-pl-quiet-%d", k), Agent: agent, AmountMilli: 1000, Body: body})
			if !r.OK() {
				// Refused or unanswered: nothing acknowledged here for a cut
				// to lose (an unanswered write is judged with the rest).
				continue
			}
			want += q.delta
			_, err := env.Inject(ctx, &fault.PowerCut{PC: pc})
			harness.Injected(err, "quiet power cut %d (after POST %s) and the restart after it must succeed", k+1, q.path)
			if q.path == "/agents" {
				if got := env.C.Get(ctx, "/api/credits/balance/"+newcomer); got.Status == http.StatusNotFound {
					quietLost = append(quietLost, fmt.Sprintf("agent %s, registered and acknowledged right before a cut, is unknown after it: %d %s",
						newcomer, got.Status, strings.TrimSpace(string(got.Raw[:min(len(got.Raw), 120)]))))
				}
				continue
			}
			if got, err := env.C.BalanceMilli(ctx, quietAgent); err != nil || got != want {
				quietLost = append(quietLost, fmt.Sprintf("POST %s of 1 acknowledged right before a cut: %s's balance after it is %s (%v), the acknowledged writes make %s",
					q.path, quietAgent, money.FormatMilli(got), err, money.FormatMilli(want)))
				want = got // judge the next write on what is there
			}
		}

		// D57, black-box (any backend on the layer, its journal readable or
		// not): every agent's balance read after the load equals the fold
		// of the writes acknowledged to the client, unanswered ones either
		// way.
		for _, a := range agents {
			_, _ = env.C.BalanceMilli(ctx, a)
		}
		if bb := harness.Only(audit.BlackBox(env.Ops(), history.Snapshot{}), "B13"); len(bb) == 1 {
			f := bb[0]
			env.Record("D57", harness.Measure{OK: f.OK && len(quietLost) == 0, Samples: f.Samples + len(quiet), Measured: fmt.Sprintf("%s; %d quiet writes lost", f.Measured, len(quietLost)), Threshold: f.Threshold,
				Detail: fmt.Sprintf("the balances read after the power cut and the load after it, against the fold of the acknowledged writes (B13's judge): %s\n%s\nthen %d quiet cuts, each right after one acknowledged write to an agent nothing else writes (add, add, consume, refund, withdraw where served, a registration), its balance read exactly after each\n%s",
					f.Detail, firstN(f.Violations, 20), len(quiet), strings.Join(quietLost, "\n"))})
		}
		if !env.Applies("D33") && !env.Applies("A8") {
			return // the journal is not readable: judged from the answers alone
		}
		j := readJournal(ctx, env)
		entries := env.Ops()
		present := map[string]int{}
		for _, e := range j.Events() {
			present[e.IdempotencyKey]++
		}
		checked, lost := 0, []string{}
		for _, e := range entries {
			if !e.Kind.Mutation() || !e.Outcome.Acked() || e.Role == history.Setup {
				continue
			}
			checked++
			if present[e.Key] == 0 {
				lost = append(lost, fmt.Sprintf("op %d key %s (%s)", e.ID, e.Key, e.Kind))
			}
		}
		figures := fmt.Sprintf("%d acknowledged mutations checked (%d before the cut); %d unsynced bytes dropped from %d file(s), %d never-durable file(s) removed; lost %d",
			checked, before, rep.BytesDropped, rep.FilesReverted, rep.FilesRemoved, len(lost))
		GinkgoWriter.Println("power cut:", figures)
		// One cut judged: a cut with nothing acknowledged before it proves
		// nothing and fails.
		env.Record("D32", harness.Measure{OK: before > 0, Samples: 1, Measured: before, Threshold: "> 0", Detail: "a power cut with nothing acknowledged proves nothing"})
		env.Record("D33", harness.Measure{OK: len(lost) == 0, Samples: checked, Measured: len(lost), Threshold: 0, Detail: figures + "\n" + firstN(lost, 20)})
		env.RecordFinding(audit.CheckHistoryExact(j, entries, audit.HistoryOptions{}), "power cut")
		env.RecordFinding(audit.CheckSeqGapless(j), "power cut")
		env.RecordFinding(audit.CheckAckedSurvivedFaults(j, entries, env.Windows(), cut.Name()), "power cut")
		env.SaveScenario(reports.Scenario{Name: "power cut", Status: harness.ScenarioStatus(!CurrentSpecReport().Failed()), InvariantsPassed: len(lost) == 0, Detail: figures,
			Metrics: map[string]any{"acknowledged_checked": checked, "acknowledged_before_cut": before, "unsynced_bytes_dropped": rep.BytesDropped,
				"files_reverted": rep.FilesReverted, "files_removed": rep.FilesRemoved, "lost": len(lost)}})
	})

	// A sync that fails is the other way an append fails (SPEC §3 sticky
	// errors): its line is written, whole, but never durable. Under load of
	// keyed appends, each sent twice at once (the duplicate waits on the
	// key), the syncs start failing: no append of the failing batch may be
	// acknowledged, its duplicate included (A8 after the power cut that
	// ends it), and the stream must serve none of it (D51).
	It("appends whose sync fails are refused, duplicates included, and GET /events serves none of them", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "syncs-fail", "D51", "A8")
		agent := "sf-a"
		err := env.C.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "the agent %s must be created with 100 credits: %v", agent, err)
		add := func(key string) scenarios.Reply {
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/add", Key: key,
				Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "syncs fail"}})
		}
		var mu sync.Mutex
		known := map[string]bool{}
		for l := range bytes.Lines(env.C.Get(ctx, "/api/credits/events").Raw) {
			var e struct {
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(l, &e) == nil {
				known[e.EventID] = true
			}
		}
		var acked, refused atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("sf-w%d-%04d", w, i)
					var pair [2]scenarios.Reply
					done := make(chan struct{})
					go func() {
						defer GinkgoRecover()
						defer close(done)
						pair[1] = add(key)
					}()
					pair[0] = add(key)
					<-done
					for _, r := range pair {
						switch {
						case r.OK():
							acked.Add(1)
							mu.Lock()
							known[r.Str("event_id")] = true
							mu.Unlock()
						case r.Status >= 500:
							refused.Add(1)
						}
					}
					if !pair[0].OK() && !pair[1].OK() {
						time.Sleep(20 * time.Millisecond) // refused: do not spin
					}
				}
			}()
		}
		stopLoad := func() {
			select {
			case <-stop:
			default:
				close(stop)
			}
			wg.Wait()
		}
		DeferCleanup(stopLoad)
		deadline := time.Now().Add(10 * time.Second)
		for acked.Load() < 200 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		fail := &fault.SyncsFail{PC: pc}
		_, err = env.Inject(ctx, fail)
		harness.Injected(err, "failing the layer's syncs")
		healed := false
		DeferCleanup(func(ctx SpecContext) {
			if !healed {
				_, _ = env.Heal(ctx, fail)
			}
		})
		for refused.Load() < 16 && time.Now().Before(deadline.Add(5*time.Second)) {
			time.Sleep(5 * time.Millisecond)
		}
		stopLoad()
		mu.Lock()
		m := streamWhileFailed(env.C.Get(ctx, "/api/credits/events"), known)
		mu.Unlock()
		if refused.Load() == 0 {
			m.OK = false
			m.Detail = fmt.Sprintf("no append was refused after the syncs began to fail (%d acknowledged)\n%s", acked.Load(), m.Detail)
		}
		m.Variant = "syncs fail"
		env.Record("D51", m)
		_, err = env.Heal(ctx, fail)
		healed = true
		harness.Ensure(err == nil, "the power cut that ends the failing syncs, and the restart: %v", err)
		j := readJournal(ctx, env)
		env.RecordFinding(audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{}), "syncs fail")
	})

	// A failure aimed at one batch (SPEC §3 sticky errors): the sync of the
	// batch carrying one agent's consume is held, so two debits of agent x
	// and a duplicate of the first queue behind it and (on a group-commit
	// backend) form the next batch together; that batch's sync is held in
	// turn, then fails. None of its commands may be acknowledged, the
	// duplicate waiting on its key included (A8 after the power cut), a
	// refusal decided on its failed debit may not be answered (D52), and no
	// read served while it syncs may show it (D53): the journal that
	// survives never held it.
	It("a batch whose sync fails answers none of its commands, its refusals and duplicates included, and no read serves it", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "batch-fails", "D51", "D52", "D53", "A8")
		holder, x := "bf-holder", "bf-x"
		for _, a := range []string{holder, x} {
			err := env.C.CreateAgent(ctx, a, 100)
			harness.Ensure(err == nil, "the agent %s must be created with 100 credits: %v", a, err)
		}
		const debitMilli = 60_000 // two of them never fit in x's 100
		consume := func(agent, key string, amount float64) scenarios.Reply {
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: key,
				Body: map[string]any{"agent_id": agent, "amount": amount, "reason": "batch fails"}})
		}
		notMeasured := func(why string) {
			for _, id := range []string{"D52", "D53"} {
				env.Record(id, harness.Measure{OK: false, Samples: 0, Measured: "not measured", Threshold: "a batch caught in its sync", Detail: why})
			}
		}
		held := &fault.BatchSync{PC: pc, Marker: holder, Hold: 1500 * time.Millisecond}
		_, err := env.Inject(ctx, held)
		harness.Injected(err, "arming the held sync")
		holderDone := make(chan scenarios.Reply, 1)
		go func() {
			defer GinkgoRecover()
			holderDone <- consume(holder, "bf-holder-1", 1)
		}()
		select {
		case <-held.Caught():
		case <-time.After(10 * time.Second):
			_, _ = env.Heal(ctx, held)
			notMeasured(fmt.Sprintf("no sync of the batch carrying %q's consume came within 10 s: the backend did not fdatasync its journal (SPEC §3)", holder))
			return
		}
		failing := &fault.BatchSync{PC: pc, Marker: x, Hold: 700 * time.Millisecond, Fail: true}
		_, err = env.Inject(ctx, failing)
		harness.Injected(err, "arming the failing sync")
		healed := false
		DeferCleanup(func(ctx SpecContext) {
			if !healed {
				_, _ = env.Heal(ctx, failing)
			}
		})
		// Readers first, so they are waiting on the held batch when it
		// commits and the failing one is decided. Every fourth read is of
		// the stream (judged after the power cut against the journal that
		// survived it, D51).
		var rmu sync.Mutex
		var reads []audit.BalanceRead
		var streams []scenarios.Reply
		readsSent := 0
		stopReads := make(chan struct{})
		var rwg sync.WaitGroup
		for w := 0; w < 8; w++ {
			rwg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer rwg.Done()
				for i := 0; ; i++ {
					select {
					case <-stopReads:
						return
					default:
					}
					if i%4 == 3 {
						r := env.C.Get(ctx, "/api/credits/events")
						rmu.Lock()
						streams = append(streams, r)
						rmu.Unlock()
						continue
					}
					r := env.C.Do(ctx, scenarios.Call{Method: "GET", Path: "/api/credits/balance/" + x})
					rmu.Lock()
					readsSent++
					if r.OK() {
						if b, err := money.FromJSON(r.Body["balance"]); err == nil {
							reads = append(reads, audit.BalanceRead{What: fmt.Sprintf("reader %d read %d (op %d)", w, i, r.Op.ID), BalanceMilli: b})
						}
					}
					rmu.Unlock()
					if !r.OK() {
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
		type sent struct {
			what string
			r    scenarios.Reply
		}
		calls := []struct{ what, key string }{{"debit 1 (key bf-x-1)", "bf-x-1"}, {"debit 1's duplicate (key bf-x-1)", "bf-x-1"}, {"debit 2 (key bf-x-2)", "bf-x-2"}}
		answers := make([]sent, len(calls))
		var cwg sync.WaitGroup
		for i, c := range calls {
			if i == 2 {
				// Debit 2 queues after debit 1 and its duplicate, so a
				// group-commit backend decides it on debit 1's balance.
				time.Sleep(100 * time.Millisecond)
			}
			cwg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer cwg.Done()
				answers[i] = sent{c.what, consume(x, c.key, float64(debitMilli)/1000)}
			}()
		}
		cwg.Wait()
		caught := false
		select {
		case <-failing.Caught():
			caught = true
		default:
		}
		select {
		case <-failing.Released():
		case <-time.After(5 * time.Second):
		}
		time.Sleep(100 * time.Millisecond) // reads after the failure too
		close(stopReads)
		rwg.Wait()
		hr := <-holderDone
		_, _ = env.Heal(ctx, held)
		_, err = env.Heal(ctx, failing)
		healed = true
		harness.Ensure(err == nil, "the power cut that ends the failing sync, and the restart: %v", err)
		j := readJournal(ctx, env)
		env.RecordFinding(audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{}), "batch fails")
		summary := fmt.Sprintf("holder's consume %d; ", hr.Status)
		var refusals []audit.Refusal
		for _, a := range answers {
			summary += fmt.Sprintf("%s %d %s; ", a.what, a.r.Status, a.r.Code())
			if a.r.Status == 409 && a.r.Code() == "insufficient_credits" {
				refusals = append(refusals, audit.Refusal{What: fmt.Sprintf("%s of %s (op %d)", a.what, money.FormatMilli(debitMilli), a.r.Op.ID), AmountMilli: debitMilli})
			}
		}
		if !caught {
			notMeasured(fmt.Sprintf("x's debits were answered before any sync of a batch carrying them was held (%s): the backend acknowledged or refused them without an fdatasync", summary))
			return
		}
		balances := audit.BalancesHeld(j, x)
		f := audit.RefusalsJustified(x, balances, refusals)
		f.Detail = summary
		f.Samples = len(answers) // every debit of the failed batch was judged: none refused, none wrongly
		env.RecordFinding(f, "")
		rmu.Lock()
		f = audit.ReadsDurable(x, balances, reads)
		f.Detail = fmt.Sprintf("%d reads of %s's balance sent while the batches synced, %d answered 2xx", readsSent, x, len(reads))
		f.Samples = readsSent
		durable := map[string]bool{}
		for _, e := range j.Events() {
			durable[e.EventID] = true
		}
		stream := harness.Measure{OK: true, Samples: 0, Measured: 0, Threshold: "only events the journal kept after the power cut"}
		for i, r := range streams {
			m := streamWhileFailed(r, durable)
			stream.Samples += m.Samples
			if !m.OK && stream.OK {
				stream.OK, stream.Measured = false, m.Measured
				stream.Detail = fmt.Sprintf("read %d of %d: %s", i+1, len(streams), m.Detail)
			}
		}
		if stream.OK {
			stream.Detail = fmt.Sprintf("%d reads of GET /events while the batches synced served only events the journal kept", len(streams))
		}
		rmu.Unlock()
		env.RecordFinding(f, "")
		if len(streams) > 0 {
			stream.Variant = "a batch whose sync fails"
			env.Record("D51", stream)
		}
	})

	// A recovery that rewrites the journal (a garbage line quarantined out
	// of the middle) must make the rewritten file durable before it
	// replaces the journal: a power cut right after the recovery may lose
	// nothing acknowledged before the damage. The power is cut at the
	// first sync of the journal file that still holds unsynced events
	// (a trap on the file, marked with the agent's id): a backend that
	// synced its rewrite before the rename has none there, one that did
	// not loses the whole rewritten file.
	It("a recovery's rewrite of the journal is durable before it replaces the journal: a power cut right after it loses nothing acknowledged", Label("critical"), func(ctx SpecContext) {
		env, pc := bootLayered(ctx, "recovery-cut", "D54")
		agent := "rc-agent"
		err := env.C.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "the agent %s must be created with 1000 credits: %v", agent, err)
		var acked []string
		for i := range 40 {
			key := fmt.Sprintf("rc-%03d", i)
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: key,
				Body: map[string]any{"agent_id": agent, "amount": 1, "reason": "before the damage"}})
			if r.OK() {
				acked = append(acked, r.Op.Key) // as sent: namespaced on another backend
			}
		}
		harness.Ensure(len(acked) > 0, "consumes must be acknowledged before the damage")
		// Garbage lines in the middle: recovery must rewrite the file
		// without it (a torn tail would only be cut, with no rewrite).
		i := slices.IndexFunc(corrupt.Table, func(c corrupt.Corruptor) bool { return c.Name == "two garbage lines" })
		harness.Ensure(i >= 0, "chaos/corrupt has no \"two garbage lines\" corruptor")
		damage := &fault.Corruption{T: env.T, Path: env.T.JournalPath(), C: corrupt.Table[i], Rand: rand.New(rand.NewPCG(env.P.Seed, 54))}
		_, err = env.Inject(ctx, damage)
		harness.Injected(err, "stopping the backend and damaging its journal (%s)", damage.C.Name)
		cut := &fault.BatchSync{PC: pc, Marker: agent, File: filepath.Base(env.T.JournalPath()), Hold: 50 * time.Millisecond, Fail: true}
		_, err = env.Inject(ctx, cut)
		harness.Injected(err, "arming the power cut at the journal's sync")
		_, startErr := env.Heal(ctx, damage) // recovery; it may fail at the cut
		caught := false
		select {
		case <-cut.Caught():
			caught = true
		default:
		}
		_, err = env.Heal(ctx, cut)
		harness.Ensure(err == nil, "the power cut after the recovery, and the restart: %v", err)
		j := readJournal(ctx, env)
		present := map[string]bool{}
		for _, e := range j.Events() {
			present[e.IdempotencyKey] = true
		}
		var lost []string
		for _, k := range acked {
			if !present[k] {
				lost = append(lost, k)
			}
		}
		how := "the power was cut right after the recovery; no sync of the journal found unsynced events"
		if caught {
			how = fmt.Sprintf("the journal's first sync after the recovery found its events unsynced and the power was cut there (the start: %v)", startErr)
		}
		env.Record("D54", harness.Measure{OK: len(lost) == 0, Samples: len(acked), Measured: len(lost), Threshold: 0,
			Detail: fmt.Sprintf("%d consumes acknowledged before the damage (%s, line %d), %d unsynced bytes dropped by the cut; %s; lost: %s",
				len(acked), damage.C.Name, damage.Damage.Line, cut.Report.BytesDropped, how, firstN(lost, 10))})
	})
})

// bootLayered boots a dedicated target of the configured kind with its data
// directory on the power-loss layer, once the spec has declared the checks
// it records (ids): without CapPowerLoss (url mode, no FUSE,
// CREDITGATE_POWERLOSS=false) they say SKIP with the reason and the spec is
// skipped. Its checks are recorded in gate D; its artifacts and evidence go
// to gate-D/<name>.
func bootLayered(ctx context.Context, name string, ids ...string) (*harness.Env, target.PowerCutter) {
	env := harness.Boot(ctx, "D", nil, harness.WithPowerLoss(), harness.WithOutDir(name), harness.Requiring(ids...))
	pc, ok := env.T.(target.PowerCutter)
	harness.Ensure(ok, "%T offers CapPowerLoss but is no PowerCutter", env.T)
	return env, pc
}

func firstN(s []string, n int) string {
	out := ""
	for i, v := range s {
		if i == n {
			return out + fmt.Sprintf("… %d more", len(s)-n)
		}
		out += v + "\n"
	}
	return out
}
