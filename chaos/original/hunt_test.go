package original

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each test below runs the same steps without and with one defect of the
// hunt: without it the backend keeps the promise, with it the promise
// breaks in the way the defect's doc says, and nothing else changes.

// recordSyncs replaces the journal's fsync, for the test, with one that
// records how much of the file the last sync made durable (what a power
// loss keeps; no real fsync).
func recordSyncs(t *testing.T) *int64 {
	var synced int64
	old := syncFile
	syncFile = func(f *os.File) error {
		fi, err := f.Stat()
		if err == nil {
			synced = fi.Size()
		}
		return err
	}
	t.Cleanup(func() { syncFile = old })
	return &synced
}

// openFsynced opens the backend on dir with fsync on and the defects ds,
// stopped when the test ends.
func openFsynced(t *testing.T, dir string, ds []Defect) *backend {
	d := Defects{}
	for _, x := range ds {
		d[x] = true
	}
	s, err := Open(Config{DataDir: dir, Defects: d}) // fsync on
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{t: t, dir: dir, s: s, hs: httptest.NewServer(s)}
	t.Cleanup(b.stop)
	return b
}

// withAndWithout runs f once on a correct backend and once with d.
func withAndWithout(t *testing.T, d Defect, f func(t *testing.T, on bool, defects []Defect)) {
	t.Run("correct", func(t *testing.T) { f(t, false, nil) })
	t.Run(string(d), func(t *testing.T) { f(t, true, []Defect{d}) })
}

func TestForgetKeysOnRestart(t *testing.T) {
	withAndWithout(t, ForgetKeysOnRestart, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		body := `{"agent_id":"a1","amount":10,"reason":"r"}`
		first := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		// Before a restart the key is honoured, defect or not.
		if again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200); again.raw != first.raw || again.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry before a restart: %s", again.raw)
		}
		b = b.restart(ds...)
		again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
		replayed := again.hdr.Get("Idempotent-Replayed") == "true" && again.raw == first.raw
		bal := b.balanceText("a1")
		if !on && (!replayed || bal != "90") {
			t.Fatalf("retry after a restart: replayed %v, balance %s, want the original answer and 90", replayed, bal)
		}
		if on && (replayed || again.body["event_id"] == first.body["event_id"] || bal != "80") {
			t.Fatalf("forget-keys-on-restart: replayed %v, balance %s, want a new event and 80", replayed, bal)
		}
	})
}

func TestLazyFsync(t *testing.T) {
	withAndWithout(t, LazyFsync, func(t *testing.T, on bool, ds []Defect) {
		// Record how much of the journal each sync made durable (no real
		// fsync: the test only needs to know what a power loss keeps).
		synced := recordSyncs(t)
		dir := t.TempDir()
		open := func() *backend { return openFsynced(t, dir, ds) }
		b := open()
		b.register("a1", "1")
		for range 3 {
			b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		}
		b.stop()
		path := filepath.Join(dir, JournalName)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// kill -9 keeps the page cache: nothing is lost, defect or not.
		c := open()
		if got := c.balanceText("a1"); got != "97" {
			t.Fatalf("after a crash: balance %s, want 97", got)
		}
		c.stop()
		// A power loss keeps what was synced.
		if err := os.Truncate(path, *synced); err != nil {
			t.Fatal(err)
		}
		after := open()
		a := after.do("GET", "/api/credits/balance/a1", "", "")
		if !on && (*synced != fi.Size() || a.status != 200 || a.body["balance"] != 97.0) {
			t.Fatalf("power loss after 4 acknowledged writes: synced %d of %d bytes, balance %d %s", *synced, fi.Size(), a.status, a.raw)
		}
		if on && a.status != 404 {
			t.Fatalf("lazy-fsync: 4 acknowledged writes should be lost at a power loss (synced %d of %d bytes): %d %s", *synced, fi.Size(), a.status, a.raw)
		}
	})
}

func TestRefundReplaySign(t *testing.T) {
	withAndWithout(t, RefundReplaySign, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":10,"mission_id":"m1"}`), 200)
		if a := b.must(b.post("/refund", `{"agent_id":"a1","amount":5,"mission_id":"m1"}`), 200); a.body["balance_after"] != 95.0 {
			t.Fatalf("refund answer: %s", a.raw)
		}
		if got := b.balanceText("a1"); got != "95" { // live state is right, defect or not
			t.Fatalf("live balance %s, want 95", got)
		}
		got := b.restart(ds...).balanceText("a1")
		if !on && got != "95" {
			t.Fatalf("balance after replay %s, want 95", got)
		}
		if on && got != "85" {
			t.Fatalf("refund-replay-sign: balance after replay %s, want 85 (the refund folded as a debit)", got)
		}
	})
}

func TestOverdrawRace(t *testing.T) {
	withAndWithout(t, OverdrawRace, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "0.2") // 20 credits
		// Let both consumes check before either writes (only the defect's
		// path has the gap the seam sits in).
		var arrived sync.WaitGroup
		arrived.Add(2)
		afterBalanceCheck = func() {
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
		t.Cleanup(func() { afterBalanceCheck = nil })
		codes := make(chan int, 2)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post(b.hs.URL+"/api/credits/consume", "application/json", strings.NewReader(`{"agent_id":"a1","amount":15}`))
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
		ok, refused := 0, 0
		for c := range codes {
			switch c {
			case 200:
				ok++
			case 409:
				refused++
			}
		}
		bal := b.balanceText("a1")
		if !on && (ok != 1 || refused != 1 || bal != "5") {
			t.Fatalf("two concurrent consumes of 15 on 20: %d ok, %d refused, balance %s", ok, refused, bal)
		}
		if on && (ok != 2 || bal != "-10") {
			t.Fatalf("overdraw-race: %d ok, balance %s, want both applied and -10", ok, bal)
		}
		// One at a time the check still holds.
		afterBalanceCheck = nil
		if a := b.must(b.post("/consume", `{"agent_id":"a1","amount":100}`), 409); a.body["code"] != "insufficient_credits" {
			t.Fatal(a.raw)
		}
	})
}

func TestTruncateExtraDecimals(t *testing.T) {
	withAndWithout(t, TruncateExtraDecimals, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/add", `{"agent_id":"a1","amount":0.001}`), 200) // 3 decimals: fine either way
		a := b.post("/add", `{"agent_id":"a1","amount":1.0005}`)
		bal := b.balanceText("a1")
		if !on && (a.status != 422 || !strings.Contains(a.raw, "amount") || bal != "100.001") {
			t.Fatalf("an amount with 4 decimals: %d %s, balance %s", a.status, a.raw, bal)
		}
		if on && (a.status != 200 || a.body["amount"] != 1.0 || bal != "101.001") {
			t.Fatalf("truncate-extra-decimals: %d %s, balance %s, want 200, amount 1, 101.001", a.status, a.raw, bal)
		}
		b.must(b.post("/add", `{"agent_id":"a1","amount":0}`), 422) // other amount rules hold
	})
}

func TestSeededEventIDs(t *testing.T) {
	withAndWithout(t, SeededEventIDs, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		first := b.must(b.post("/agents", `{"agent_id":"a1","skill_level":1}`), 200)
		second := b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		if first.body["event_id"] == second.body["event_id"] {
			t.Fatal("two writes of one run share an event_id")
		}
		b = b.restart(ds...)
		third := b.must(b.post("/agents", `{"agent_id":"a2","skill_level":1}`), 200)
		b.stop()
		raw, err := os.ReadFile(filepath.Join(b.dir, JournalName))
		if err != nil {
			t.Fatal(err)
		}
		seen, dup := map[string]bool{}, 0
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var ev struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatal(err)
			}
			if seen[ev.EventID] {
				dup++
			}
			seen[ev.EventID] = true
		}
		same := third.body["event_id"] == first.body["event_id"]
		if !on && (same || dup != 0) {
			t.Fatalf("event ids repeat across a restart: %d duplicates", dup)
		}
		if on && (!same || dup != 1) {
			t.Fatalf("seeded-event-ids: the first write after a restart should reuse the first event_id (%v, %d duplicates)", same, dup)
		}
	})
}

func TestUnknownBalanceZero(t *testing.T) {
	withAndWithout(t, UnknownBalanceZero, func(t *testing.T, on bool, ds []Defect) {
		b := start(t, t.TempDir(), ds...)
		a := b.do("GET", "/api/credits/balance/ghost", "", "")
		if !on && a.status != 404 {
			t.Fatalf("balance of an unknown agent: %d %s", a.status, a.raw)
		}
		if on && (a.status != 200 || a.raw != `{"agent_id":"ghost","balance":0}`) {
			t.Fatalf("unknown-balance-zero: %d %s", a.status, a.raw)
		}
		// Everything else about unknown agents is unchanged.
		b.must(b.do("GET", "/api/credits/history/ghost", "", ""), 404)
		b.must(b.post("/consume", `{"agent_id":"ghost","amount":1}`), 404)
		if bs := b.must(b.do("GET", "/api/credits/balances", "", ""), 200); bs.body["total_agents"] != 0.0 {
			t.Fatalf("balances: %s", bs.raw)
		}
	})
}

func TestMetricsCountSinceStart(t *testing.T) {
	withAndWithout(t, MetricsCountSinceStart, func(t *testing.T, on bool, ds []Defect) {
		total := func(b *backend) any {
			m := b.must(b.do("GET", "/api/credits/metrics", "", ""), 200)
			return m.body["journal"].(map[string]any)["total_events"]
		}
		b := start(t, t.TempDir(), ds...)
		b.register("a1", "1")
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		if got := total(b); got != 2.0 {
			t.Fatalf("total_events %v before a restart, want 2", got)
		}
		b = b.restart(ds...)
		got := total(b)
		if !on && got != 2.0 {
			t.Fatalf("total_events %v after a restart, want 2", got)
		}
		if on && got != 0.0 {
			t.Fatalf("metrics-count-since-start: total_events %v after a restart, want 0", got)
		}
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
		want := 3.0
		if on {
			want = 1.0
		}
		if got := total(b); got != want {
			t.Fatalf("total_events %v, want %v", got, want)
		}
	})
}
