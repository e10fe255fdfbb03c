package specbackend

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// Blind hunt 11: each test runs the same steps without the defect (the SPEC's behaviour)
// and with it (the broken behaviour).

// h11-idem-key-ignores-route: the same key with a different request is 409 (SPEC §3) —
// with the defect a key of a consume reused on /refund with the same body is "replayed".
func TestDefectH11IdemKeyIgnoresRoute(t *testing.T) {
	run := func(t *testing.T, on bool) (*Response, any, int64) {
		e := openT(t, defectConfig(t, DefectH11IdemKeyIgnoresRoute, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 7000}
		id := mustStatus(t, e.Consume(Req{Key: "k1"}, in), 200)["event_id"]
		return e.Refund(Req{Key: "k1"}, in), id, balanceOf(e, "a")
	}
	r, _, bal := run(t, false)
	if r.Status != 409 || body(r)["code"] != "idempotency_key_conflict" || bal != 93_000 {
		t.Fatalf("without the defect: refund %d %v, balance %d; want 409 idempotency_key_conflict, 93", r.Status, body(r), bal)
	}
	r, id, bal := run(t, true)
	if r.Status != 200 || !r.Replayed || body(r)["event_id"] != id || bal != 93_000 {
		t.Fatalf("with the defect: refund %d replayed %v %v, balance %d; want the consume replayed", r.Status, r.Replayed, body(r), bal)
	}
}

// h11-amount-max-exclusive: only amounts above the maximum are 422 (SPEC §1) — with the
// defect the maximum itself is refused.
func TestDefectH11AmountMaxExclusive(t *testing.T) {
	run := func(t *testing.T, on bool) (atMax int, atMaxBody map[string]any, above int) {
		e := openT(t, defectConfig(t, DefectH11AmountMaxExclusive, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		atMax, atMaxBody = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1000000000}`)
		above, _ = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1000000000.001}`)
		return
	}
	s, m, above := run(t, false)
	if s != 409 || m["code"] != "insufficient_credits" || above != 422 {
		t.Fatalf("without the defect: at max %d %v, above %d; want 409 insufficient_credits (valid amount), 422", s, m, above)
	}
	s, m, above = run(t, true)
	if s != 422 || m["field"] != "amount" || above != 422 {
		t.Fatalf("with the defect: at max %d %v, above %d; want the maximum refused with 422", s, m, above)
	}
}

// h11-if-match-ignored: decisions use optimistic concurrency via If-Match (SPEC §5) — with
// the defect a stale If-Match is ignored and the approval executes.
func TestDefectH11IfMatchIgnored(t *testing.T) {
	run := func(t *testing.T, on bool) (stale int, m map[string]any, balance int64) {
		e := openT(t, defectConfig(t, DefectH11IfMatchIgnored, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		s, req := defectPost(t, srv, "/add", `{"agent_id":"a","amount":600,"actor_id":"alice"}`)
		if s != 202 {
			t.Fatalf("add %d %v", s, req)
		}
		stale, m = defectPost(t, srv, "/approvals/"+req["request_id"].(string)+"/approve", `{"approver_id":"bob"}`, "If-Match", `"7"`)
		return stale, m, balanceOf(e, "a")
	}
	s, m, bal := run(t, false)
	if s != 409 || m["code"] != "version_conflict" || bal != 100_000 {
		t.Fatalf("without the defect: stale If-Match %d %v, balance %d; want 409 version_conflict, 100", s, m, bal)
	}
	s, m, bal = run(t, true)
	if s != 200 || m["status"] != "approved" || bal != 700_000 {
		t.Fatalf("with the defect: stale If-Match %d %v, balance %d; want it ignored and the add executed (700)", s, m, bal)
	}
}

type h11Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *h11Clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *h11Clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func defectGet(t *testing.T, srv *httptest.Server, path string) map[string]any {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/credits" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// h11-audit-omits-expired: the audit lists every request with its decision event ids
// (SPEC §5) — with the defect an expired request is missing; a rejected one is listed.
func TestDefectH11AuditOmitsExpired(t *testing.T) {
	run := func(t *testing.T, on bool) (total any, ids []string) {
		cfg := defectConfig(t, DefectH11AuditOmitsExpired, on)
		clk := &h11Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		cfg.Clock = clk.now
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		r1 := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
		r2 := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 700_000}), 202)["request_id"].(string)
		mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: r2, Approve: false}), 200)
		clk.add(25 * time.Hour)
		mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: r1, Approve: true}), 409) // already_decided (expired)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		m := defectGet(t, srv, "/approvals/audit")
		for _, x := range m["entries"].([]any) {
			ids = append(ids, x.(map[string]any)["request_id"].(string))
		}
		return m["total"], ids
	}
	total, ids := run(t, false)
	if total != 2.0 || len(ids) != 2 {
		t.Fatalf("without the defect: audit total %v %v; want the rejected and the expired request", total, ids)
	}
	total, ids = run(t, true)
	if total != 1.0 || len(ids) != 1 {
		t.Fatalf("with the defect: audit total %v %v; want only the rejected request", total, ids)
	}
}

// h11-karma-open-skips-cache: during a KARMA outage the cached score is used before the
// default 0.5 (SPEC §5) — with the defect an open breaker gives 0.5 despite the cache.
func TestDefectH11KarmaOpenSkipsCache(t *testing.T) {
	run := func(t *testing.T, on bool) (srcs []any, scores []any) {
		var mu sync.Mutex
		down := false
		karma := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			d := down
			mu.Unlock()
			if d {
				http.Error(w, "down", 500)
				return
			}
			w.Write([]byte(`{"score":0.9}`))
		}))
		defer karma.Close()
		cfg := defectConfig(t, DefectH11KarmaOpenSkipsCache, on)
		cfg.KarmaURL = karma.URL
		clk := &h11Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		cfg.Clock = clk.now
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		consume := func() {
			m := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)["metadata"].(map[string]any)
			srcs, scores = append(srcs, m["karma_source"]), append(scores, m["karma_score"])
		}
		consume() // live 0.9, cached
		mu.Lock()
		down = true
		mu.Unlock()
		clk.add(11 * time.Second) // past the fresh-cache window: every call asks KARMA
		for i := 0; i < 4; i++ {  // 3 failures open the breaker; the 4th call sees it open
			consume()
		}
		return
	}
	srcs, scores := run(t, false)
	if srcs[0] != "live" || scores[0] != 0.9 || srcs[4] != "cache" || scores[4] != 0.9 {
		t.Fatalf("without the defect: sources %v scores %v; want live 0.9, then the cached 0.9 while the breaker is open", srcs, scores)
	}
	srcs, scores = run(t, true)
	if srcs[0] != "live" || srcs[3] != "cache" || srcs[4] != "fallback" || scores[4] != 0.5 {
		t.Fatalf("with the defect: sources %v scores %v; want the open breaker to give fallback 0.5", srcs, scores)
	}
}

// h11-refund-ledger-no-mission: ledger entries carry their mission_id (SPEC §4/§6) — with
// the defect a mission's refund row has none; its consume row keeps it.
func TestDefectH11RefundLedgerNoMission(t *testing.T) {
	run := func(t *testing.T, on bool) (refundMission, consumeMission *string) {
		e := openT(t, defectConfig(t, DefectH11RefundLedgerNoMission, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}), 201)
		mustStatus(t, e.Mission("cancel", Req{}, MissionIn{MissionID: "m1"}), 200)
		entries, _, _, _, err := e.History("a", 0, 10)
		if err != nil || len(entries) != 3 || entries[0].EventType != "credit.refunded" {
			t.Fatalf("history %v %v", entries, err)
		}
		return entries[0].MissionID, entries[1].MissionID
	}
	r, c := run(t, false)
	if r == nil || *r != "m1" || c == nil || *c != "m1" {
		t.Fatalf("without the defect: refund mission %v, consume mission %v; want both m1", r, c)
	}
	r, c = run(t, true)
	if r != nil || c == nil || *c != "m1" {
		t.Fatalf("with the defect: refund mission %v, consume mission %v; want the refund's missing", r, c)
	}
}

// h11-recovery-seq-gap-accepted: a gap in seq is quarantined and reported, strict refuses
// to start (SPEC §3) — with the defect a missing middle line goes unnoticed.
func TestDefectH11RecoverySeqGapAccepted(t *testing.T) {
	run := func(t *testing.T, on bool) (status string, quarantined int, strictErr error) {
		cfg := defectConfig(t, DefectH11RecoverySeqGapAccepted, on)
		raw := buildJournal(t, cfg, 3) // seq 1..5
		lines := bytes.SplitAfter(raw, []byte("\n"))
		cut := append(append(append([]byte{}, lines[0]...), lines[1]...), bytes.Join(lines[3:], nil)...) // seq 3 gone
		if err := os.WriteFile(cfg.JournalPath, cut, 0o644); err != nil {
			t.Fatal(err)
		}
		strict := cfg
		strict.Recovery = "strict"
		if e, err := Open(strict); err == nil {
			e.Close()
			if err := os.WriteFile(cfg.JournalPath, cut, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			strictErr = err
		}
		e := openT(t, cfg)
		defer e.Close()
		return e.report.Status, len(e.report.Quarantined), strictErr
	}
	st, q, serr := run(t, false)
	if st != "degraded" || q != 1 || serr == nil {
		t.Fatalf("without the defect: status %q, quarantined %d, strict %v; want degraded, 1 entry, strict refusing", st, q, serr)
	}
	st, q, serr = run(t, true)
	if st == "degraded" || q != 0 || serr != nil {
		t.Fatalf("with the defect: status %q, quarantined %d, strict %v; want the gap accepted silently", st, q, serr)
	}
}

// h11-expiry-timer-only: an expired request cannot be decided, expiry applies lazily on
// access (SPEC §5) — with the defect an approve between expiry and the timer's tick executes.
func TestDefectH11ExpiryTimerOnly(t *testing.T) {
	run := func(t *testing.T, on bool) (*Response, int64) {
		cfg := defectConfig(t, DefectH11ExpiryTimerOnly, on) // the timer ticks hourly here
		clk := &h11Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		cfg.Clock = clk.now
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
		clk.add(24*time.Hour + time.Second)
		return e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true}), balanceOf(e, "a")
	}
	r, bal := run(t, false)
	if r.Status != 409 || body(r)["code"] != "already_decided" || bal != 100_000 {
		t.Fatalf("without the defect: approve %d %v, balance %d; want 409 already_decided, 100", r.Status, body(r), bal)
	}
	r, bal = run(t, true)
	if r.Status != 200 || body(r)["status"] != "approved" || bal != 700_000 {
		t.Fatalf("with the defect: approve %d %v, balance %d; want the expired request approved (700)", r.Status, body(r), bal)
	}
}
