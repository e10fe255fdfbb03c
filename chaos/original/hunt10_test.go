package original

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tenth hunt's defects, each checked off and on (withAndWithout).

func TestH10ConsumeExactBalance(t *testing.T) {
	withAndWithout(t, H10ConsumeExactBalance, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "0.2")                                              // 20 credits
		b.must(b.post("/consume", `{"agent_id":"a1","amount":20.001}`), 409) // above: refused, defect or not
		b.must(b.post("/consume", `{"agent_id":"a1","amount":5}`), 200)      // below: applied, defect or not
		a := b.post("/consume", `{"agent_id":"a1","amount":15}`)             // exactly the balance
		if want := map[bool]int{false: 200, true: 409}[on]; a.status != want {
			t.Fatalf("consume of exactly the balance: %d %s, want %d", a.status, a.raw, want)
		}
		if want := map[bool]string{false: "0", true: "15"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH10SkillFloatTruncate(t *testing.T) {
	withAndWithout(t, H10SkillFloatTruncate, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "0.5")
		if got := b.balanceText("a1"); got != "50" { // right, defect or not
			t.Fatalf("skill 0.5: balance %s", got)
		}
		a := b.must(b.post("/agents", `{"agent_id":"a2","skill_level":0.29}`), 200)
		want := map[bool]float64{false: 29, true: 28.999}[on]
		if a.body["initial_credits"] != want || b.balanceText("a2") != map[bool]string{false: "29", true: "28.999"}[on] {
			t.Fatalf("skill 0.29: %s, want initial_credits %v", a.raw, want)
		}
	})
}

func TestH10HistoryRefundNegative(t *testing.T) {
	withAndWithout(t, H10HistoryRefundNegative, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":10,"mission_id":"m1"}`), 200)
		b.must(b.post("/refund", `{"agent_id":"a1","amount":4,"mission_id":"m1"}`), 200)
		if got := b.balanceText("a1"); got != "94" { // right, defect or not
			t.Fatalf("balance %s, want 94", got)
		}
		h := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200)
		es := h.body["history"].([]any)
		refund, consume := es[0].(map[string]any), es[1].(map[string]any)
		if consume["amount"] != -10.0 {
			t.Fatalf("consume entry: %v", consume)
		}
		if want := map[bool]float64{false: 4, true: -4}[on]; refund["amount"] != want || refund["balance_after"] != 94.0 {
			t.Fatalf("refund entry: %v, want amount %v", refund, want)
		}
	})
}

func TestH10FoldClock(t *testing.T) {
	withAndWithout(t, H10FoldClock, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		stamps := func() []string {
			h := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200)
			var out []string
			for _, e := range h.body["history"].([]any) {
				out = append(out, e.(map[string]any)["timestamp"].(string))
			}
			return out
		}
		before := stamps()
		time.Sleep(20 * time.Millisecond)
		b = b.restart(ds...)
		after := stamps()
		if len(before) != 2 || len(after) != 2 {
			t.Fatalf("history %v / %v", before, after)
		}
		if changed := before[0] != after[0] || before[1] != after[1]; changed != on {
			t.Fatalf("history timestamps before a restart %v, after %v", before, after)
		}
	})
}

func TestH10CRCWarnOnly(t *testing.T) {
	withAndWithout(t, H10CRCWarnOnly, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		b.stop()
		path := filepath.Join(b.dir, JournalName)
		raw, _ := os.ReadFile(path)
		flipped := strings.Replace(string(raw), `"amount":"1"`, `"amount":"9"`, 1)
		if flipped == string(raw) {
			t.Fatal("no consume amount in the journal to flip")
		}
		if err := os.WriteFile(path, []byte(flipped), 0o644); err != nil {
			t.Fatal(err)
		}
		b = start(t, b.dir, ds...)
		h := b.do("GET", "/api/health", "", "")
		if want := map[bool]int{false: 503, true: 200}[on]; h.status != want {
			t.Fatalf("health after a bit flip: %d %s, want %d", h.status, h.raw, want)
		}
		if want := map[bool]string{false: "100", true: "91"}[on]; b.balanceText("a1") != want {
			t.Fatalf("balance %s after a bit flip, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH10SeqFromCount(t *testing.T) {
	withAndWithout(t, H10SeqFromCount, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.register("a2", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		b.stop()
		path := filepath.Join(b.dir, JournalName)
		raw, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(raw), "\n")
		if err := os.WriteFile(path, []byte(lines[0]+"garbage\n"+lines[2]), 0o644); err != nil {
			t.Fatal(err)
		}
		b = start(t, b.dir, ds...)
		if h := b.do("GET", "/api/health", "", ""); h.status != 503 { // reported, defect or not
			t.Fatalf("garbage line not reported: %s", h.raw)
		}
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		if got := b.balanceText("a1"); got != "98" { // live: right, defect or not
			t.Fatalf("balance %s, want 98", got)
		}
		b = b.restart(ds...)
		if want := map[bool]string{false: "98", true: "99"}[on]; b.balanceText("a1") != want {
			t.Fatalf("after a restart: balance %s, want %s", b.balanceText("a1"), want)
		}
	})
}

func TestH10KeyCheckRace(t *testing.T) {
	withAndWithout(t, H10KeyCheckRace, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		// Let both requests look the key up before either writes (only the
		// defect's path has the gap the seam sits in).
		var arrived sync.WaitGroup
		arrived.Add(2)
		afterKeyCheck = func() {
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
		t.Cleanup(func() { afterKeyCheck = nil })
		codes := make(chan int, 2)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", b.hs.URL+"/api/credits/consume", strings.NewReader(`{"agent_id":"a1","amount":10}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "k1")
				resp, err := http.DefaultClient.Do(req)
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
		for c := range codes {
			if c != 200 {
				t.Fatalf("a keyed consume answered %d", c)
			}
		}
		if want := map[bool]string{false: "90", true: "80"}[on]; b.balanceText("a1") != want {
			t.Fatalf("two concurrent consumes with one key: balance %s, want %s", b.balanceText("a1"), want)
		}
		// One at a time the key still holds.
		afterKeyCheck = nil
		a := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":10}`, "k1"), 200)
		if a.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a later retry is not a replay: %s", a.raw)
		}
	})
}

func TestH10MalformedJSON422(t *testing.T) {
	withAndWithout(t, H10MalformedJSON422, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":"x"}`), 422) // invalid field: 422, defect or not
		a := b.post("/consume", `{"agent_id":"a1","amount":1`)
		if want := map[bool]int{false: 400, true: 422}[on]; a.status != want {
			t.Fatalf("malformed JSON: %d %s, want %d", a.status, a.raw, want)
		}
		if got := b.balanceText("a1"); got != "100" {
			t.Fatalf("balance %s, want 100", got)
		}
	})
}
