package original

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The twelfth hunt's defects (b), each checked off and on (withAndWithout).

func TestH12KeyPerRoute(t *testing.T) {
	withAndWithout(t, H12KeyPerRoute, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		body := `{"agent_id":"a1","amount":10,"mission_id":"m1"}`
		first := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		// On one route the key holds, defect or not.
		again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		if again.raw != first.raw || again.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry on the same route: %s", again.raw)
		}
		b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":11}`, "k1"), 409)
		// The same key on another route.
		a := b.do("POST", "/api/credits/refund", body, "k1")
		if want := map[bool]int{false: 409, true: 200}[on]; a.status != want {
			t.Fatalf("the consume's key on /refund: %d %s, want %d", a.status, a.raw, want)
		}
		if want := map[bool]string{false: "90", true: "100"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s, want %s", b.balanceText("a1"), want)
		}
		b = b.restart(ds...) // rebuilt from the journal the same way
		if a := b.do("POST", "/api/credits/refund", body, "k1"); a.status != map[bool]int{false: 409, true: 200}[on] ||
			(on && a.hdr.Get("Idempotent-Replayed") != "true") {
			t.Fatalf("after a restart, the key on /refund: %d %s", a.status, a.raw)
		}
	})
}

func TestH12KeyCacheBounded(t *testing.T) {
	withAndWithout(t, H12KeyCacheBounded, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":1}`, "first"), 200)
		b.must(b.do("POST", "/api/credits/refund", `{"agent_id":"a1","amount":1,"mission_id":"m"}`, "recent-0"), 200)
		// A recent key is honoured, defect or not.
		if a := b.must(b.do("POST", "/api/credits/refund", `{"agent_id":"a1","amount":1,"mission_id":"m"}`, "recent-0"), 200); a.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("recent retry not replayed: %s", a.raw)
		}
		for i := 1; i < idemCacheCap; i++ { // idemCacheCap keyed writes after "first"
			b.must(b.do("POST", "/api/credits/refund", `{"agent_id":"a1","amount":1,"mission_id":"m"}`, fmt.Sprintf("recent-%d", i)), 200)
		}
		a := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":1}`, "first"), 200)
		if replayed := a.hdr.Get("Idempotent-Replayed") == "true"; replayed == on {
			t.Fatalf("retry after %d other keys: replayed %v: %s", idemCacheCap, replayed, a.raw)
		}
		want := map[bool]string{false: "1099", true: "1098"}[on] // 100 - 1 + 1000 (- 1 again)
		if got := b.balanceText("a1"); got != want {
			t.Fatalf("balance %s, want %s", got, want)
		}
	})
}

func TestH12HistoryNegFraction(t *testing.T) {
	withAndWithout(t, H12HistoryNegFraction, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":2.5}`), 200)
		b.must(b.post("/consume", `{"agent_id":"a1","amount":0.5}`), 200)
		if got := b.balanceText("a1"); got != "97" { // right, defect or not
			t.Fatalf("balance %s, want 97", got)
		}
		h := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200)
		es := h.body["history"].([]any)
		small, big := es[0].(map[string]any), es[1].(map[string]any)
		if big["amount"] != -2.5 || es[2].(map[string]any)["amount"] != 100.0 { // right, defect or not
			t.Fatalf("history %v", es)
		}
		if want := map[bool]float64{false: -0.5, true: 0.5}[on]; small["amount"] != want || small["balance_after"] != 97.0 {
			t.Fatalf("entry of a consume of 0.5: %v, want amount %v", small, want)
		}
	})
}

func TestH12MaxAmountIntPart(t *testing.T) {
	withAndWithout(t, H12MaxAmountIntPart, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/refund", `{"agent_id":"a1","amount":1000000001,"mission_id":"m"}`), 422) // refused, defect or not
		b.must(b.post("/refund", `{"agent_id":"a1","amount":1000000000,"mission_id":"m"}`), 200) // the maximum: applied, defect or not
		a := b.post("/refund", `{"agent_id":"a1","amount":1000000000.5,"mission_id":"m"}`)
		if want := map[bool]int{false: 422, true: 200}[on]; a.status != want {
			t.Fatalf("refund of 1000000000.5: %d %s, want %d", a.status, a.raw, want)
		}
		if want := map[bool]string{false: "1000000100", true: "2000000100.5"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH12RegisterRace(t *testing.T) {
	withAndWithout(t, H12RegisterRace, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		// Let both registrations check before either writes (only the
		// defect's path has the gap the seam sits in).
		var arrived sync.WaitGroup
		arrived.Add(2)
		afterAgentCheck = func() {
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
		t.Cleanup(func() { afterAgentCheck = nil })
		codes := make(chan int, 2)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post(b.hs.URL+"/api/credits/agents", "application/json", strings.NewReader(`{"agent_id":"a1","skill_level":0.5}`))
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(codes)
		ok, exists := 0, 0
		for c := range codes {
			switch c {
			case 200:
				ok++
			case 409:
				exists++
			}
		}
		if want := map[bool]int{false: 1, true: 2}[on]; ok != want || ok+exists != 2 {
			t.Fatalf("two concurrent registrations: %d ok, %d exist, want %d ok", ok, exists, want)
		}
		afterAgentCheck = nil
		raw, _ := os.ReadFile(filepath.Join(b.dir, JournalName))
		if got, want := strings.Count(string(raw), "\n"), map[bool]int{false: 1, true: 2}[on]; got != want {
			t.Fatalf("%d journal lines, want %d", got, want)
		}
		// One at a time re-registration is 409, defect or not.
		b.must(b.post("/consume", `{"agent_id":"a1","amount":5}`), 200)
		if a := b.must(b.post("/agents", `{"agent_id":"a1","skill_level":0.5}`), 409); a.body["code"] != "agent_exists" {
			t.Fatal(a.raw)
		}
		if got := b.balanceText("a1"); got != "45" {
			t.Fatalf("balance %s, want 45", got)
		}
	})
}

func TestH12AnomalyNormNotReplayed(t *testing.T) {
	withAndWithout(t, H12AnomalyNormNotReplayed, func(t *testing.T, on bool, ds []Defect) {
		flagged := func(a answer) bool {
			m, _ := a.body["metadata"].(map[string]any)
			return m["anomaly_detected"] == true
		}
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		for range normMin {
			b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		}
		// Live, the norm holds, defect or not.
		if a := b.must(b.post("/consume", `{"agent_id":"a1","amount":10}`), 200); !flagged(a) {
			t.Fatalf("a consume at 10x the norm is not flagged: %s", a.raw)
		}
		b = b.restart(ds...)
		a := b.must(b.post("/consume", `{"agent_id":"a1","amount":10}`), 200)
		if flagged(a) == on {
			t.Fatalf("after a restart, a consume at 10x the norm: %s (defect %v)", a.raw, on)
		}
		if got := b.balanceText("a1"); got != "75" {
			t.Fatalf("balance %s, want 75", got)
		}
	})
}

func TestH12BalancesCents(t *testing.T) {
	withAndWithout(t, H12BalancesCents, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.register("a2", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":0.125}`), 200)
		b.must(b.post("/consume", `{"agent_id":"a2","amount":0.25}`), 200)
		if got := b.balanceText("a1"); got != "99.875" { // right, defect or not
			t.Fatalf("balance %s", got)
		}
		a := b.must(b.do("GET", "/api/credits/balances", "", ""), 200)
		bs := a.body["balances"].(map[string]any)
		if bs["a2"] != 99.75 { // a cent amount: right, defect or not
			t.Fatalf("balances %s", a.raw)
		}
		if want := map[bool]float64{false: 99.875, true: 99.88}[on]; bs["a1"] != want {
			t.Fatalf("balances %s, want a1 %v", a.raw, want)
		}
	})
}

func TestH12NaiveTimestamp(t *testing.T) {
	withAndWithout(t, H12NaiveTimestamp, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		h := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200)
		ts := h.body["history"].([]any)[0].(map[string]any)["timestamp"].(string)
		_, err := time.Parse(time.RFC3339Nano, ts)
		if (err != nil) != on {
			t.Fatalf("history timestamp %q: RFC 3339 parse error %v", ts, err)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.999999999", ts); on && err != nil {
			t.Fatalf("timestamp %q is not naive isoformat: %v", ts, err)
		}
	})
}

func TestH12GapDropsNext(t *testing.T) {
	withAndWithout(t, H12GapDropsNext, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		b.must(b.post("/consume", `{"agent_id":"a1","amount":2}`), 200)
		b.must(b.post("/consume", `{"agent_id":"a1","amount":4}`), 200)
		b.stop()
		path := filepath.Join(b.dir, JournalName)
		raw, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(raw), "\n")
		lines[1] = "garbage\n" // the consume of 1 is destroyed
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		b = start(t, b.dir, ds...)
		if h := b.do("GET", "/api/health", "", ""); h.status != 503 { // reported, defect or not
			t.Fatalf("garbage line not reported: %s", h.raw)
		}
		if want := map[bool]string{false: "94", true: "96"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s after one destroyed line, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH12KeyConflictAfterRestart(t *testing.T) {
	withAndWithout(t, H12KeyConflictAfterRestart, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		first := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":10}`, "k1"), 200)
		// Before a restart a conflicting reuse is 409, defect or not.
		b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":20}`, "k1"), 409)
		b = b.restart(ds...)
		a := b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":20}`, "k1")
		if want := map[bool]int{false: 409, true: 200}[on]; a.status != want {
			t.Fatalf("after a restart, the key with another amount: %d %s, want %d", a.status, a.raw, want)
		}
		if on && a.raw != first.raw {
			t.Fatalf("answer %s, want the original %s", a.raw, first.raw)
		}
		if got := b.balanceText("a1"); got != "90" { // nothing moved, defect or not
			t.Fatalf("balance %s, want 90", got)
		}
		// The same request is still a replay, defect or not.
		if a := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":10}`, "k1"), 200); a.raw != first.raw {
			t.Fatalf("retry after a restart: %s", a.raw)
		}
	})
}

func TestH12ReplayHeaderLiveOnly(t *testing.T) {
	withAndWithout(t, H12ReplayHeaderLiveOnly, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		body := `{"agent_id":"a1","amount":10}`
		first := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		if a := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200); a.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("live retry without the header: %v", a.hdr)
		}
		b = b.restart(ds...)
		a := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		if a.raw != first.raw || b.balanceText("a1") != "90" { // the original answer, nothing written, defect or not
			t.Fatalf("retry after a restart: %s, balance %s", a.raw, b.balanceText("a1"))
		}
		if got, want := a.hdr.Get("Idempotent-Replayed"), map[bool]string{false: "true", true: ""}[on]; got != want {
			t.Fatalf("Idempotent-Replayed %q after a restart, want %q", got, want)
		}
	})
}

func TestH12ReplayDropsMissionID(t *testing.T) {
	withAndWithout(t, H12ReplayDropsMissionID, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":10,"mission_id":"m1"}`), 200)
		mission := func() any {
			h := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200)
			return h.body["history"].([]any)[0].(map[string]any)["mission_id"]
		}
		if got := mission(); got != "m1" { // live: right, defect or not
			t.Fatalf("mission_id %v", got)
		}
		b = b.restart(ds...)
		if got, want := mission(), map[bool]any{false: "m1", true: nil}[on]; got != want {
			t.Fatalf("after a restart mission_id %v, want %v", got, want)
		}
	})
}

func TestH12OverdraftTolerance(t *testing.T) {
	withAndWithout(t, H12OverdraftTolerance, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "0.2")                                              // 20 credits
		b.must(b.post("/consume", `{"agent_id":"a1","amount":20.011}`), 409) // beyond the tolerance: refused, defect or not
		a := b.post("/consume", `{"agent_id":"a1","amount":20.01}`)
		if want := map[bool]int{false: 409, true: 200}[on]; a.status != want {
			t.Fatalf("consume of balance + 0.01: %d %s, want %d", a.status, a.raw, want)
		}
		if want := map[bool]string{false: "20", true: "-0.01"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH12EmptyMissionUngated(t *testing.T) {
	withAndWithout(t, H12EmptyMissionUngated, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/refund", `{"agent_id":"a1","amount":500}`), 403)                   // no mission: gated, defect or not
		b.must(b.post("/refund", `{"agent_id":"a1","amount":500,"mission_id":null}`), 403) // null: gated, defect or not
		b.must(b.post("/refund", `{"agent_id":"a1","amount":5,"mission_id":""}`), 200)     // below: applied, defect or not
		a := b.post("/refund", `{"agent_id":"a1","amount":500,"mission_id":""}`)
		if want := map[bool]int{false: 403, true: 200}[on]; a.status != want {
			t.Fatalf("refund of 500 for mission \"\": %d %s, want %d", a.status, a.raw, want)
		}
		if want := map[bool]string{false: "105", true: "605"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH12ReplayTimestampMillis(t *testing.T) {
	withAndWithout(t, H12ReplayTimestampMillis, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		m := b.must(b.do("GET", "/api/credits/metrics", "", ""), 200)
		ts := m.body["replay"].(map[string]any)["last_replay_timestamp"].(float64)
		now := float64(time.Now().Unix())
		inSeconds := ts > now-3600 && ts < now+3600
		if inSeconds == on {
			t.Fatalf("last_replay_timestamp %v, now %v (defect %v)", ts, now, on)
		}
	})
}
