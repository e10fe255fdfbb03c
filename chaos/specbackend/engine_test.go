package specbackend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	return Config{JournalPath: filepath.Join(dir, "journal.jsonl"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ExpiryTick: time.Hour, EoCTick: time.Hour}
}

func openT(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e
}

func body(r *Response) map[string]any {
	b, _ := json.Marshal(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func mustStatus(t *testing.T, r *Response, want int) map[string]any {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %v", r.Status, want, body(r))
	}
	return body(r)
}

func TestMoneyParsingIsExactAndNamesTheProblem(t *testing.T) {
	max := int64(1_000_000_000 * MilliPerCredit)
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"12.5", 12500, false}, {"0.001", 1, false}, {"1.5000", 1500, false}, {"1e2", 100000, false}, {"1000000000", max, false},
		{"0.1", 100, false}, {"0.0001", 0, true}, {"0", 0, true}, {"-1", 0, true}, {`"5"`, 0, true}, {"true", 0, true},
		{"1000000000.001", 0, true}, {"1e400", 0, true}, {"{}", 0, true},
	} {
		got, why := parseAmountMilli(json.RawMessage(tc.in), max)
		if (why != "") != tc.bad || got != tc.want {
			t.Errorf("parseAmountMilli(%s) = %d, %q; want %d bad=%v", tc.in, got, why, tc.want, tc.bad)
		}
	}
	for m, s := range map[int64]string{12500: "12.5", 1: "0.001", 1000: "1", -3250: "-3.25", 0: "0"} {
		if got := formatMilli(m).String(); got != s {
			t.Errorf("formatMilli(%d) = %s, want %s", m, got, s)
		}
	}
	// 0.1 + 0.2 style accumulation stays exact
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 0; i < 10; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 100}), 200)
	}
	e.view(func(st *State) {
		if b := st.Agents["a"].BalanceMilli; b != 99_000 {
			t.Fatalf("balance %d, want exactly 99000", b)
		}
	})
}

func TestConsumeNeverOverdrawsUnderConcurrency(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 500_000}), 200) // 50 credits
	var wg sync.WaitGroup
	var mu sync.Mutex
	okN, insufficientN := 0, 0
	for i := 0; i < 80; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000})
			mu.Lock()
			defer mu.Unlock()
			switch r.Status {
			case 200:
				okN++
			case 409:
				insufficientN++
			default:
				t.Errorf("unexpected %d", r.Status)
			}
		}()
	}
	wg.Wait()
	if okN != 50 || insufficientN != 30 {
		t.Fatalf("ok=%d insufficient=%d, want 50/30", okN, insufficientN)
	}
	if e.j.batches.Load() >= e.j.events.Load() {
		t.Logf("no grouping observed (batches=%d events=%d)", e.j.batches.Load(), e.j.events.Load())
	}
}

func TestIdempotentRetryReturnsTheOriginalEventEvenAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := openT(t, testConfig(t, dir))
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	in := MoneyIn{AgentID: "a", AmountMilli: 2500, Reason: "r"}
	first := mustStatus(t, e.Consume(Req{Key: "k1"}, in), 200)
	again := e.Consume(Req{Key: "k1"}, in)
	if !again.Replayed || body(again)["event_id"] != first["event_id"] {
		t.Fatalf("retry not replayed: %v", body(again))
	}
	in2 := in
	in2.AmountMilli = 2600
	if b := mustStatus(t, e.Consume(Req{Key: "k1"}, in2), 409); b["code"] != "idempotency_key_conflict" {
		t.Fatalf("code %v", b["code"])
	}
	// concurrent duplicates resolve to one event
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ids[i], _ = body(e.Consume(Req{Key: "k2"}, in))["event_id"].(string)
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("concurrent duplicates produced different events: %v", ids)
		}
	}
	var bal int64
	e.view(func(st *State) { bal = st.Agents["a"].BalanceMilli })
	if bal != 100_000-5000 {
		t.Fatalf("balance %d, want 95000", bal)
	}
	e.Close()
	e2 := openT(t, testConfig(t, dir))
	defer e2.Close()
	r := e2.Consume(Req{Key: "k1"}, in)
	if !r.Replayed || body(r)["event_id"] != first["event_id"] || body(r)["balance_after"] != first["balance_after"] {
		t.Fatalf("after restart: %v (first %v)", body(r), first)
	}
}

func TestReplayRebuildsIdenticalState(t *testing.T) {
	dir := t.TempDir()
	e := openT(t, testConfig(t, dir))
	for i := 0; i < 5; i++ {
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: fmt.Sprint("a", i), SkillPPM: 900_000}), 200)
	}
	for i := 0; i < 40; i++ {
		e.Consume(Req{}, MoneyIn{AgentID: fmt.Sprint("a", i%5), AmountMilli: int64(1000 + i*37)})
	}
	e.Consume(Req{}, MoneyIn{AgentID: "a1", AmountMilli: 80_000}) // anomalous
	mustStatus(t, e.RecordCollaboration(Req{}, CollabIn{CollaborationID: "c", TeamID: "t", AgentIDs: []string{"a0", "a1"}, Contrib: map[string]int64{"a0": 1_000_000, "a1": 333_333}}), 200)
	mustStatus(t, e.Add(Req{Actor: "req"}, MoneyIn{AgentID: "a2", AmountMilli: 600_000}), 202)
	mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: "p"}), 201)
	mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: "p", AmountMilli: 5000, FromAgentID: "a3"}), 200)
	mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m", AgentID: "a4", MissionType: "deployment", Complexity: "low"}), 201)
	var before string
	e.view(func(st *State) { before = st.Digest() })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openT(t, testConfig(t, dir))
	defer e2.Close()
	var after string
	e2.view(func(st *State) { after = st.Digest() })
	if before != after {
		t.Fatalf("digest drift after replay: %s != %s", before, after)
	}
	if e2.report.Status != "clean" || e2.st.IntegrityErrors != 0 {
		t.Fatalf("report %+v integrity %d", e2.report, e2.st.IntegrityErrors)
	}
}

func TestApprovalsFourEyesAndOneDecision(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg := testConfig(t, t.TempDir())
	cfg.Clock = clk.Now
	cfg.TimeoutMedium = 10 * time.Second
	e := openT(t, cfg)
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 100_000}), 200)
	req := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 500_000}), 202)
	id := req["request_id"].(string)
	if b := mustStatus(t, e.Decide(Req{Actor: "alice"}, DecisionIn{RequestID: id, Approve: true}), 403); b["code"] != "four_eyes_violation" {
		t.Fatalf("code %v", b["code"])
	}
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = e.Decide(Req{Actor: fmt.Sprint("approver", i)}, DecisionIn{RequestID: id, Approve: i%2 == 0}).Status
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, s := range statuses {
		if s == 200 {
			wins++
		} else if s != 409 {
			t.Fatalf("status %d", s)
		}
	}
	if wins != 1 {
		t.Fatalf("%d terminal decisions, want 1 (%v)", wins, statuses)
	}
	// CRITICAL needs two distinct approvers and a justification.
	crit := mustStatus(t, e.RequestApproval(Req{Actor: "alice"}, ApprovalIn{ActionType: "add", AgentID: "a", AmountMilli: 50_000_000, Justification: "why"}), 202)
	cid := crit["request_id"].(string)
	mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: cid, Approve: true}), 200)
	if b := mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: cid, Approve: true}), 409); b["code"] != "duplicate_approver" {
		t.Fatalf("code %v", b["code"])
	}
	if b := mustStatus(t, e.Decide(Req{Actor: "carol"}, DecisionIn{RequestID: cid, Approve: true}), 200); b["status"] != "approved" {
		t.Fatalf("status %v", b["status"])
	}
	// expiry: a decision after the timeout is refused and journals approval.expired.
	exp := mustStatus(t, e.Withdraw(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 500_000}), 202)
	clk.Add(11 * time.Second)
	if b := mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: exp["request_id"].(string), Approve: true}), 409); b["code"] != "already_decided" {
		t.Fatalf("code %v", b["code"])
	}
	if b := mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: exp["request_id"].(string), Approve: true}), 409); b["code"] != "already_decided" {
		t.Fatalf("code %v", b["code"])
	}
}

func TestSynergieRewardsAreCappedPerAgentAndTeam(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	for _, id := range []string{"x", "y"} {
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id}), 200)
	}
	for i := 0; i < 30; i++ {
		mustStatus(t, e.RecordCollaboration(Req{}, CollabIn{CollaborationID: fmt.Sprint("c", i), TeamID: "alpha", AgentIDs: []string{"x", "y"},
			Contrib: map[string]int64{"x": 1_000_000, "y": 700_000}}), 200)
	}
	e.view(func(st *State) {
		for _, id := range []string{"x", "y"} {
			tot := st.Synergie[id]["alpha"]
			if tot.GrantedMilli != e.cfg.SynergieCapMilli || tot.CappedMilli == 0 {
				t.Fatalf("%s: granted %d capped %d", id, tot.GrantedMilli, tot.CappedMilli)
			}
			if st.Agents[id].BalanceMilli != e.cfg.SynergieCapMilli {
				t.Fatalf("%s balance %d", id, st.Agents[id].BalanceMilli)
			}
		}
	})
	r := e.RecordCollaboration(Req{}, CollabIn{CollaborationID: "c0", TeamID: "alpha", AgentIDs: []string{"x", "y"}, Contrib: map[string]int64{"x": 1_000_000, "y": 700_000}})
	if !r.Replayed {
		t.Fatalf("duplicate collaboration_id not idempotent: %v", body(r))
	}
}

func TestRecoveryCutsTornTailAndQuarantinesMiddleCorruption(t *testing.T) {
	build := func(t *testing.T) (string, []byte) {
		dir := t.TempDir()
		e := openT(t, testConfig(t, dir))
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for i := 0; i < 8; i++ {
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		}
		e.Close()
		b, _ := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
		return dir, b
	}
	lines := func(b []byte) [][]byte { return bytes.SplitAfter(b, []byte("\n")) }
	for _, tc := range []struct {
		name        string
		corrupt     func([]byte) []byte
		torn        bool
		quarantined int
		lastSeq     int64
	}{
		{"torn last line", func(b []byte) []byte { return append(b, []byte(`{"seq":11,"event_`)...) }, true, 0, 10},
		{"bit flip in last line", func(b []byte) []byte { b[len(b)-40] ^= 1; return b }, true, 0, 9},
		{"bit flip in the middle", func(b []byte) []byte {
			l := lines(b)
			l[4][30] ^= 1
			return bytes.Join(l, nil)
		}, false, 2, 10},
		{"garbage line in the middle", func(b []byte) []byte {
			l := lines(b)
			return bytes.Join(append(l[:3], append([][]byte{[]byte("garbage\n")}, l[3:]...)...), nil)
		}, false, 1, 10},
		{"duplicated line", func(b []byte) []byte {
			l := lines(b)
			return bytes.Join(append(l[:5], append([][]byte{l[4]}, l[5:]...)...), nil)
		}, false, 1, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, b := build(t)
			path := filepath.Join(dir, "journal.jsonl")
			os.WriteFile(path, tc.corrupt(append([]byte(nil), b...)), 0o644)
			if !tc.torn {
				cfg := testConfig(t, dir)
				cfg.Recovery = "strict"
				var re *RecoveryError
				if _, err := Open(cfg); !errors.As(err, &re) || re.Line == 0 {
					t.Fatalf("strict mode: got %v, want a RecoveryError naming the line", err)
				}
			}
			e := openT(t, testConfig(t, dir))
			if (e.report.TornTail != nil) != tc.torn || len(e.report.Quarantined) != tc.quarantined || e.report.LastSeq != tc.lastSeq {
				t.Fatalf("report: torn=%v quarantined=%v last=%d", e.report.TornTail, e.report.Quarantined, e.report.LastSeq)
			}
			if tc.torn {
				if _, err := os.Stat(e.report.TornTail.Sidecar); err != nil {
					t.Fatalf("sidecar: %v", err)
				}
			}
			// appends continue on a clean line with the next seq
			r := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
			e.Close()
			e2 := openT(t, testConfig(t, dir))
			defer e2.Close()
			if e2.report.Status != "clean" || e2.report.TornTail != nil || len(e2.report.Quarantined) != 0 || e2.report.LastSeq != tc.lastSeq+1 {
				t.Fatalf("second start not clean: %+v", e2.report)
			}
			evs, err := e2.j.readEvents(tc.lastSeq+1, 1)
			if err != nil || evs[0].EventID != r["event_id"] {
				t.Fatalf("appended event not found: %v", err)
			}
		})
	}
}

func TestHTTPErrorsAreUniform(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	srv := httptest.NewServer(NewServer(e, ServerConfig{MaxBodyBytes: 1024}))
	defer srv.Close()
	post := func(path, b string, hdr ...string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(b))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if s, _ := post("/api/credits/agents", `{"agent_id":"a","skill_level":0.2}`); s != 200 {
		t.Fatalf("create %d", s)
	}
	for _, tc := range []struct {
		body string
		want int
		code string
	}{
		{`{"agent_id":"a","amount":1.2345}`, 422, "invalid_field"},
		{`{"agent_id":"a","amount":"1"}`, 422, "invalid_field"},
		{`{"agent_id":"a","amount":1,"extra":true}`, 422, "unknown_field"},
		{`{"agent_id":"a","amount":1`, 400, "malformed_json"},
		{`[1]`, 400, "malformed_json"},
		{`{"agent_id":"a","amount":NaN}`, 400, "malformed_json"},
		{`{"agent_id":"zz","amount":1}`, 404, "not_found"},
		{`{"agent_id":"a","amount":100}`, 409, "insufficient_credits"},
		{`{"agent_id":"a","reason":"` + strings.Repeat("x", 2000) + `"}`, 413, "payload_too_large"},
	} {
		s, m := post("/api/credits/consume", tc.body)
		if s != tc.want || m["code"] != tc.code || m["detail"] == "" {
			t.Errorf("%.60s: %d %v, want %d %s", tc.body, s, m, tc.want, tc.code)
		}
		if s == 422 && !strings.Contains(m["detail"].(string), m["field"].(string)) {
			t.Errorf("422 does not name the field: %v", m)
		}
	}
	s, m := post("/api/credits/consume", `{"agent_id":"a","amount":1}`, "Idempotency-Key", "h1")
	s2, m2 := post("/api/credits/consume", `{"agent_id":"a","amount":1}`, "Idempotency-Key", "h1")
	if s != 200 || s2 != 200 || m["event_id"] != m2["event_id"] {
		t.Fatalf("keyed retry over HTTP: %v %v", m, m2)
	}
	// auth
	tokens, _ := ParseTokens("r=rita:reader,o=otto:operator,a=anna:approver")
	as := httptest.NewServer(NewServer(e, ServerConfig{Tokens: tokens}))
	defer as.Close()
	for _, tc := range []struct {
		tok  string
		want int
	}{{"", 401}, {"bad", 401}, {"r", 403}, {"a", 403}, {"o", 200}} {
		req, _ := http.NewRequest("POST", as.URL+"/api/credits/refund", strings.NewReader(`{"agent_id":"a","amount":1}`))
		if tc.tok != "" {
			req.Header.Set("Authorization", "Bearer "+tc.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q: %d want %d", tc.tok, resp.StatusCode, tc.want)
		}
	}
}

func TestKeyIndexHonoursEveryKeyAcrossGrowthAndRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.KeyIndexSlots = 1024 // grows at 614 keys
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	ids := map[string]any{}
	for i := 0; i < 1500; i++ {
		k := fmt.Sprint("key-", i)
		ids[k] = mustStatus(t, e.Refund(Req{Key: k}, MoneyIn{AgentID: "a", AmountMilli: 1}), 200)["event_id"]
	}
	e.mu.Lock()
	e.indexDurableLocked()
	e.mu.Unlock()
	if len(e.inflight) != 0 || e.keys.slots < 4096 {
		t.Fatalf("inflight %d slots %d", len(e.inflight), e.keys.slots)
	}
	check := func(e *Engine) {
		for k, id := range ids {
			r := e.Refund(Req{Key: k}, MoneyIn{AgentID: "a", AmountMilli: 1})
			if !r.Replayed || body(r)["event_id"] != id {
				t.Fatalf("key %s not honoured: %v", k, body(r))
			}
		}
	}
	check(e)
	e.Close()
	e2 := openT(t, cfg)
	defer e2.Close()
	check(e2)
	var bal int64
	e2.view(func(st *State) { bal = st.Agents["a"].BalanceMilli })
	if bal != 100_000+1500 {
		t.Fatalf("balance %d", bal)
	}
}

func TestLedgerRingKeepsTheNewestEntries(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.LedgerKeep = 5
	e := openT(t, cfg)
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 1; i <= 12; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: int64(i)}), 200)
	}
	e.view(func(st *State) {
		a := st.Agents["a"]
		got := a.Ledger(0, 10)
		if len(got) != 5 || a.LedgerTotal != 13 {
			t.Fatalf("len %d total %d", len(got), a.LedgerTotal)
		}
		for k, le := range got {
			if le.AmountMilli != -int64(12-k) {
				t.Fatalf("entry %d amount %d, want %d", k, le.AmountMilli, -(12 - k))
			}
		}
	})
}

func TestHistoryPagesPastTheRingFromTheJournal(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.LedgerKeep = 4
	e := openT(t, cfg)
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "b", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: "p"}), 201)
	for i := 1; i <= 10; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: int64(i)}), 200)
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "b", AmountMilli: 1}), 200)
		if i == 5 {
			mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: "p", AmountMilli: 100, FromAgentID: "a"}), 200)
		}
	}
	all, total, found, truncated, err := e.History("a", 0, 100)
	if !found || truncated || err != nil || total != 12 || len(all) != 12 {
		t.Fatalf("total %d len %d truncated %v err %v", total, len(all), truncated, err)
	}
	var bal int64 = 100_000
	for i := len(all) - 1; i >= 0; i-- { // oldest first: balances chain exactly
		if i < len(all)-1 {
			bal += all[i].AmountMilli
		}
		if all[i].BalanceAfterMilli != bal && i < len(all)-1 {
			t.Fatalf("entry %d balance_after %d, running %d", i, all[i].BalanceAfterMilli, bal)
		}
	}
	page, _, _, _, _ := e.History("a", 6, 3)
	if len(page) != 3 || page[0].Seq != all[6].Seq || page[2].Seq != all[8].Seq {
		t.Fatalf("page %v", page)
	}
}

func TestNoRouteAnswers500ToBadInput(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	s := NewServer(e, ServerConfig{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	bodies := []string{"", "null", "[]", "{}", `{"x":1}`, "{", `"s"`, "1", `{"agent_id":null,"amount":null}`,
		`{"agent_id":1,"amount":{}}`, `{"agent_id":"a","amount":1e30}`, `{"agent_id":"a","amount":-0}`, `{"agent_id":"a\u0000","amount":1}`,
		`{"agent_id":"a","amount":1,"agent_id":"b"}`, `{"agent_ids":["a",1],"contribution_scores":[]}`, `{"skill_level":2}`,
		`{"expected_version":"1"}`, `{"expected_version":1.5}`, `{"actual_cost":-1}`, `{"refund_percentage":7}`, `{"agent_id":"` + strings.Repeat("z", 300) + `"}`}
	paths := map[string]string{"{agent_id}": "a", "{request_id}": "apr-x", "{pool_id}": "p", "{mission_id}": "m"}
	for _, rt := range s.routes {
		path := rt.path
		for k, v := range paths {
			path = strings.ReplaceAll(path, k, v)
		}
		for _, b := range bodies {
			req, _ := http.NewRequest(rt.method, srv.URL+path+"?limit=x&after_seq=-1&status=zz", strings.NewReader(b))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("%s %s %q: %d %s", rt.method, path, b, resp.StatusCode, raw)
			}
			if resp.StatusCode >= 400 {
				var m map[string]any
				if json.Unmarshal(raw, &m) != nil || m["detail"] == nil || m["code"] == nil {
					t.Errorf("%s %s %q: error body not uniform: %s", rt.method, path, b, raw)
				}
			}
		}
	}
}

func TestAnomaliesAreFlaggedNeverBlockedAndEoCStaysInTheSafeBand(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e := openT(t, cfg)
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 0; i < 6; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
	}
	b := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 50_000}), 200)
	if md := b["metadata"].(map[string]any); md["anomaly_detected"] != true || md["anomaly_reason"] == "" {
		t.Fatalf("not flagged: %v", md)
	}
	if _, _, _, ok := detectAnomaly(anomalyStats{N: 10, Mean: math.NaN()}, 5, &e.cfg); ok {
		t.Fatal("NaN statistics must report the detector unavailable")
	}
	m := newEoCMonitor(newState(0).EoC)
	for tick := 0; tick < 200; tick++ {
		for i := 0; i < 100; i++ {
			m.request(false)
			m.consume(true)
		}
		r, _ := m.tick(2 * time.Second)
		if r.Score < 0.3 || r.Score > 0.7 {
			t.Fatalf("tick %d: score %v left the safe band under anomalies alone", tick, r.Score)
		}
		if r.Backpressure != 0 {
			t.Fatalf("anomalies caused backpressure %v", r.Backpressure)
		}
	}
}

func TestTimersJournalExpiryAndRegulation(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.ExpiryTick = 10 * time.Millisecond
	cfg.EoCTick = 10 * time.Millisecond
	cfg.TimeoutMedium = 50 * time.Millisecond
	e := openT(t, cfg)
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
	for i := 0; i < 100; i++ { // anomalies and 5xx drive the band down: eoc.regulated
		e.eoc.consume(true)
		e.eoc.request(true)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		var status string
		var regs int64
		e.view(func(st *State) { status, regs = st.Approvals[id].Status, st.EoC.Regulations })
		if status == "expired" && regs > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timer did not journal approval.expired and eoc.regulated")
}

func TestWriteErrorsAreSticky(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	e.j.f.Close() // the next write fails
	for i := 0; i < 3; i++ {
		if b := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1}), 503); b["code"] != "journal_failed" {
			t.Fatalf("code %v", b["code"])
		}
	}
	if st, j, _ := e.Health(); st != "failed" || j != "failed" || e.Ready() {
		t.Fatalf("health %s journal %s ready %v", st, j, e.Ready())
	}
	if e.j.syncs.Load() != e.j.batches.Load() {
		t.Fatalf("a failed batch was synced or retried: syncs %d batches %d", e.j.syncs.Load(), e.j.batches.Load())
	}
	e.Close()
}

// The OpenAPI document names exactly the members each body route accepts:
// every documented member gets past the decoder (any refusal names another
// problem than an unknown field), and a member it does not name is refused
// unknown_field. SPEC §6 asks pools and missions to be documented; a
// client fitting its bodies to the document must not be refused for it.
func TestTheDocumentedRequestBodiesAreTheAcceptedOnes(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	s := NewServer(e, ServerConfig{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + api + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	posts := 0
	for _, rt := range s.routes {
		if rt.method != http.MethodPost {
			continue
		}
		posts++
		props := doc.Paths[rt.path]["post"].RequestBody.Content["application/json"].Schema.Properties
		if len(props) == 0 {
			t.Errorf("POST %s: the document names no body members", rt.path)
			continue
		}
		path := strings.NewReplacer("{request_id}", "apr-x", "{pool_id}", "p", "{mission_id}", "m").Replace(rt.path)
		send := func(member string) map[string]any {
			b, _ := json.Marshal(map[string]any{member: "x"})
			r, err := http.Post(srv.URL+path, "application/json", strings.NewReader(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(r.Body).Decode(&m)
			return m
		}
		for member := range props {
			if m := send(member); m["code"] == "unknown_field" {
				t.Errorf("POST %s: documented member %s refused: %v", rt.path, member, m)
			}
		}
		if m := send("creditgate_undocumented"); m["code"] != "unknown_field" {
			t.Errorf("POST %s: an undocumented member answered %v, want unknown_field", rt.path, m)
		}
	}
	if posts < 15 {
		t.Fatalf("only %d POST routes", posts)
	}
}

// Timestamps never go back along seq: the clock is read under the lock
// that assigns seq, however the writers interleave (a clock read before
// the lock stamped seq n+1 earlier than seq n under concurrency).
func TestTimestampsNeverGoBackAlongSeq(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	var ticks atomic.Int64
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.Clock = func() time.Time {
		n := ticks.Add(1)
		runtime.Gosched() // let another writer take the lock between this read and its use
		return base.Add(time.Duration(n) * time.Microsecond)
	}
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1})
			}
		}()
	}
	wg.Wait()
	e.Close()
	raw, err := os.ReadFile(cfg.JournalPath)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev struct {
			Seq       int64  `json:"seq"`
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, ev.Timestamp)
		if err != nil {
			t.Fatalf("seq %d: %v", ev.Seq, err)
		}
		if ts.Before(last) {
			t.Fatalf("seq %d stamped %s, before the previous seq's %s", ev.Seq, ts, last)
		}
		last = ts
		lines++
	}
	if lines < 321 {
		t.Fatalf("%d journal lines, want 321", lines)
	}
}

// A pool's close grants its remainder to an agent: at or above the
// approval threshold it is refused (allocations below the threshold and a
// close would grant any amount without a human gate); below, it pays.
func TestAPoolCloseGrantsNoAgentTheThresholdWithoutApproval(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i, hold := range []int64{500_000, 499_999} {
		id := fmt.Sprintf("p%d", i)
		mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: id}), 201)
		mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: id, AmountMilli: hold / 2}), 200)
		mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: id, AmountMilli: hold - hold/2}), 200)
		r := e.Pool("close", Req{}, PoolIn{PoolID: id, AgentID: "a"})
		if hold >= 500_000 {
			if b := mustStatus(t, r, 422); b["code"] != "approval_required" {
				t.Fatalf("close of %d: %v", hold, b)
			}
			continue
		}
		mustStatus(t, r, 200)
	}
	var bal int64
	e.view(func(st *State) { bal = st.Agents["a"].BalanceMilli })
	if bal != 100_000+499_999 {
		t.Fatalf("balance %d milli, want 599999", bal)
	}
}
