package original

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// backend is one Server on a data dir, behind httptest.
type backend struct {
	t   *testing.T
	dir string
	s   *Server
	hs  *httptest.Server
}

func start(t *testing.T, dir string, defects ...Defect) *backend {
	t.Helper()
	d := Defects{}
	for _, x := range defects {
		d[x] = true
	}
	s, err := Open(Config{DataDir: dir, Defects: d, NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{t: t, dir: dir, s: s, hs: httptest.NewServer(s)}
	t.Cleanup(b.stop)
	return b
}

func (b *backend) stop() {
	b.hs.Close()
	_ = b.s.Close()
}

// restart closes the server and opens a new one on the same data dir.
func (b *backend) restart(defects ...Defect) *backend {
	b.stop()
	return start(b.t, b.dir, defects...)
}

type answer struct {
	status int
	raw    string
	hdr    http.Header
	body   map[string]any
}

func (b *backend) do(method, path, body, key string) answer {
	b.t.Helper()
	req, err := http.NewRequest(method, b.hs.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, raw: string(raw), hdr: resp.Header}
	_ = json.Unmarshal([]byte(a.raw), &a.body)
	return a
}

func (b *backend) post(path, body string) answer { return b.do("POST", "/api/credits"+path, body, "") }

func (b *backend) must(a answer, status int) answer {
	b.t.Helper()
	if a.status != status {
		b.t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

// balanceText is the balance exactly as the JSON carries it.
func (b *backend) balanceText(id string) string {
	b.t.Helper()
	a := b.must(b.do("GET", "/api/credits/balance/"+id, "", ""), 200)
	var v struct{ Balance json.RawMessage }
	if err := json.Unmarshal([]byte(a.raw), &v); err != nil {
		// non-finite balances are Python tokens, not JSON
		i := strings.Index(a.raw, `"balance":`)
		return strings.TrimSuffix(a.raw[i+len(`"balance":`):], "}")
	}
	return string(v.Balance)
}

func (b *backend) register(id string, skill string) {
	b.t.Helper()
	b.must(b.post("/agents", `{"agent_id":"`+id+`","skill_level":`+skill+`}`), 200)
}

func TestCorrectMoneyIsExactDecimal(t *testing.T) {
	b := start(t, t.TempDir())
	a := b.must(b.post("/agents", `{"agent_id":"a1","skill_level":0.5,"actor_id":"ops"}`), 200)
	if !strings.Contains(a.raw, `"initial_credits":50`) || !strings.Contains(a.raw, `"balance":50`) || !strings.Contains(a.raw, `"skill_level":0.5`) {
		t.Fatalf("POST /agents answer lacks the original's fields: %s", a.raw)
	}
	b.must(b.post("/add", `{"agent_id":"a1","amount":0.1,"reason":"r"}`), 200)
	a = b.must(b.post("/add", `{"agent_id":"a1","amount":0.2,"reason":"r"}`), 200)
	if got := a.body["balance_after"]; got != 50.3 {
		t.Fatalf("balance_after = %v, want exactly 50.3", got)
	}
	a = b.must(b.post("/consume", `{"agent_id":"a1","amount":13.1,"reason":"work"}`), 200)
	if !strings.Contains(a.raw, `"balance_after":37.2,`) || !strings.Contains(a.raw, `"mission_id":null`) {
		t.Fatalf("consume answer: %s", a.raw)
	}
	if got := b.balanceText("a1"); got != "37.2" {
		t.Fatalf("balance %s, want 37.2", got)
	}
	h := b.must(b.do("GET", "/api/credits/history/a1?limit=2", "", ""), 200)
	hist := h.body["history"].([]any)
	if len(hist) != 2 || hist[0].(map[string]any)["amount"] != -13.1 || h.body["total_entries"] != 4.0 {
		t.Fatalf("history (newest first, consume negative, total 4): %s", h.raw)
	}
	bs := b.must(b.do("GET", "/api/credits/balances", "", ""), 200)
	if bs.body["total_agents"] != 1.0 || !strings.Contains(bs.raw, `"a1":37.2`) {
		t.Fatalf("balances: %s", bs.raw)
	}
}

func TestFloatMoneyShowsNoise(t *testing.T) {
	b := start(t, t.TempDir(), FloatMoney)
	b.register("a1", "0.5")
	b.must(b.post("/add", `{"agent_id":"a1","amount":0.1}`), 200)
	b.must(b.post("/add", `{"agent_id":"a1","amount":0.2}`), 200)
	if got := b.balanceText("a1"); got != "50.300000000000004" {
		t.Fatalf("float-money balance %s: want the float noise 50.300000000000004", got)
	}
	// The noise survives a restart: the journal keeps the float's text.
	before := b.balanceText("a1")
	if got := b.restart(FloatMoney).balanceText("a1"); got != before {
		t.Fatalf("after restart %s, before %s", got, before)
	}
}

func TestAmountValidation(t *testing.T) {
	bad := []string{`0`, `-5`, `1e309`, `-1e309`, `1.0001`, `1e10`, `1000000000.001`, `"5"`, `"NaN"`, `null`, `true`, `1e-400`,
		`NaN`, `Infinity`, `-Infinity`}
	b := start(t, t.TempDir())
	b.register("a1", "1")
	for _, amt := range bad {
		a := b.post("/refund", `{"agent_id":"a1","amount":`+amt+`}`)
		if a.status != 422 || !strings.Contains(a.body["detail"].(string), "amount") {
			t.Errorf("amount %s: %d %s, want 422 naming amount", amt, a.status, a.raw)
		}
	}
	for _, amt := range []string{`0.001`, `1e3`, `1000000000`} { // a refund naming a mission is not gated
		b.must(b.post("/refund", `{"agent_id":"a1","mission_id":"m1","amount":`+amt+`}`), 200)
	}
	if got := b.balanceText("a1"); got != "1000001100.001" {
		t.Fatalf("balance %s", got)
	}
	b.must(b.post("/refund", `{"agent_id":"a1","amount":`), 400) // malformed JSON
	b.must(b.post("/agents", `{"agent_id":"x","skill_level":1.5}`), 422)
}

func TestAcceptNonFiniteLetsInfAndNegativeIn(t *testing.T) {
	b := start(t, t.TempDir(), AcceptNonFinite)
	b.register("a1", "0.1")
	b.must(b.post("/refund", `{"agent_id":"a1","amount":-5}`), 200)
	if got := b.balanceText("a1"); got != "5" {
		t.Fatalf("balance after a refund of -5: %s, want 5", got)
	}
	b.must(b.post("/refund", `{"agent_id":"a1","mission_id":"m1","amount":1e309}`), 200) // a mission refund is not gated
	if got := b.balanceText("a1"); got != "Infinity" {
		t.Fatalf("balance after 1e309: %s, want Infinity", got)
	}
	b.must(b.post("/refund", `{"agent_id":"a1","amount":-Infinity,"reason":"NaN Infinity"}`), 200)
	b.must(b.post("/consume", `{"agent_id":"a1","amount":NaN}`), 200)
	if got := b.balanceText("a1"); got != "NaN" {
		t.Fatalf("balance: %s, want NaN", got)
	}
	h := b.must(b.do("GET", "/api/credits/history/a1?limit=2", "", ""), 200)
	if !strings.Contains(h.raw, `"reason":"NaN Infinity"`) {
		t.Fatalf("a string holding NaN was rewritten: %s", h.raw)
	}
}

func TestIdempotencyKey(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	body := `{"agent_id":"a1","amount":10,"reason":"r"}`
	first := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
	again := b.must(b.do("POST", "/api/credits/consume", "{ \"agent_id\": \"a1\", \"amount\": 10, \"reason\": \"r\" }", "k1"), 200)
	if again.hdr.Get("Idempotent-Replayed") != "true" || again.raw != first.raw {
		t.Fatalf("retry: header %q body %s, want the original %s", again.hdr.Get("Idempotent-Replayed"), again.raw, first.raw)
	}
	// The same members in another order are the same request (RFC 8259:
	// an object is unordered).
	again = b.must(b.do("POST", "/api/credits/consume", `{"reason":"r","amount":10,"agent_id":"a1"}`, "k1"), 200)
	if again.hdr.Get("Idempotent-Replayed") != "true" || again.raw != first.raw {
		t.Fatalf("retry with its members reordered: header %q body %s, want the original %s", again.hdr.Get("Idempotent-Replayed"), again.raw, first.raw)
	}
	if got := b.balanceText("a1"); got != "90" {
		t.Fatalf("a keyed retry moved money again: balance %s", got)
	}
	c := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":11}`, "k1"), 409)
	if c.body["code"] != "idempotency_key_conflict" {
		t.Fatalf("conflict: %s", c.raw)
	}
	// Keys survive a restart.
	b = b.restart()
	again = b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
	if again.hdr.Get("Idempotent-Replayed") != "true" || again.raw != first.raw {
		t.Fatalf("retry after restart: %s", again.raw)
	}
	if got := b.balanceText("a1"); got != "90" {
		t.Fatalf("balance %s after a retry across a restart", got)
	}
}

// SPEC §3: the key may come as the body's idempotency_key instead of the
// header, with the same effect; header and member naming two keys is 422.
func TestIdempotencyKeyInTheBody(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	body := `{"agent_id":"a1","amount":10,"reason":"r","idempotency_key":"bk1"}`
	first := b.must(b.do("POST", "/api/credits/consume", body, ""), 200)
	again := b.must(b.do("POST", "/api/credits/consume", body, ""), 200)
	if again.hdr.Get("Idempotent-Replayed") != "true" || again.raw != first.raw {
		t.Fatalf("retry keyed in the body: header %q body %s, want the original %s", again.hdr.Get("Idempotent-Replayed"), again.raw, first.raw)
	}
	c := b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":11,"idempotency_key":"bk1"}`, ""), 409)
	if c.body["code"] != "idempotency_key_conflict" {
		t.Fatalf("conflict keyed in the body: %s", c.raw)
	}
	b.must(b.do("POST", "/api/credits/consume", `{"agent_id":"a1","amount":1,"idempotency_key":"bk2"}`, "another"), 422)
	if got := b.balanceText("a1"); got != "90" {
		t.Fatalf("balance %s, want 90 (one consume of 10)", got)
	}
}

func TestIgnoreIdempotencyExecutesRetries(t *testing.T) {
	b := start(t, t.TempDir(), IgnoreIdempotency)
	b.register("a1", "1")
	body := `{"agent_id":"a1","amount":10}`
	b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
	again := b.must(b.do("POST", "/api/credits/consume", body, "k1"), 200)
	if again.hdr.Get("Idempotent-Replayed") != "" {
		t.Fatal("ignore-idempotency replayed")
	}
	if got := b.balanceText("a1"); got != "80" {
		t.Fatalf("balance %s, want 80 (the retry executed again)", got)
	}
}

func TestUnknownAgentsRoutesAndMethods(t *testing.T) {
	b := start(t, t.TempDir())
	for _, p := range []string{"/consume", "/refund", "/add"} {
		if a := b.post(p, `{"agent_id":"ghost","amount":1}`); a.status != 404 {
			t.Errorf("POST %s for an unknown agent: %d %s", p, a.status, a.raw)
		}
	}
	for _, p := range []string{"/api/credits/balance/ghost", "/api/credits/history/ghost"} {
		if a := b.do("GET", p, "", ""); a.status != 404 {
			t.Errorf("GET %s: %d", p, a.status)
		}
	}
	if a := b.do("GET", "/api/credits/approvals", "", ""); a.status != 404 || a.raw != `{"detail":"Not Found"}` {
		t.Errorf("unknown route: %d %s", a.status, a.raw)
	}
	if a := b.do("GET", "/api/credits/consume", "", ""); a.status != 405 || a.raw != `{"detail":"Method Not Allowed"}` {
		t.Errorf("wrong method: %d %s", a.status, a.raw)
	}
	if a := b.do("GET", "/openapi.json", "", ""); a.status != 404 {
		t.Errorf("openapi.json served while switched off: %d", a.status)
	}
	for _, p := range []string{"/api/health", "/api/credits/health"} {
		if a := b.do("GET", p, "", ""); a.status != 200 || a.body["status"] != "ok" || a.body["timestamp"] == nil {
			t.Errorf("GET %s: %d %s", p, a.status, a.raw)
		}
	}
	info := b.must(b.do("GET", "/api/credits/info", "", ""), 200)
	if cfg, _ := info.body["config"].(map[string]any); cfg["event_sourcing_enabled"] != true {
		t.Errorf("info: %s", info.raw)
	}
	m := b.must(b.do("GET", "/api/credits/metrics", "", ""), 200)
	for _, sec := range []string{"journal", "event_bus", "replay"} {
		if _, ok := m.body[sec].(map[string]any); !ok {
			t.Errorf("metrics lacks %s: %s", sec, m.raw)
		}
	}
}

func TestOpenAPISwitch(t *testing.T) {
	s, err := Open(Config{DataDir: t.TempDir(), OpenAPI: true, NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"/api/credits/balance/{agent_id}"`) {
		t.Fatalf("openapi: %d %s", rec.Code, rec.Body.String())
	}
}

func TestReregistration(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	b.must(b.post("/consume", `{"agent_id":"a1","amount":40}`), 200)
	if a := b.must(b.post("/agents", `{"agent_id":"a1","skill_level":1}`), 409); a.body["code"] != "agent_exists" {
		t.Fatal(a.raw)
	}
	if got := b.balanceText("a1"); got != "60" {
		t.Fatalf("balance %s", got)
	}

	r := start(t, t.TempDir(), ReregisterResets)
	r.register("a1", "1")
	r.must(r.post("/consume", `{"agent_id":"a1","amount":40}`), 200)
	r.register("a1", "1")
	if got := r.balanceText("a1"); got != "100" {
		t.Fatalf("reregister-resets: balance %s, want 100 (reset)", got)
	}
	if got := r.restart(ReregisterResets).balanceText("a1"); got != "100" {
		t.Fatalf("reset not replayed: %s", got)
	}
}

func TestInsufficientCreditsAndApprovalThreshold(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "0.1")
	a := b.must(b.post("/consume", `{"agent_id":"a1","amount":10.001}`), 409)
	if a.body["code"] != "insufficient_credits" || a.body["balance"] != 10.0 {
		t.Fatalf("overdraft: %s", a.raw)
	}
	b.must(b.post("/add", `{"agent_id":"a1","amount":499.999}`), 200)
	if a := b.must(b.post("/add", `{"agent_id":"a1","amount":500}`), 403); a.body["code"] != "approval_required" {
		t.Fatal(a.raw)
	}
	if a := b.must(b.post("/refund", `{"agent_id":"a1","amount":500}`), 403); a.body["code"] != "approval_required" {
		t.Fatalf("an unreferenced refund at the threshold: %s", a.raw)
	}
	if got := b.balanceText("a1"); got != "509.999" {
		t.Fatalf("balance %s", got)
	}

	m := start(t, t.TempDir(), MintWithoutApproval)
	m.register("a1", "0")
	m.must(m.post("/add", `{"agent_id":"a1","amount":1000000}`), 200)
	if got := m.balanceText("a1"); got != "1000000" {
		t.Fatalf("mint-without-approval: %s", got)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "0.42")
	b.must(b.post("/consume", `{"agent_id":"a1","amount":2.5,"mission_id":"m1"}`), 200)
	hist := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200).raw
	b = b.restart()
	if got := b.balanceText("a1"); got != "39.5" {
		t.Fatalf("balance after restart %s", got)
	}
	if got := b.must(b.do("GET", "/api/credits/history/a1", "", ""), 200).raw; got != hist {
		t.Fatalf("history changed across a restart:\n%s\n%s", hist, got)
	}
	if a := b.do("GET", "/api/health", "", ""); a.status != 200 {
		t.Fatalf("clean restart not healthy: %s", a.raw)
	}
}

// tear appends half a line to the journal, as a crash mid-write leaves it.
func tear(t *testing.T, dir string) {
	f, err := os.OpenFile(filepath.Join(dir, JournalName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(`{"seq":99,"event_id":"x","payl`); err != nil {
		t.Fatal(err)
	}
}

func TestTornTailIsReportedAndCut(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	b.stop()
	tear(t, b.dir)
	b = start(t, b.dir)
	h := b.do("GET", "/api/health", "", "")
	if h.status != 503 || h.body["status"] != "degraded" || !strings.Contains(h.body["detail"].(string), "torn") {
		t.Fatalf("health after a torn tail: %d %s", h.status, h.raw)
	}
	if got := b.balanceText("a1"); got != "100" {
		t.Fatalf("reads broken by damage: %s", got)
	}
	b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
	b = b.restart()
	if got := b.balanceText("a1"); got != "99" {
		t.Fatalf("the write after a torn tail was lost: balance %s, want 99", got)
	}
	if h := b.do("GET", "/api/health", "", ""); h.status != 200 {
		t.Fatalf("the cut tail is reported again: %s", h.raw)
	}
	side, _ := filepath.Glob(filepath.Join(b.dir, JournalName+".torn-*"))
	if len(side) != 1 {
		t.Fatalf("torn tail not kept in a sidecar: %v", side)
	}
}

func TestDropTornSilentlyLosesTheNextWrite(t *testing.T) {
	b := start(t, t.TempDir(), DropTornSilently)
	b.register("a1", "1")
	b.stop()
	tear(t, b.dir)
	b = start(t, b.dir, DropTornSilently)
	if h := b.do("GET", "/api/health", "", ""); h.status != 200 || h.body["status"] != "ok" {
		t.Fatalf("drop-torn-silently reported the damage: %s", h.raw)
	}
	b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
	b = b.restart(DropTornSilently)
	if got := b.balanceText("a1"); got != "100" {
		t.Fatalf("balance %s: the acknowledged consume glued onto the torn line should be lost", got)
	}
}

func TestGarbageLineIsReported(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	b.register("a2", "1")
	b.stop()
	path := filepath.Join(b.dir, JournalName)
	raw, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(raw), "\n")
	if err := os.WriteFile(path, []byte(lines[0]+"garbage\n"+lines[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	b = start(t, b.dir)
	h := b.do("GET", "/api/credits/health", "", "")
	if h.status != 503 || !strings.Contains(h.body["detail"].(string), "line 2") {
		t.Fatalf("garbage line: %d %s", h.status, h.raw)
	}
	m := b.must(b.do("GET", "/api/credits/metrics", "", ""), 200)
	if m.body["replay"].(map[string]any)["integrity_errors_count"] != 1.0 {
		t.Fatalf("metrics: %s", m.raw)
	}
	b.balanceText("a2")
}

func TestJournalFailureIsStickyAndHealthSaysSo(t *testing.T) {
	for _, lying := range []bool{false, true} {
		var b *backend
		if lying {
			b = start(t, t.TempDir(), HealthAlwaysOK)
		} else {
			b = start(t, t.TempDir())
		}
		b.register("a1", "1")
		b.s.j.f.Close() // the next write fails, as on a dead disk
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 503)
		b.must(b.post("/refund", `{"agent_id":"a1","amount":1}`), 503)
		if got := b.balanceText("a1"); got != "100" {
			t.Fatalf("a failed write changed the balance: %s", got)
		}
		h := b.do("GET", "/api/health", "", "")
		if lying && h.status != 200 {
			t.Fatalf("health-always-ok: %s", h.raw)
		}
		if !lying && (h.status != 503 || h.body["status"] != "failed") {
			t.Fatalf("health with a failed journal: %d %s", h.status, h.raw)
		}
	}
}

func TestApplyThen5xx(t *testing.T) {
	b := start(t, t.TempDir(), ApplyThen5xx)
	b.register("a1", "1") // write 1
	for i := 2; i <= 6; i++ {
		b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 200)
	}
	b.must(b.post("/consume", `{"agent_id":"a1","amount":1}`), 500) // write 7
	if got := b.balanceText("a1"); got != "94" {
		t.Fatalf("balance %s, want 94: the write answered 500 was applied", got)
	}
}

func TestParseDefects(t *testing.T) {
	d, err := ParseDefects(" float-money, health-always-ok ")
	if err != nil || !d[FloatMoney] || !d[HealthAlwaysOK] || len(d) != 2 {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := ParseDefects("float-mony"); err == nil || !strings.Contains(err.Error(), "float-money") {
		t.Fatalf("a typo must be refused naming the valid defects: %v", err)
	}
	if d, err := ParseDefects("none"); err != nil || len(d) != 0 {
		t.Fatal(d, err)
	}
}

func TestConcurrentConsumesNeverOverdraw(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "0.2") // 20 credits
	const racers = 50
	codes := make(chan int, racers)
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(b.hs.URL+"/api/credits/consume", "application/json", strings.NewReader(`{"agent_id":"a1","amount":1}`))
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
	ok := 0
	for c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 20 || b.balanceText("a1") != "0" {
		t.Fatalf("%d consumes of 1 succeeded on 20 credits, balance %s", ok, b.balanceText("a1"))
	}
	m := b.must(b.do("GET", "/api/credits/metrics", "", ""), 200)
	if got := m.body["event_bus"].(map[string]any)["published_by_type"].(map[string]any)["credit.consumed"]; got != 20.0 {
		t.Fatalf("metrics count %v consumes", got)
	}
}

func TestBitFlipIsDetectedNotReplayedAsOtherMoney(t *testing.T) {
	b := start(t, t.TempDir())
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
	b = start(t, b.dir)
	h := b.do("GET", "/api/health", "", "")
	if h.status != 503 || !strings.Contains(h.body["detail"].(string), "line 2: checksum mismatch") {
		t.Fatalf("bit flip: %d %s", h.status, h.raw)
	}
	if got := b.balanceText("a1"); got != "100" {
		t.Fatalf("balance %s: the damaged line must be skipped, not replayed as a consume of 9", got)
	}
}

// A correct backend keeps request hygiene before any rule: each case is
// refused with its status and changes nothing.
func TestRequestHygieneRefusesBeforeAnyRule(t *testing.T) {
	b := start(t, t.TempDir())
	b.register("a1", "1")
	for _, c := range []struct {
		body, ct, key string
		want          int
	}{
		{`{"agent_id":"a1","amount":1}`, "text/plain", "", 415},
		{`{"agent_id":"a1","amount":1}`, "application/x-www-form-urlencoded", "", 415},
		{"{\"agent_id\":\"a\xff1\",\"amount\":1}", "application/json", "", 400},
		{`{"agent_id":"a1","amount":1}`, "application/json", "k\xffey", 400},
		{`{"agent_id":"a1","amount":1,"amount":2}`, "application/json", "", 400},
		{`{"agent_id":"a1","amount":1`, "application/json", "", 400},
		{`[1,2]`, "application/json", "", 400},
		{`{"agent_id":"a1","amount":1,"admin":true}`, "application/json", "", 422},
		{`{"agent_id":"a1","AMOUNT":1}`, "application/json", "", 422},
	} {
		req, _ := http.NewRequest("POST", b.hs.URL+"/api/credits/add", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		if c.key != "" {
			req.Header.Set("Idempotency-Key", c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%q (%s, key %q): %d, want %d", c.body, c.ct, c.key, resp.StatusCode, c.want)
		}
	}
	if got := b.balanceText("a1"); got != "100" {
		t.Fatalf("a refused request changed the balance: %s", got)
	}
}

// The anomaly norm is a fold of the consumes: a consume at 10× it is flagged
// (and still applied), a normal one is not, also after a restart.
func TestAnomalousConsumesAreFlaggedNeverRefusedAndTheNormSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	b := start(t, dir)
	b.register("a1", "1")
	flag := func(b *backend, amount string) any {
		a := b.must(b.post("/consume", `{"agent_id":"a1","amount":`+amount+`}`), 200)
		meta, _ := a.body["metadata"].(map[string]any)
		return meta["anomaly_detected"]
	}
	b.must(b.post("/add", `{"agent_id":"a1","amount":400}`), 200)
	for range 5 {
		if f := flag(b, "5"); f != false {
			t.Fatalf("a consume of the norm: anomaly_detected %v", f)
		}
	}
	if f := flag(b, "50"); f != true {
		t.Fatalf("a consume at 10× the norm: anomaly_detected %v, want true", f)
	}
	r := b.restart()
	if f := flag(r, "60"); f != true { // the norm is still 5: the flagged 50 stays out of it
		t.Fatalf("after a restart the norm is gone: anomaly_detected %v", f)
	}
}
