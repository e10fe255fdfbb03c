package b_test

// Reads that lag or lie: the backend keeps only the newest
// CREDITD_LEDGER_KEEP ledger entries per agent in memory and serves older
// pages from the journal (SPEC §4). Booted with a window of 16, one agent
// gets ten times that many entries through every path that moves it (the
// ones the backend serves); each balance read right after an acknowledged
// write must show that write, and every history page — several page sizes,
// deep offsets, before and after a restart — must equal the journal fold
// entry by entry.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

const ledgerWindow = 16

// foreignLedgerEntries is how many ledger entries the paging workload
// writes on a backend whose in-memory window the harness cannot set.
const foreignLedgerEntries = 1200

var _ = Describe("Gate B: history pages beyond the in-memory window and reads right after writes", Ordered, ContinueOnFailure, harness.Checks("B36", "B37"), func() {
	var env *harness.Env
	var agent string
	// read is one balance read right after an acknowledged write.
	type read struct {
		afterOp string // the op's first event id ("" when the answer names none)
		delta   int64  // the op's effect on the balance, when the client knows it
		known   bool   // delta is known from the request alone (consume, refund, withdraw, add)
		balance int64
		ok      bool // the read answered a balance
	}
	var reads []read
	var start int64 // the balance read before the first op
	var skipped []string

	balance := func(ctx context.Context) (int64, bool) {
		r := env.C.Get(ctx, "/api/credits/balance/"+agent)
		if !r.OK() {
			return 0, false
		}
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		var doc struct {
			Balance json.Number `json:"balance"`
		}
		if dec.Decode(&doc) != nil {
			return 0, false
		}
		v, err := money.ParseMilli(string(doc.Balance))
		return v, err == nil
	}

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", map[string]string{"CREDITD_LEDGER_KEEP": fmt.Sprint(ledgerWindow)})
		env.OutDir = filepath.Join(env.OutDir, "paging")
		harness.Ensure(os.MkdirAll(env.OutDir, 0o755) == nil, "the out dir %s must be writable", env.OutDir)
		if ok, missing := env.Serves(catalog.Agents, catalog.Consume); !ok {
			skipped = append(skipped, fmt.Sprint("the workload needs ", missing))
			return
		}
		agent = env.ID("pg-agent")
		err := env.C.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "creating agent %s must succeed: %v", agent, err)
		readBack := env.Routes.Has(catalog.Balance)
		if readBack {
			start, _ = balance(ctx)
		}
		// The history is recorded first; the specs judge it afterwards.
		send := func(path string, kind history.Kind, key string, body map[string]any) scenarios.Reply {
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: kind, Key: key, Body: body, Agent: agent})
		}
		// record notes an acknowledged write and the balance read after it.
		record := func(r scenarios.Reply, delta int64, known bool) {
			rd := read{afterOp: r.Str("event_id"), delta: delta, known: known}
			if readBack {
				rd.balance, rd.ok = balance(ctx)
			}
			reads = append(reads, rd)
		}
		op := func(path, route string, kind history.Kind, key string, body map[string]any, delta int64, known bool) {
			r := send(path, kind, key, body)
			harness.Accepted(r, "%s for the paging workload", route)
			record(r, delta, known)
		}
		// tried is op for the entries whose bodies SPEC §6 leaves to the
		// backend (a pool's close, a mission's fail or cancel): another
		// backend refusing ours goes on without them, named in the report.
		refusedOnce := map[string]bool{}
		tried := func(path, route string, kind history.Kind, key string, body map[string]any) bool {
			r := send(path, kind, key, body)
			if !env.TCfg.Kind.OwnEngine() && r.Status >= 400 && r.Status < 500 {
				if !refusedOnce[route] {
					refusedOnce[route] = true
					skipped = append(skipped, fmt.Sprintf("%s (refused %d %.200s)", route, r.Status, r.Raw))
				}
				return false
			}
			harness.Accepted(r, "%s for the paging workload", route)
			record(r, 0, false)
			return true
		}
		pool := env.ID("pg-pool")
		pools := env.Routes.Has(catalog.PoolCreate) && env.Routes.Has(catalog.PoolAllocate)
		if pools {
			// The pool is optional here: another backend refusing our
			// engine's pool body (SPEC §6 leaves it to the backend) still
			// gets its history paged, without pool allocations.
			r := send("/pools", history.KindPoolCreate, "pg-pool", map[string]any{"pool_id": pool, "members": []string{agent}})
			if !env.TCfg.Kind.OwnEngine() && (r.Status == 400 || r.Status == 422) {
				pools = false
				skipped = append(skipped, fmt.Sprintf("pool allocations (the pool body was refused %d %.200s)", r.Status, r.Raw))
			} else {
				harness.Accepted(r, "%s for the paging workload", catalog.PoolCreate)
				record(r, 0, true)
			}
		}
		missions := env.Routes.Has(catalog.MissionStart) && env.Routes.Has(catalog.MissionComplete)
		// Our engine keeps ledgerWindow entries per agent in memory. Another
		// backend's window is its own (SPEC §4 names none): it gets more
		// entries than the windows backends choose (100, 256, 500, 1000), so
		// its pages read from the journal, and the edge between, are paged.
		entries := 10 * ledgerWindow
		if !env.TCfg.Kind.OwnEngine() {
			entries = foreignLedgerEntries
		}
		steps := 0
		for i := 0; len(reads) < entries && steps < 10*entries; i++ {
			steps++
			key := fmt.Sprintf("pg-%d", i)
			switch i % 6 {
			case 0:
				op("/consume", catalog.Consume, history.KindConsume, key, map[string]any{"agent_id": agent, "amount": json.Number("1.234"), "reason": "page"}, -1234, true)
			case 1:
				if env.Routes.Has(catalog.Refund) {
					op("/refund", catalog.Refund, history.KindRefund, key, map[string]any{"agent_id": agent, "amount": json.Number("0.567"), "reason": "page"}, 567, true)
				}
			case 2:
				if env.Routes.Has(catalog.Withdraw) {
					op("/withdraw", catalog.Withdraw, history.KindWithdraw, key, map[string]any{"agent_id": agent, "amount": json.Number("0.011"), "reason": "page"}, -11, true)
				}
			case 3:
				if env.Routes.Has(catalog.Add) {
					op("/add", catalog.Add, history.KindAdd, key, map[string]any{"agent_id": agent, "amount": json.Number("2.002"), "reason": "page"}, 2002, true)
				}
			case 4:
				// Every end of a mission, each leaving its own ledger entry
				// (a refund by its own formula) among the pages.
				if missions {
					mid := env.ID(fmt.Sprintf("pg-m-%d", i))
					op("/missions", catalog.MissionStart, history.KindMissionStart, key, map[string]any{"mission_id": mid, "agent_id": agent, "mission_type": "general", "complexity": "low"}, 0, false)
					end := []struct {
						verb, route string
						kind        history.Kind
					}{{"complete", catalog.MissionComplete, history.KindMissionComplete}, {"fail", catalog.MissionFail, history.KindMissionFail},
						{"cancel", catalog.MissionCancel, history.KindMissionCancel}}[(i/6)%3]
					ended := end.verb != "complete" && env.Routes.Has(end.route) &&
						tried("/missions/"+mid+"/"+end.verb, end.route, end.kind, key+"-"+end.verb, map[string]any{"actual_cost": json.Number("1.111")})
					if !ended { // a key of its own: a refused fail or cancel may hold its key
						op("/missions/"+mid+"/complete", catalog.MissionComplete, history.KindMissionComplete, key+"-complete", map[string]any{"actual_cost": json.Number("1.111")}, 0, false)
					}
				}
			case 5:
				if !pools {
					break
				}
				// Every fourth time a pool of its own, closed with its
				// remainder paid to the agent: a pool_closed entry.
				if (i/6)%4 == 3 && env.Routes.Has(catalog.PoolClose) && !refusedOnce[catalog.PoolClose] {
					cp := env.ID(fmt.Sprintf("pg-pool-c%d", i))
					r := send("/pools", history.KindPoolCreate, key+"-c", map[string]any{"pool_id": cp, "members": []string{agent}})
					harness.Accepted(r, "%s for the paging workload", catalog.PoolCreate)
					record(r, 0, true)
					op("/pools/"+cp+"/allocate", catalog.PoolAllocate, history.KindPoolAllocate, key+"-ca", map[string]any{"amount": json.Number("1.5"), "reason": "page"}, 0, false)
					if tried("/pools/"+cp+"/close", catalog.PoolClose, history.KindPoolClose, key+"-cc", map[string]any{"refund_to": agent}) {
						break
					}
				}
				op("/pools/"+pool+"/allocate", catalog.PoolAllocate, history.KindPoolAllocate, key, map[string]any{"amount": json.Number("0.999"), "reason": "page"}, 0, false)
			}
		}
		if len(skipped) > 0 {
			AddReportEntry("workloads not run", fmt.Sprint(skipped))
		}
	}, NodeTimeout(2*time.Minute))

	It("a balance read right after each acknowledged write shows that write", func(ctx SpecContext) {
		env.Require("B36")
		var bad []string
		judged := 0
		if ok, _ := env.Has(catalog.CapJournal); ok {
			// The journal says what each command did, missions and pools
			// included: the read after op i shows the ledger up to the
			// next op's first event.
			j, err := env.FullJournal(ctx)
			harness.Ensure(err == nil, "the journal must be readable: %v", err)
			seqOf := map[string]uint64{}
			for _, e := range j.Events() {
				seqOf[e.EventID] = e.Seq
			}
			ledger := audit.Fold(j).Ledgers[agent]
			for i, r := range reads {
				if !r.ok || r.afterOp == "" {
					continue
				}
				limit := ^uint64(0)
				if i+1 < len(reads) && reads[i+1].afterOp != "" {
					limit = seqOf[reads[i+1].afterOp]
				}
				var want int64
				for _, en := range ledger {
					if en.Seq < limit {
						want = en.BalanceAfterMilli
					}
				}
				judged++
				if r.balance != want {
					bad = append(bad, fmt.Sprintf("after op %d (event %s): read %s, journal %s", i, r.afterOp, money.FormatMilli(r.balance), money.FormatMilli(want)))
				}
			}
		} else {
			// Black-box: the amounts say what each original write did; a
			// write whose effect the client cannot know ends the judging.
			want := start
			for i, r := range reads {
				if !r.known {
					break
				}
				want += r.delta
				if !r.ok {
					continue
				}
				judged++
				if r.balance != want {
					bad = append(bad, fmt.Sprintf("after op %d: read %s, the acknowledged amounts give %s", i, money.FormatMilli(r.balance), money.FormatMilli(want)))
				}
			}
		}
		env.Record("B36", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("%d acknowledged writes, %d followed by a read that was judged; %v", len(reads), judged, firstN(bad, 5))})
	})

	// pageAll reads the whole history with one page size and compares it
	// with the fold, newest first.
	pageAll := func(ctx context.Context, when string) {
		j, err := env.FullJournal(ctx)
		harness.Ensure(err == nil, "the journal must be readable %s: %v", when, err)
		want := slices.Clone(audit.Fold(j).Ledgers[agent])
		slices.Reverse(want) // newest first, like the API
		var bad []string
		var notServed audit.LedgerFields
		pages, entries := 0, 0
		for _, limit := range []int{7, ledgerWindow, 50, 1000} {
			for off := 0; off <= len(want); off += limit {
				var resp struct {
					History []json.RawMessage `json:"history"`
					Total   *int              `json:"total_entries"`
				}
				r := env.C.Get(ctx, fmt.Sprintf("/api/credits/history/%s?limit=%d&offset=%d", agent, limit, off))
				if !r.OK() || json.Unmarshal(r.Raw, &resp) != nil {
					bad = append(bad, fmt.Sprintf("limit %d offset %d: %d %.200s", limit, off, r.Status, r.Raw))
					continue
				}
				pages++
				// total_entries is the whole ledger (SPEC §6) on every page,
				// not what a window or the page holds.
				if resp.Total != nil && *resp.Total != len(want) {
					bad = append(bad, fmt.Sprintf("limit %d offset %d: total_entries %d, journal %d", limit, off, *resp.Total, len(want)))
				}
				wantPage := want[off:min(off+limit, len(want))]
				if len(resp.History) != len(wantPage) {
					bad = append(bad, fmt.Sprintf("limit %d offset %d: %d entries, journal %d", limit, off, len(resp.History), len(wantPage)))
				}
				for i := 0; i < min(len(resp.History), len(wantPage)); i++ {
					entries++
					got, err := audit.ParseHistoryEntry(resp.History[i])
					if err != nil {
						bad = append(bad, fmt.Sprintf("limit %d offset %d entry %d: %v: %.200s", limit, off, i, err, resp.History[i]))
						continue
					}
					// Every field SPEC §6 lists, not only the money.
					diffs, missing := audit.LedgerEntryDiffs(wantPage[i], got)
					notServed |= missing
					if len(diffs) > 0 {
						bad = append(bad, fmt.Sprintf("limit %d offset %d entry %d (journal event %s): %s", limit, off, i, wantPage[i].EventID, strings.Join(diffs, "; ")))
					}
				}
			}
		}
		window := fmt.Sprint(ledgerWindow)
		if !env.TCfg.Kind.OwnEngine() {
			window = fmt.Sprintf("the backend's own (%d entries written to pass it)", foreignLedgerEntries)
		}
		// Pages within the window prove nothing about paging beyond it.
		deep := len(want) > 5*ledgerWindow
		if !deep {
			pages = 0
		}
		env.Record("B37", harness.Measure{OK: len(bad) == 0, Samples: pages, Measured: len(bad), Threshold: 0, Variant: when,
			Detail: fmt.Sprintf("%d ledger entries (must exceed %d), window %s, %d pages of 7/16/50/1000 read, %d entries compared field by field, total_entries on each%s; %v",
				len(want), 5*ledgerWindow, window, pages, entries, audit.NotServedNote(notServed), firstN(bad, 5))})
	}

	It("every history page beyond the in-memory window equals the journal fold", Label("critical"), func(ctx SpecContext) {
		env.Require("B37")
		pageAll(ctx, "live")
	})

	It("and still after a clean restart rebuilt the window from the journal", func(ctx SpecContext) {
		env.Require("B37")
		if ok, why := env.Has(catalog.CapRestart); !ok {
			Skip(why)
		}
		restart := &fault.Restart{T: env.T}
		_, err := env.Inject(ctx, restart)
		harness.Injected(err, "a graceful stop must drain and exit 0")
		_, err = env.Heal(ctx, restart)
		harness.Ensure(err == nil, "the backend must start again on its data after a clean stop: %v", err)
		pageAll(ctx, "after a clean restart")
	})
})
