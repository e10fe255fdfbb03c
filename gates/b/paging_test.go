package b_test

// Reads that lag or lie: the backend keeps only the newest
// CREDITD_LEDGER_KEEP ledger entries per agent in memory and serves older
// pages from the journal (SPEC §4). Booted with a window of 16, one agent
// gets ten times that many entries through every path that moves it; each
// balance read right after an acknowledged write must show that write, and
// every history page — several page sizes, deep offsets, before and after a
// restart — must equal the journal fold entry by entry.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	CheckReadYourWrites = "read-your-writes: GET /balance/{id} right after an acknowledged write shows it"
	CheckDeepPaging     = "history paging beyond the in-memory ledger window equals the journal fold entry by entry"
)

const ledgerWindow = 16

var _ = Describe("Gate B: history pages beyond the in-memory window and reads right after writes", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var agent string
	type read struct {
		afterOp string // the op's first event id
		balance int64
	}
	var reads []read

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", map[string]string{"CREDITD_LEDGER_KEEP": fmt.Sprint(ledgerWindow)})
		env.OutDir = filepath.Join(env.OutDir, "paging")
		Expect(os.MkdirAll(env.OutDir, 0o755)).To(Succeed())
		agent = env.ID("pg-agent")
		Expect(env.C.CreateAgent(ctx, agent, 100)).To(Succeed())
	}, NodeTimeout(time.Minute))

	balance := func(ctx context.Context) int64 {
		r := env.C.Get(ctx, "/api/credits/balance/"+agent)
		Expect(r.OK()).To(BeTrue(), "GET /balance: %d %s", r.Status, r.Raw)
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		var doc struct {
			Balance json.Number `json:"balance"`
		}
		Expect(dec.Decode(&doc)).To(Succeed())
		v, err := audit.ParseMilli(string(doc.Balance))
		Expect(err).NotTo(HaveOccurred())
		return v
	}
	op := func(ctx context.Context, path string, kind history.Kind, key string, body map[string]any) {
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: kind, Key: key, Body: body})
		Expect(r.OK()).To(BeTrue(), "%s %s: %d %s", kind, path, r.Status, r.Raw)
		id := r.Str("event_id")
		Expect(id).NotTo(BeEmpty(), "%s answered no event_id: %s", kind, r.Raw)
		reads = append(reads, read{afterOp: id, balance: balance(ctx)})
	}

	It("a balance read right after each acknowledged write shows that write", func(ctx SpecContext) {
		pool := env.ID("pg-pool")
		op(ctx, "/pools", history.KindPoolCreate, "pg-pool", map[string]any{"pool_id": pool, "members": []string{agent}})
		for i := 0; len(reads) < 10*ledgerWindow; i++ {
			key := fmt.Sprintf("pg-%d", i)
			switch i % 6 {
			case 0:
				op(ctx, "/consume", history.KindConsume, key, map[string]any{"agent_id": agent, "amount": json.Number("1.234"), "reason": "page"})
			case 1:
				op(ctx, "/refund", history.KindRefund, key, map[string]any{"agent_id": agent, "amount": json.Number("0.567"), "reason": "page"})
			case 2:
				op(ctx, "/withdraw", history.KindWithdraw, key, map[string]any{"agent_id": agent, "amount": json.Number("0.011"), "reason": "page"})
			case 3:
				op(ctx, "/add", history.KindAdd, key, map[string]any{"agent_id": agent, "amount": json.Number("2.002"), "reason": "page"})
			case 4:
				mid := env.ID(fmt.Sprintf("pg-m-%d", i))
				op(ctx, "/missions", history.KindMissionStart, key, map[string]any{"mission_id": mid, "agent_id": agent, "mission_type": "general", "complexity": "low"})
				op(ctx, "/missions/"+mid+"/complete", history.KindMissionComplete, key+"-end", map[string]any{"actual_cost": json.Number("1.111")})
			case 5:
				op(ctx, "/pools/"+pool+"/allocate", history.KindPoolAllocate, key, map[string]any{"amount": json.Number("0.999"), "reason": "page"})
			}
		}
		j, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred())
		m := audit.Fold(j)
		seqOf := map[string]uint64{}
		for _, e := range j.Events() {
			seqOf[e.EventID] = e.Seq
		}
		ledger := m.Ledgers[agent]
		var bad []string
		for i, r := range reads {
			// The op's command ends before the next op's first event.
			limit := ^uint64(0)
			if i+1 < len(reads) {
				limit = seqOf[reads[i+1].afterOp]
			}
			var want int64
			for _, en := range ledger {
				if en.Seq < limit {
					want = en.BalanceAfterMilli
				}
			}
			if r.balance != want {
				bad = append(bad, fmt.Sprintf("after op %d (event %s): read %s, journal %s", i, r.afterOp, audit.FormatMilli(r.balance), audit.FormatMilli(want)))
			}
		}
		env.Check(CheckReadYourWrites, len(bad) == 0, len(bad), 0, fmt.Sprintf("%d writes, each followed by a read; %v", len(reads), firstN(bad, 5)), true)
	})

	// pageAll reads the whole history with one page size and compares it
	// with the fold, newest first.
	pageAll := func(ctx context.Context, when string) {
		j, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred())
		want := slices.Clone(audit.Fold(j).Ledgers[agent])
		slices.Reverse(want) // newest first, like the API
		Expect(len(want)).To(BeNumerically(">", 5*ledgerWindow), "the scenario must outgrow the window")
		var bad []string
		pages := 0
		for _, limit := range []int{7, ledgerWindow, 50, 1000} {
			for off := 0; off <= len(want); off += limit {
				pages++
				var resp struct {
					History []struct {
						EventID      string      `json:"event_id"`
						Amount       json.Number `json:"amount"`
						BalanceAfter json.Number `json:"balance_after"`
					} `json:"history"`
				}
				r := env.C.Get(ctx, fmt.Sprintf("/api/credits/history/%s?limit=%d&offset=%d", agent, limit, off))
				Expect(r.OK()).To(BeTrue(), "GET /history: %d %s", r.Status, r.Raw)
				dec := json.NewDecoder(bytes.NewReader(r.Raw))
				dec.UseNumber()
				Expect(dec.Decode(&resp)).To(Succeed())
				wantPage := want[off:min(off+limit, len(want))]
				if len(resp.History) != len(wantPage) {
					bad = append(bad, fmt.Sprintf("limit %d offset %d: %d entries, journal %d", limit, off, len(resp.History), len(wantPage)))
				}
				for i := 0; i < min(len(resp.History), len(wantPage)); i++ {
					h, w := resp.History[i], wantPage[i]
					amt, err1 := audit.ParseMilli(string(h.Amount))
					after, err2 := audit.ParseMilli(string(h.BalanceAfter))
					if h.EventID != w.EventID || err1 != nil || err2 != nil || amt != w.AmountMilli || after != w.BalanceAfterMilli {
						bad = append(bad, fmt.Sprintf("limit %d offset %d entry %d: API {%s %s → %s}, journal {%s %s → %s}", limit, off, i,
							h.EventID, h.Amount, h.BalanceAfter, w.EventID, audit.FormatMilli(w.AmountMilli), audit.FormatMilli(w.BalanceAfterMilli)))
					}
				}
			}
		}
		env.Check(CheckDeepPaging+" ("+when+")", len(bad) == 0, len(bad), 0,
			fmt.Sprintf("%d entries, window %d, %d pages of 7/16/50/1000; %v", len(want), ledgerWindow, pages, firstN(bad, 5)), true)
	}

	It("every history page beyond the in-memory window equals the journal fold", Label("critical"), func(ctx SpecContext) {
		pageAll(ctx, "live")
	})

	It("and still after a clean restart rebuilt the window from the journal", Label("critical"), func(ctx SpecContext) {
		env.RequireCap(target.CapRestart)
		Expect(env.T.Stop(ctx)).To(Succeed())
		Expect(env.T.Start(ctx)).To(Succeed())
		pageAll(ctx, "after a clean restart")
	})
})
