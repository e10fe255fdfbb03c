package b_test

// Every money path that debits (or credits) an entity, raced on one hot
// entity with three-decimal amounts: withdraw below the approval threshold,
// pool consume, pool transfer, mission start, all of them mixed, and pool
// allocation (no lost update). Then missions ended with three-decimal
// actual costs and a synergie collaboration under a KARMA blackout; ends
// raced by the moves they must count (a mission's end by refunds naming
// it, B55; a pool's close by member consumes, B56); the synergie cap filled
// exactly, then rewards withheld whole (B57), and per (team, agent) pair
// with ids holding separators (B58); and the reference model (B1–B12,
// formulas included) against the API.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

const threeDecimals = "12.345" // every race amount uses all three decimals

var _ = Describe("Gate B: every money path under concurrency", Ordered, ContinueOnFailure, harness.Checks(ids(foldIDs, []string{"B26", "B27", "B28", "B29", "B30", "B31", "B32", "B33", "B34", "B35", "B55", "B56", "B57", "B58", "B59"})...), func() {
	var env *harness.Env
	var workers int

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		env.OutDir = filepath.Join(env.OutDir, "moneypaths")
		harness.Ensure(os.MkdirAll(env.OutDir, 0o755) == nil, "the out dir %s must be writable", env.OutDir)
		workers = max(env.P.Concurrency, 20)
	}, NodeTimeout(2*time.Minute))

	post := func(ctx context.Context, path string, kind history.Kind, key string, body map[string]any) scenarios.Reply {
		return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: kind, Key: key, Body: body})
	}
	mustPost := func(ctx context.Context, path string, kind history.Kind, key string, body map[string]any) {
		r := post(ctx, path, kind, key, body)
		harness.Accepted(r, "the fixture %s %s", kind, path)
	}
	// milliOf reads one credit-valued member of a GET document exactly.
	milliOf := func(ctx context.Context, path, field string) int64 {
		r := env.C.Get(ctx, path)
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		var doc map[string]any
		_ = dec.Decode(&doc)
		n, _ := doc[field].(json.Number)
		v, err := money.ParseMilli(string(n))
		harness.Ensure(r.OK() && err == nil, "GET %s must answer %s as a number of credits; it answered %d %s", path, field, r.Status, r.Raw)
		return v
	}
	balance := func(ctx context.Context, agent string) int64 {
		return milliOf(ctx, "/api/credits/balance/"+agent, "balance")
	}
	poolBalance := func(ctx context.Context, pool string) int64 {
		return milliOf(ctx, "/api/credits/pools/"+pool, "balance")
	}
	// race releases n calls at once and counts acknowledged, refused
	// insufficient_credits, and anything else.
	type raceResult struct {
		ok, insufficient int
		answered         int // racers that got an answer
		okIdx            []int
		refusedIdx       []int
		other            []string
	}
	//
	// Every score comes 50 ms late during a race (when the harness runs the
	// KARMA stub): a debit asks KARMA for a score between reading the state
	// and deciding, so a late score puts every racer's read before any
	// racer's decision. An engine that decides on a balance read before that
	// call then overdraws on every run, not only when the scheduler happens
	// to interleave the racers (the race alone let such a bug pass B29 once
	// in CI). 50 ms stays under the engine's 100 ms KARMA timeout, so scores
	// stay live.
	race := func(ctx context.Context, n int, call func(i int) scenarios.Call) raceResult {
		if env.Karma != nil {
			late := &fault.KarmaMode{Stub: env.Karma.Stub, Mode: karmastub.Mode{Kind: karmastub.Slow, DelayMs: 50}, Label: "slow (50 ms)"}
			_, err := env.Inject(ctx, late)
			harness.Injected(err, "the KARMA stub must answer late during a race")
			defer func() {
				_, err := env.Heal(ctx, late)
				harness.Ensure(err == nil, "the KARMA stub must answer on time again after a race: %v", err)
			}()
		}
		var res raceResult
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				r := env.C.Do(ctx, call(i))
				mu.Lock()
				defer mu.Unlock()
				if r.Status != 0 {
					res.answered++
				}
				switch {
				case r.OK():
					res.ok++
					res.okIdx = append(res.okIdx, i)
				case r.Status == 409 && r.Code() == "insufficient_credits":
					res.insufficient++
					res.refusedIdx = append(res.refusedIdx, i)
				default:
					res.other = append(res.other, fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(string(r.Raw))))
				}
			}(i)
		}
		close(start)
		wg.Wait()
		return res
	}
	newAgent := func(ctx context.Context, id string) int64 {
		err := env.C.CreateAgent(ctx, env.ID(id), 100)
		harness.Ensure(err == nil, "creating agent %s with 100 credits must succeed: %v", env.ID(id), err)
		return balance(ctx, env.ID(id))
	}
	amountMilli, _ := money.ParseMilli(threeDecimals)
	// checkRace records a race on one balance: Samples are the racers
	// that got an answer.
	checkRace := func(id string, res raceResult, start, unit, final int64, extra string) {
		want := int(start / unit)
		env.Record(id, harness.Measure{OK: res.ok == want && final == start-int64(res.ok)*unit && final >= 0 && len(res.other) == 0,
			Samples:   res.answered,
			Measured:  fmt.Sprintf("%d accepted, final %s", res.ok, money.FormatMilli(final)),
			Threshold: fmt.Sprintf("%d accepted, final %s", want, money.FormatMilli(start-int64(want)*unit)),
			Detail: fmt.Sprintf("%d racers × %s on %s; %d refused insufficient_credits; other answers %v. %s", workers,
				money.FormatMilli(unit), money.FormatMilli(start), res.insufficient, firstN(res.other, 5), extra)})
	}

	It("withdrawals below the approval threshold never overdraw one agent", Label("critical"), func(ctx SpecContext) {
		env.Require("B26")
		agent := env.ID("mp-withdraw")
		start := newAgent(ctx, "mp-withdraw")
		res := race(ctx, workers, func(i int) scenarios.Call {
			return scenarios.Call{Method: "POST", Path: "/api/credits/withdraw", Kind: history.KindWithdraw, Key: fmt.Sprintf("mp-wd-%d", i),
				Body: map[string]any{"agent_id": agent, "amount": json.Number(threeDecimals), "reason": "race"}}
		})
		checkRace("B26", res, start, amountMilli, balance(ctx, agent), "")
	})

	It("pool allocations, consumes and transfers never overdraw one pool and lose no update", Label("critical"), func(ctx SpecContext) {
		env.Require("B30", "B27", "B28", "B31")
		owner := env.ID("mp-pool-member")
		newAgent(ctx, "mp-pool-member")
		src, dst, hot := env.ID("mp-pool-src"), env.ID("mp-pool-dst"), env.ID("mp-pool-hot")
		for _, p := range []string{src, dst, hot} {
			mustPost(ctx, "/pools", history.KindPoolCreate, "mp-create-"+p, map[string]any{"pool_id": p, "members": []string{owner}})
		}
		// Allocation: every racer's allocation lands.
		res := race(ctx, workers, func(i int) scenarios.Call {
			return scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + hot + "/allocate", Kind: history.KindPoolAllocate,
				Key: fmt.Sprintf("mp-alloc-%d", i), Body: map[string]any{"amount": json.Number(threeDecimals), "reason": "race"}}
		})
		got := poolBalance(ctx, hot)
		env.Record("B30", harness.Measure{OK: res.ok == workers && got == int64(workers)*amountMilli, Samples: res.answered,
			Measured:  fmt.Sprintf("%d accepted, pool %s", res.ok, money.FormatMilli(got)),
			Threshold: fmt.Sprintf("%d accepted, pool %s", workers, money.FormatMilli(int64(workers)*amountMilli)),
			Detail:    fmt.Sprintf("%d racers allocate %s each; other answers %v", workers, threeDecimals, firstN(res.other, 5))})

		// Fund the source pool with 100.000 credits in allocations below
		// the approval threshold.
		for i, amt := range []string{"49.999", "50.001"} {
			mustPost(ctx, "/pools/"+src+"/allocate", history.KindPoolAllocate, fmt.Sprintf("mp-fund-%s-%d", src, i), map[string]any{"amount": json.Number(amt), "reason": "fund"})
		}
		if !env.Applies("B27") && !env.Applies("B28") {
			return
		}
		start := poolBalance(ctx, src)
		if env.Applies("B27") {
			res = race(ctx, workers, func(i int) scenarios.Call {
				return scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + src + "/consume", Kind: history.KindPoolConsume,
					Key: fmt.Sprintf("mp-pc-%d", i), Body: map[string]any{"agent_id": owner, "amount": json.Number(threeDecimals), "reason": "race"}}
			})
			checkRace("B27", res, start, amountMilli, poolBalance(ctx, src), "")
		}
		if !env.Applies("B28") {
			return
		}

		// Transfer: refill the source, race transfers into dst.
		for i, amt := range []string{"49.999", "50.001"} {
			mustPost(ctx, "/pools/"+src+"/allocate", history.KindPoolAllocate, fmt.Sprintf("mp-refund-%s-%d", src, i), map[string]any{"amount": json.Number(amt), "reason": "refill"})
		}
		start = poolBalance(ctx, src)
		res = race(ctx, workers, func(i int) scenarios.Call {
			return scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + src + "/transfer", Kind: history.KindPoolTransfer,
				Key: fmt.Sprintf("mp-pt-%d", i), Body: map[string]any{"to_pool_id": dst, "amount": json.Number(threeDecimals), "reason": "race"}}
		})
		dstBal := poolBalance(ctx, dst)
		checkRace("B28", res, start, amountMilli, poolBalance(ctx, src),
			fmt.Sprintf("target pool %s received %s", dst, money.FormatMilli(dstBal)))
		env.Record("B31", harness.Measure{OK: dstBal == int64(res.ok)*amountMilli, Samples: res.ok,
			Measured: money.FormatMilli(dstBal), Threshold: money.FormatMilli(int64(res.ok) * amountMilli),
			Detail: fmt.Sprintf("%d accepted transfers of %s into pool %s", res.ok, threeDecimals, dst)})
	})

	It("mission starts never overdraw one agent", Label("critical"), func(ctx SpecContext) {
		env.Require("B29")
		agent := env.ID("mp-mission")
		newAgent(ctx, "mp-mission") // skill 1.0: a general medium mission estimates 7.0 credits
		mustPost(ctx, "/consume", history.KindConsume, "mp-mission-odd", map[string]any{"agent_id": agent, "amount": json.Number("0.123"), "reason": "odd balance"})
		start := balance(ctx, agent)
		estimate := audit.MissionEstimateMilli("general", "medium", 1.0)
		res := race(ctx, workers, func(i int) scenarios.Call {
			return scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Key: fmt.Sprintf("mp-ms-%d", i),
				Body: map[string]any{"mission_id": fmt.Sprintf("%smp-m-%d", env.NS, i), "agent_id": agent, "mission_type": "general", "complexity": "medium"}}
		})
		checkRace("B29", res, start, estimate, balance(ctx, agent), "")
		// End the accepted missions with three-decimal actual costs; B11
		// recomputes every refund from the start events.
		for k, i := range res.okIdx {
			id := fmt.Sprintf("%smp-m-%d", env.NS, i)
			end := []string{"complete", "fail", "cancel"}[k%3]
			if !env.Routes.Has("POST /api/credits/missions/{id}/" + end) {
				continue
			}
			mustPost(ctx, "/missions/"+id+"/"+end, history.KindUnknown, "mp-me-"+id, map[string]any{"actual_cost": json.Number([]string{"3.456", "7.001", "0.999"}[k%3])})
		}
	})

	It("consume, withdraw and mission start racing on one agent never overdraw nor refuse while the balance suffices", Label("critical"), func(ctx SpecContext) {
		env.Require("B32")
		agent := env.ID("mp-mixed")
		start := newAgent(ctx, "mp-mixed")
		estimate := audit.MissionEstimateMilli("general", "medium", 1.0)
		amounts := make([]int64, workers)
		res := race(ctx, workers, func(i int) scenarios.Call {
			switch i % 3 {
			case 0:
				amounts[i] = amountMilli
				return scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: fmt.Sprintf("mp-mx-%d", i),
					Body: map[string]any{"agent_id": agent, "amount": json.Number(threeDecimals), "reason": "race"}}
			case 1:
				amounts[i] = 9_876
				return scenarios.Call{Method: "POST", Path: "/api/credits/withdraw", Kind: history.KindWithdraw, Key: fmt.Sprintf("mp-mx-%d", i),
					Body: map[string]any{"agent_id": agent, "amount": json.Number("9.876"), "reason": "race"}}
			default:
				amounts[i] = estimate
				return scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Key: fmt.Sprintf("mp-mx-%d", i),
					Body: map[string]any{"mission_id": fmt.Sprintf("%smp-mx-%d", env.NS, i), "agent_id": agent, "mission_type": "general", "complexity": "medium"}}
			}
		})
		var spent, maxRefused int64
		for _, i := range res.okIdx {
			spent += amounts[i]
		}
		for _, i := range res.refusedIdx {
			maxRefused = max(maxRefused, amounts[i])
		}
		final := balance(ctx, agent)
		// The balance only falls during the race, so a refused request
		// found less than its amount, and so does the final balance.
		ok := final >= 0 && final == start-spent && len(res.other) == 0 && (res.insufficient == 0 || final < maxRefused)
		env.Record("B32", harness.Measure{OK: ok, Samples: res.answered,
			Measured:  fmt.Sprintf("final %s, spent %s, largest refused %s", money.FormatMilli(final), money.FormatMilli(spent), money.FormatMilli(maxRefused)),
			Threshold: "final = start − Σ accepted ≥ 0, and < the largest refused amount",
			Detail:    fmt.Sprintf("start %s; %d racers, %d accepted, %d refused insufficient_credits, other %v", money.FormatMilli(start), workers, res.ok, res.insufficient, firstN(res.other, 5))})
	})

	It("under a KARMA blackout rewards use the fallback CI 0.5 and every derived amount follows its formula", Label("critical"), func(ctx SpecContext) {
		env.Require("B33")
		a, b := env.ID("mp-fb-a"), env.ID("mp-fb-b")
		newAgent(ctx, "mp-fb-a")
		newAgent(ctx, "mp-fb-b")
		blackout := &fault.KarmaDown{K: env.Karma}
		_, err := env.Inject(ctx, blackout)
		harness.Injected(err, "the KARMA stub must stop")
		mustPost(ctx, "/synergie/collaborations", history.KindCollaboration, "mp-fb-collab", map[string]any{"collaboration_id": env.ID("mp-fb-c1"),
			"team_id": env.ID("mp-fb-team"), "agent_ids": []string{a, b}, "contribution_scores": map[string]float64{a: 0.777, b: 0.333}})
		mustPost(ctx, "/consume", history.KindConsume, "mp-fb-consume", map[string]any{"agent_id": a, "amount": json.Number("1.234"), "reason": "blackout"})
		_, err = env.Heal(ctx, blackout)
		harness.Ensure(err == nil, "the KARMA stub must start again after the blackout: %v", err)
		j, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable: %v", err)
		fallbacks, judged := 0, 0
		for _, e := range j.Events() {
			if (e.EventType == "synergie.reward_granted" || e.EventType == "credit.consumed") &&
				(bytes.Contains(e.Payload, []byte(`"`+a+`"`)) || bytes.Contains(e.Payload, []byte(`"`+b+`"`))) {
				judged++
				if bytes.Contains(e.Metadata, []byte(`"fallback"`)) {
					fallbacks++
				}
			}
		}
		env.Record("B33", harness.Measure{OK: fallbacks >= 3 && fallbacks == judged, Samples: judged, Measured: fmt.Sprintf("%d of %d", fallbacks, judged),
			Threshold: ">= 3 (2 rewards + 1 consume), all with karma_source fallback",
			Detail:    "agents never scored before the blackout have no cache: the fallback CI applies to every reward and consume of theirs"})
	})

	It("a scoring window full of anomalies moves the EoC score exactly by the documented weight", Label("critical"), func(ctx SpecContext) {
		env.Require("B34")
		agent := env.ID("mp-eoc")
		newAgent(ctx, "mp-eoc")
		for i := 0; i < 12; i++ { // the norm: 0.5 credits
			mustPost(ctx, "/consume", history.KindConsume, fmt.Sprintf("mp-eoc-norm-%d", i), map[string]any{"agent_id": agent, "amount": json.Number("0.5"), "reason": "norm"})
		}
		// Windows are aligned to multiples of 10 s: start a fresh one, fill
		// it with anomalies (12× the norm, flagged, never folded into it),
		// then close it with one more operation.
		const window = 10 * time.Second
		nextWindow := func() { time.Sleep(time.Until(time.Now().Truncate(window).Add(window + 100*time.Millisecond))) }
		nextWindow()
		flagged := 0
		for i := 0; i < 10; i++ {
			r := post(ctx, "/consume", history.KindConsume, fmt.Sprintf("mp-eoc-anomaly-%d", i), map[string]any{"agent_id": agent, "amount": json.Number("6.001"), "reason": "anomaly"})
			harness.Ensure(r.OK(), "an anomalous consume must be flagged, never blocked; it answered %d %s", r.Status, r.Raw)
			if r.AnomalyDetected() {
				flagged++
			}
		}
		nextWindow()
		mustPost(ctx, "/refund", history.KindRefund, "mp-eoc-close", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "close the window"})
		// The window's eoc event may trail the closing command a little.
		var m *audit.Model
		var j *audit.Journal
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var err error
			j, err = env.FullJournal(ctx)
			harness.Ensure(err == nil, "the journal must be readable: %v", err)
			m = audit.Fold(j)
			if m.EoCAnomalyWindows > 0 || time.Now().After(deadline) {
				break
			}
		}
		f := audit.FormulaCheck(m)
		// Only these ten consumes were sent in their window: the decision
		// covering it counts no more operations (a count carried over
		// from an earlier window keeps the score consistent with it).
		detail := f.Violations
		counted := "the window's decision not found"
		countOK := true
		if at, ok := firstConsumeAt(j, agent, "anomaly"); ok {
			if w, ok := audit.EoCWindowAt(j, at); ok {
				counted = fmt.Sprintf("its decision (seq %d) counts %d ops, %d anomalies", w.Seq, w.Ops, w.Anomalies)
				if countOK = w.Ops <= 10; !countOK {
					detail = append(detail, fmt.Sprintf("the window %s – %s counts %d operations, but only the 10 anomalous consumes were sent in it",
						w.Start.Format(time.RFC3339Nano), w.End.Format(time.RFC3339Nano), w.Ops))
				}
			}
		}
		env.Record("B34", harness.Measure{OK: f.OK && flagged == 10 && countOK, Samples: m.EoCAnomalyWindows,
			Measured:  fmt.Sprintf("%d anomalous windows recomputed; %s; %d of 10 flagged; %s", m.EoCAnomalyWindows, f.Measured, flagged, counted),
			Threshold: "≥ 1 window, 0 violations, 10 flagged, ≤ 10 ops counted in their window", Detail: strings.Join(detail, "; ")})
	}, NodeTimeout(time.Minute))

	It("the EoC state the anomalous window moved survives kill -9 + replay", Label("critical"), func(ctx SpecContext) {
		env.Require("B35")
		before := eocState(ctx, env)
		kill := &fault.Kill{T: env.T}
		_, err := env.Inject(ctx, kill)
		harness.Injected(err, "the backend must be killable with SIGKILL")
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again and replay its journal after kill -9: %v", err)
		after := eocState(ctx, env)
		env.Record("B35", harness.Measure{OK: before == after, Samples: 1, Measured: after, Threshold: before,
			Detail: "no command ran between the two reads, so no window closed: the EoC state is a fold of the journal (SPEC §4, §5)"})
	})

	// burst releases every call behind one barrier; call i waits delay(i)
	// after it (so the ends of a mission or a pool arrive while the moves
	// racing them are queued but not yet committed: an engine that reads
	// the entity when a request arrives, outside its committer, then
	// decides on a stale read).
	burst := func(ctx context.Context, calls []scenarios.Call, delay func(i int) time.Duration) []scenarios.Reply {
		out := make([]scenarios.Reply, len(calls))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range calls {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				if d := delay(i); d > 0 {
					time.Sleep(d)
				}
				out[i] = env.C.Do(ctx, calls[i])
			}(i)
		}
		close(start)
		wg.Wait()
		return out
	}
	// waves bursts calls size at a time (one entity's calls), one wave
	// after the other, call i delayed by delay(i). While a wave runs,
	// pollers read the state digest over and over, as a monitor polls a
	// backend: a read of the whole state holds it for a while, so an
	// end that reads its entity when it arrives waits behind it, and the
	// moves sent just after the end queue meanwhile. An engine that
	// decides the end on that read misses them: the wave reaches the
	// window on every run (one entity per wave keeps the committer idle
	// between the waves, so nothing else fills it).
	waves := func(ctx context.Context, calls []scenarios.Call, size, pollers int, delay func(i int) time.Duration) []scenarios.Reply {
		var out []scenarios.Reply
		for len(calls) > 0 {
			n := min(len(calls), size)
			stop := make(chan struct{})
			var pw sync.WaitGroup
			for range pollers {
				pw.Add(1)
				go func() {
					defer pw.Done()
					for {
						select {
						case <-stop:
							return
						default:
							env.C.Get(ctx, "/api/credits/digest")
						}
					}
				}()
			}
			base := len(out)
			out = append(out, burst(ctx, calls[:n], func(i int) time.Duration { return delay(base + i) })...)
			close(stop)
			pw.Wait()
			calls = calls[n:]
		}
		return out
	}
	// tally counts the answers by status and code.
	tally := func(rs []scenarios.Reply) (map[string]int, int) {
		t, bad := map[string]int{}, 0
		for _, r := range rs {
			k := fmt.Sprint(r.Status)
			if c := r.Code(); c != "" {
				k += " " + c
			}
			t[k]++
			if r.Status == 0 || r.Status >= 500 {
				bad++
			}
		}
		return t, bad
	}
	judge := func(ctx context.Context) *audit.Model {
		j, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable: %v", err)
		return audit.Fold(j)
	}

	// setUp sends fixture calls in bursts of 50: every one must be acknowledged.
	setUp := func(ctx context.Context, calls []scenarios.Call) {
		for len(calls) > 0 {
			n := min(len(calls), 50)
			for k, r := range burst(ctx, calls[:n], func(int) time.Duration { return 0 }) {
				harness.Accepted(r, "the fixture %s %s", calls[k].Method, calls[k].Path)
			}
			calls = calls[n:]
		}
	}

	It("a mission's end racing refunds that name it never refunds more than it consumed", Label("critical"), func(ctx SpecContext) {
		env.Require("B55")
		// 200 missions of 7.0 credits (general, medium, skill 1.0), 50 per
		// agent, one at a time; each ends (cancel: 100 %, complete: 7.0 −
		// 1.234) while four refunds of 1.234 name it, two reads of it and
		// pollers of the state digest race it: whatever
		// order the committer takes them in, the refunds stop at what the
		// mission consumed. An end that caps its refund by the mission as
		// read before it was queued misses the refunds queued meanwhile.
		const agents, perAgent, refunds, reads, wave = 4, 50, 4, 2, 1
		var missions []string
		owner := map[string]string{}
		var starts []scenarios.Call
		for a := 0; a < agents; a++ {
			agent := env.ID(fmt.Sprintf("mp-mref-%d", a))
			err := env.C.CreateAgent(ctx, agent, 400)
			harness.Ensure(err == nil, "creating agent %s with 400 credits must succeed: %v", agent, err)
			for k := 0; k < perAgent; k++ {
				id := fmt.Sprintf("%smp-mref-%d-%d", env.NS, a, k)
				starts = append(starts, scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Entity: id, Key: "mp-mref-start-" + id,
					Body: map[string]any{"mission_id": id, "agent_id": agent, "mission_type": "general", "complexity": "medium"}})
				missions = append(missions, id)
				owner[id] = agent
			}
		}
		setUp(ctx, starts)
		var calls []scenarios.Call
		for i, id := range missions {
			for r := 0; r < refunds; r++ {
				calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/refund", Kind: history.KindRefund, Agent: owner[id], Entity: id,
					Key: fmt.Sprintf("mp-mref-r-%s-%d", id, r), Body: map[string]any{"agent_id": owner[id], "amount": json.Number("1.234"), "reason": "race", "mission_id": id}})
			}
			// Reads of the mission race them too, as clients poll it.
			for r := 0; r < reads; r++ {
				calls = append(calls, scenarios.Call{Method: "GET", Path: "/api/credits/missions/" + id})
			}
			end, kind, body := "cancel", history.KindMissionCancel, map[string]any{}
			if i%2 == 1 {
				end, kind, body = "complete", history.KindMissionComplete, map[string]any{"actual_cost": json.Number("1.234")}
			}
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/missions/" + id + "/" + end, Kind: kind, Entity: id,
				Key: "mp-mref-end-" + id, Body: body})
		}
		// The refunds trail the ends by up to a millisecond: an end that
		// reads the mission on arrival reads it before them.
		replies := waves(ctx, calls, wave*(refunds+reads+1), 4, func(i int) time.Duration {
			if k := i % (refunds + reads + 1); k < refunds {
				return time.Duration(k+1) * 100 * time.Microsecond
			}
			return 0
		})
		t, bad := tally(replies)
		f := audit.MissionRefundBound(judge(ctx))
		f.OK = f.OK && bad == 0
		f.Detail = fmt.Sprintf("%d missions, each ended while %d refunds of 1.234 named it; answers %v; %s", len(missions), refunds, t, f.Detail)
		env.RecordFinding(f, "")
	}, NodeTimeout(time.Minute))

	It("a finished mission ends once: no later or racing complete, fail or cancel refunds again", Label("critical"), func(ctx SpecContext) {
		env.Require("B59")
		// Missions of 6.4 credits (code_review, low, skill 0.5: 6.375
		// rounded to 0.1 — the estimate consumed is the rounded one, and
		// so is what a completion refunds from), one agent each, so an
		// agent's balance tells what the mission refunded.
		// Every way to finish (cancel, fail, complete at actual cost 0,
		// 1.234, exactly the estimate and above it: the last two refund
		// nothing, so a backend that asks "was it refunded?" instead of "is
		// it finished?" reopens them) is followed by each end again under a
		// new key; and two ends of one mission race. SPEC §1/§5: a mission's
		// balance (the estimate consumed, less what it spent and refunded)
		// is never negative, so once finished it has nothing to refund.
		type end struct {
			name   string
			body   map[string]any
			refund int64 // milli-credits this end refunds of a running mission of 6.4
		}
		ends := []end{
			{"cancel", map[string]any{}, 6400},
			{"fail", map[string]any{}, 6400},
			{"complete", map[string]any{"actual_cost": json.Number("0")}, 6400},
			{"complete", map[string]any{"actual_cost": json.Number("1.234")}, 5166},
			{"complete", map[string]any{"actual_cost": json.Number("6.4")}, 0},
			{"complete", map[string]any{"actual_cost": json.Number("9.5")}, 0},
		}
		kindOf := map[string]history.Kind{"cancel": history.KindMissionCancel, "fail": history.KindMissionFail, "complete": history.KindMissionComplete}
		label := func(e end) string {
			if a, ok := e.body["actual_cost"]; ok {
				return fmt.Sprintf("complete at %v", a)
			}
			return e.name
		}
		n := 0
		endCall := func(id string, e end, key string) scenarios.Call {
			return scenarios.Call{Method: "POST", Path: "/api/credits/missions/" + id + "/" + e.name, Kind: kindOf[e.name], Entity: id, Key: key, Body: e.body}
		}
		// start opens a mission on a fresh agent of skill 0.5 (50
		// credits) and returns both ids and the balance after the start.
		start := func(ctx context.Context) (string, string, int64) {
			n++
			agent := env.ID(fmt.Sprintf("mp-mend-%d", n))
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/agents", Kind: history.KindCreateAgent, Role: history.Setup, Key: "mp-mend-agent-" + agent,
				Agent: agent, Body: map[string]any{"agent_id": agent, "skill_level": 0.5, "actor_id": "harness"}})
			harness.Accepted(r, "creating agent %s of skill 0.5", agent)
			id := fmt.Sprintf("%smp-mend-%d", env.NS, n)
			mustPost(ctx, "/missions", history.KindMissionStart, "mp-mend-start-"+id,
				map[string]any{"mission_id": id, "agent_id": agent, "mission_type": "code_review", "complexity": "low"})
			return agent, id, balance(ctx, agent)
		}
		var problems, notes []string
		measured := 0
		for _, first := range ends {
			for _, again := range ends[:3] {
				agent, id, b0 := start(ctx)
				r := env.C.Do(ctx, endCall(id, first, "mp-mend-1-"+id))
				if !r.OK() {
					notes = append(notes, fmt.Sprintf("%s refused %d %s", label(first), r.Status, strings.TrimSpace(string(r.Raw[:min(len(r.Raw), 80)]))))
					continue
				}
				b1 := balance(ctx, agent)
				r2 := env.C.Do(ctx, endCall(id, again, "mp-mend-2-"+id))
				b2 := balance(ctx, agent)
				measured++
				if b1-b0 != first.refund || b2 != b1 {
					problems = append(problems, fmt.Sprintf("%s: %s refunded %s (want %s), then %s answered %d and refunded %s more", id, label(first),
						money.FormatMilli(b1-b0), money.FormatMilli(first.refund), label(again), r2.Status, money.FormatMilli(b2-b1)))
				}
			}
		}
		// Two ends of one running mission at once: one finishes it, the
		// other refunds nothing.
		for i, pair := range [][2]int{{0, 0}, {0, 1}, {1, 3}, {2, 0}, {3, 3}, {1, 1}, {0, 4}, {5, 0}} {
			for rep := 0; rep < 2; rep++ {
				agent, id, b0 := start(ctx)
				calls := []scenarios.Call{endCall(id, ends[pair[0]], fmt.Sprintf("mp-mend-ra-%d-%d-%s", i, rep, id)),
					endCall(id, ends[pair[1]], fmt.Sprintf("mp-mend-rb-%d-%d-%s", i, rep, id))}
				rs := burst(ctx, calls, func(int) time.Duration { return 0 })
				got := balance(ctx, agent) - b0
				measured++
				ok := false
				for k, r := range rs {
					if r.OK() && got == ends[pair[k]].refund {
						ok = true
					}
				}
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: %s and %s raced (answers %d, %d) and refunded %s together; one of them alone refunds %s or %s",
						id, label(ends[pair[0]]), label(ends[pair[1]]), rs[0].Status, rs[1].Status, money.FormatMilli(got),
						money.FormatMilli(ends[pair[0]].refund), money.FormatMilli(ends[pair[1]].refund)))
				}
			}
		}
		m := harness.Measure{OK: len(problems) == 0, Samples: measured, Measured: len(problems), Threshold: 0,
			Detail: fmt.Sprintf("%d missions ended again after each way of finishing (6 × 3) or by two racing ends (8 pairs × 2); each agent's balance read after every end\n%s",
				measured, strings.Join(firstN(problems, 10), "\n"))}
		if len(notes) > 0 {
			m.Detail += fmt.Sprintf("\nnot measured, the first end refused: %s", strings.Join(firstN(notes, 3), "; "))
		}
		env.Record("B59", m)
	}, NodeTimeout(2*time.Minute))

	It("a pool's close racing member consumes pays out only what is left", Label("critical"), func(ctx SpecContext) {
		env.Require("B56")
		// 100 pools of 40 credits, one at a time; each closes while six
		// member consumes of 5.678 race it and the state digest is polled:
		// consumed plus paid out stays within the 40. A close that pays
		// the remainder read before it was queued pays the consumes queued
		// meanwhile again.
		const pools, consumes = 100, 6
		member, payee := env.ID("mp-pclose-member"), env.ID("mp-pclose-payee")
		newAgent(ctx, "mp-pclose-member")
		newAgent(ctx, "mp-pclose-payee")
		var ids []string
		var creates, allocs []scenarios.Call
		for i := 0; i < pools; i++ {
			id := env.ID(fmt.Sprintf("mp-pclose-%d", i))
			creates = append(creates, scenarios.Call{Method: "POST", Path: "/api/credits/pools", Kind: history.KindPoolCreate, Entity: id, Key: "mp-pclose-create-" + id,
				Body: map[string]any{"pool_id": id, "members": []string{member}}})
			allocs = append(allocs, scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + id + "/allocate", Kind: history.KindPoolAllocate, Entity: id, Key: "mp-pclose-alloc-" + id,
				Body: map[string]any{"amount": json.Number("40"), "reason": "fund"}})
			ids = append(ids, id)
		}
		setUp(ctx, creates)
		setUp(ctx, allocs)
		var calls []scenarios.Call
		for _, id := range ids {
			for c := 0; c < consumes; c++ {
				calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + id + "/consume", Kind: history.KindPoolConsume, Entity: id,
					Key: fmt.Sprintf("mp-pclose-c-%s-%d", id, c), Body: map[string]any{"agent_id": member, "amount": json.Number("5.678"), "reason": "race"}})
			}
			calls = append(calls, scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + id + "/close", Kind: history.KindPoolClose, Entity: id,
				Key: "mp-pclose-close-" + id, Body: map[string]any{"refund_to": payee}})
		}
		// The consumes trail the close by up to 0.6 ms: a close that reads
		// the pool on arrival reads it before them.
		replies := waves(ctx, calls, consumes+1, 4, func(i int) time.Duration {
			if k := i % (consumes + 1); k < consumes {
				return time.Duration(k+1) * 100 * time.Microsecond
			}
			return 0
		})
		t, bad := tally(replies)
		f := audit.PoolCloseBound(judge(ctx))
		f.OK = f.OK && bad == 0
		f.Detail = fmt.Sprintf("%d pools of 40 credits, each closed while %d consumes of 5.678 raced it; answers %v; %s", pools, consumes, t, f.Detail)
		env.RecordFinding(f, "")
	}, NodeTimeout(time.Minute))

	// blackout stops KARMA where the harness runs its stub: every reward
	// then weighs the fallback's 1.0 and ten collaborations of
	// contribution 1.0 fill the cap of 500 exactly (fillCount); elsewhere
	// twenty do (the least weight, 0.5, pays 25 credits each).
	blackout := func(ctx context.Context) func() {
		if env.Karma == nil {
			return func() {}
		}
		down := &fault.KarmaDown{K: env.Karma}
		_, err := env.Inject(ctx, down)
		harness.Injected(err, "the KARMA stub must stop")
		return func() {
			_, err := env.Heal(ctx, down)
			harness.Ensure(err == nil, "the KARMA stub must start again after the blackout: %v", err)
		}
	}
	fillCount := func() int {
		if env.Karma == nil {
			return 20
		}
		return 10
	}

	It("a reward withheld whole, past an exactly filled cap, is still recorded as reward_capped", Label("critical"), func(ctx SpecContext) {
		env.Require("B57")
		a, b := env.ID("mp-capfill-a"), env.ID("mp-capfill-b")
		newAgent(ctx, "mp-capfill-a")
		newAgent(ctx, "mp-capfill-b")
		heal := blackout(ctx)
		n, err := scenarios.SynergyCapFill(ctx, env.C, env.ID("mp-capfill-team"), []string{a, b}, env.ID("mp-capfill-c"), fillCount()+2)
		harness.Ensure(err == nil, "the cap-filling collaborations must be recorded: %v", err)
		// The cap is per team: capped in the first, both are paid in a
		// second (an account per agent across teams withholds it).
		_, err = scenarios.SynergyCapFill(ctx, env.C, env.ID("mp-capfill-team2"), []string{a, b}, env.ID("mp-capfill-d"), 1)
		heal()
		harness.Ensure(err == nil, "a collaboration of the capped agents in a second team must be recorded: %v", err)
		f, whole := audit.RewardsRecorded(judge(ctx), 500_000)
		f.OK = f.OK && whole >= 2
		f.Detail = fmt.Sprintf("%d collaborations of %s and %s, contribution 1.0, in one team: the cap of 500 filled, then rewards withheld whole (≥ 2 expected, %d in the journal), then one in a second team, which pays them (the cap is per team); %s", n, a, b, whole, f.Detail)
		env.RecordFinding(f, "")
	}, NodeTimeout(time.Minute))

	It("ids holding a separator never share a synergie cap account", Label("critical"), func(ctx SpecContext) {
		env.Require("B58")
		// For each separator s of the id alphabet (and none): fill agent
		// X's cap in team T+s+"a", then reward agent "a"+s+X in team T. A
		// key joining team and agent with s makes both T+s+"a"+s+X.
		var once sync.Once
		stop := blackout(ctx)
		heal := func() { once.Do(stop) }
		defer heal()
		var judged []string
		for i, sep := range []string{":", ".", "_", "-", "@", "+", "=", ""} {
			x, h1, h2 := env.ID(fmt.Sprintf("mp-sep%d-x", i)), env.ID(fmt.Sprintf("mp-sep%d-h1", i)), env.ID(fmt.Sprintf("mp-sep%d-h2", i))
			other := "a" + sep + x
			for _, id := range []string{x, h1, h2, other} {
				err := env.C.CreateAgent(ctx, id, 100)
				harness.Ensure(err == nil, "creating agent %s must succeed (the id alphabet holds %q): %v", id, sep, err)
			}
			team := env.ID(fmt.Sprintf("mp-sep%d-t", i))
			_, err := scenarios.SynergyCapFill(ctx, env.C, team+sep+"a", []string{x, h1}, env.ID(fmt.Sprintf("mp-sep%d-fill", i)), fillCount())
			harness.Ensure(err == nil, "filling the cap of %s in team %s must succeed: %v", x, team+sep+"a", err)
			_, err = scenarios.SynergyCapFill(ctx, env.C, team, []string{other, h2}, env.ID(fmt.Sprintf("mp-sep%d-other", i)), 1)
			harness.Ensure(err == nil, "a collaboration of %s in team %s must be recorded: %v", other, team, err)
			judged = append(judged, x, other)
		}
		heal()
		f := audit.CapPerPair(judge(ctx), 500_000, judged)
		f.Detail = "team T+s+\"a\" agent X at the cap, then team T agent \"a\"+s+X, for s in : . _ - @ + = and none; " + f.Detail
		env.RecordFinding(f, "")
	}, NodeTimeout(2*time.Minute))

	It("after the races the API equals the reference fold, formulas included", Label("critical"), func(ctx SpecContext) {
		env.Require(foldIDs...)
		foldFixtures(ctx, env, "mp")
		compareFold(ctx, env, "after the money-path races")
	})
})

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// eocState renders what GET /eoc says about the folded EoC state.
func eocState(ctx context.Context, env *harness.Env) string {
	r := env.C.Get(ctx, "/api/credits/eoc")
	if !r.OK() {
		return fmt.Sprintf("GET /eoc: %d %s", r.Status, r.Raw)
	}
	reg, _ := json.Marshal(r.Body["regulation"])
	return fmt.Sprintf("score %v band %v state %v regulation %s", r.Body["score"], r.Body["band"], r.Body["state"], reg)
}

// firstConsumeAt is the time the journal stamps on the agent's first
// consume given the reason.
func firstConsumeAt(j *audit.Journal, agent, reason string) (time.Time, bool) {
	for _, e := range j.Events() {
		var p struct {
			AgentID string `json:"agent_id"`
			Reason  string `json:"reason"`
		}
		if e.EventType != "credit.consumed" || json.Unmarshal(e.Payload, &p) != nil || p.AgentID != agent || p.Reason != reason {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		return t, err == nil
	}
	return time.Time{}, false
}
