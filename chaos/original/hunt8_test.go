package original

import (
	"os"
	"path/filepath"
	"testing"
)

// The eighth hunt's defects, each checked off and on (withAndWithout).

func TestH8ThresholdExclusive(t *testing.T) {
	withAndWithout(t, H8ThresholdExclusive, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/add", `{"agent_id":"a1","amount":499.999}`), 200) // below: applied, defect or not
		b.must(b.post("/add", `{"agent_id":"a1","amount":500.001}`), 403) // above: gated, defect or not
		a := b.post("/add", `{"agent_id":"a1","amount":500}`)
		if want := map[bool]int{false: 403, true: 200}[on]; a.status != want {
			t.Fatalf("add of exactly 500: %d %s, want %d", a.status, a.raw, want)
		}
	})
}

func TestH8BalancesSkipEmpty(t *testing.T) {
	withAndWithout(t, H8BalancesSkipEmpty, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.register("a2", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":100}`), 200)
		if got := b.balanceText("a1"); got != "0" {
			t.Fatalf("balance %s, want 0", got)
		}
		a := b.must(b.do("GET", "/api/credits/balances", "", ""), 200)
		bal, _ := a.body["balances"].(map[string]any)
		_, listed := bal["a1"]
		if listed == on || a.body["total_agents"] != map[bool]float64{false: 2, true: 1}[on] {
			t.Fatalf("balances with a drained agent: %s", a.raw)
		}
	})
}

func TestH8HistoryLimitOldest(t *testing.T) {
	withAndWithout(t, H8HistoryLimitOldest, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		for _, r := range []string{"c1", "c2", "c3"} {
			b.must(b.post("/consume", `{"agent_id":"a1","amount":1,"reason":"`+r+`"}`), 200)
		}
		reasons := func(limit string) []string {
			a := b.must(b.do("GET", "/api/credits/history/a1?limit="+limit, "", ""), 200)
			var out []string
			for _, e := range a.body["history"].([]any) {
				out = append(out, e.(map[string]any)["reason"].(string))
			}
			return out
		}
		if all := reasons("10"); len(all) != 4 || all[0] != "c3" || all[3] != "initial_allocation" {
			t.Fatalf("limit above the entries: %v", all) // right, defect or not
		}
		got := reasons("2")
		want := map[bool][2]string{false: {"c3", "c2"}, true: {"c1", "initial_allocation"}}[on]
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("limit 2: %v, want %v", got, want)
		}
	})
}

func TestH8ReplayCents(t *testing.T) {
	withAndWithout(t, H8ReplayCents, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1.005}`), 200)
		b.must(b.post("/consume", `{"agent_id":"a1","amount":2.5}`), 200)
		if got := b.balanceText("a1"); got != "96.495" { // live: exact, defect or not
			t.Fatalf("live balance %s", got)
		}
		got := b.restart(ds...).balanceText("a1")
		if want := map[bool]string{false: "96.495", true: "96.5"}[on]; got != want {
			t.Fatalf("after a restart: balance %s, want %s", got, want)
		}
	})
}

func TestH8RetryBodyAfterRestart(t *testing.T) {
	withAndWithout(t, H8RetryBodyAfterRestart, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		body := `{"agent_id":"a1","amount":10}`
		first := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		b.must(b.post("/consume", `{"agent_id":"a1","amount":5}`), 200)
		if again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200); again.raw != first.raw {
			t.Fatalf("retry before a restart: %s, want %s", again.raw, first.raw) // right, defect or not
		}
		b = b.restart(ds...)
		again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		if again.hdr.Get("Idempotent-Replayed") != "true" || again.body["event_id"] != first.body["event_id"] {
			t.Fatalf("retry after a restart is not a replay: %s", again.raw)
		}
		if want := map[bool]float64{false: 90, true: 85}[on]; again.body["balance_after"] != want {
			t.Fatalf("retry after a restart: %s, want balance_after %v", again.raw, want)
		}
		if got := b.balanceText("a1"); got != "85" {
			t.Fatalf("balance %s, want 85", got)
		}
	})
}

func TestH8RefundNoFsync(t *testing.T) {
	withAndWithout(t, H8RefundNoFsync, func(t *testing.T, on bool, ds []Defect) {
		synced := recordSyncs(t)
		dir := t.TempDir()
		b := openFsynced(t, dir, ds)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":10,"mission_id":"m1"}`), 200)
		b.must(b.post("/refund", `{"agent_id":"a1","amount":4,"mission_id":"m1"}`), 200)
		b.stop()
		fi, err := os.Stat(filepath.Join(dir, JournalName))
		if err != nil {
			t.Fatal(err)
		}
		if lost := *synced != fi.Size(); lost != on {
			t.Fatalf("after an acknowledged refund: synced %d of %d bytes", *synced, fi.Size())
		}
	})
}
