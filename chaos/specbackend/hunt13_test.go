package specbackend

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Blind hunt 13: each test runs the same steps without the defect (the SPEC's behaviour)
// and with it (the broken behaviour).

// h13Events reads every durable journal event of e.
func h13Events(t *testing.T, e *Engine) []*Event {
	t.Helper()
	lines, err := e.j.readLines(0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*Event
	for _, l := range lines {
		ev, err := decodeLine(bytes.TrimSuffix(l, []byte("\n")))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// h13-approval-exec-causation-request: an approval's executed allocation points at the
// approval.approved event (SPEC §2/§5) — with the defect it points at the request event.
func TestDefectH13ApprovalExecCausationRequest(t *testing.T) {
	run := func(t *testing.T, on bool) (cause, approved, requested string) {
		e := openT(t, defectConfig(t, DefectH13ApprovalExecCausationRequest, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
		mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true}), 200)
		for _, ev := range h13Events(t, e) {
			switch ev.EventType {
			case "approval.requested":
				requested = ev.EventID
			case "approval.approved":
				approved = ev.EventID
			case "credit.allocated":
				if decodePayload[pCredit](ev).ApprovalID == id && ev.CausationID != nil {
					cause = *ev.CausationID
				}
			}
		}
		return
	}
	c, ap, rq := run(t, false)
	if c == "" || c != ap {
		t.Fatalf("without the defect: execution caused by %s; want the approval.approved event %s", c, ap)
	}
	c, ap, rq = run(t, true)
	if c != rq || c == ap {
		t.Fatalf("with the defect: execution caused by %s; want the request event %s (not %s)", c, rq, ap)
	}
}

// h13-synergie-cap-across-teams: the cap is per agent and team (SPEC §5) — with the
// defect an agent capped in team alpha is capped in team beta too.
func TestDefectH13SynergieCapAcrossTeams(t *testing.T) {
	run := func(t *testing.T, on bool) (granted, capped int64) {
		e := openT(t, defectConfig(t, DefectH13SynergieCapAcrossTeams, on))
		defer e.Close()
		for _, id := range []string{"a", "b"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id, SkillPPM: 1_000_000}), 200)
		}
		collab := func(id, team string) {
			mustStatus(t, e.RecordCollaboration(Req{}, CollabIn{CollaborationID: id, TeamID: team, AgentIDs: []string{"a", "b"},
				Contrib: map[string]int64{"a": 1_000_000, "b": 1_000_000}}), 200)
		}
		for i := 0; i < 10; i++ { // 10 x 50 = the 500 cap in alpha
			collab("c"+string(rune('0'+i)), "alpha")
		}
		collab("beta-1", "beta")
		e.view(func(st *State) {
			t := st.Synergie["a"]["beta"]
			granted, capped = t.GrantedMilli, t.CappedMilli
		})
		return
	}
	g, c := run(t, false)
	if g != 50_000 || c != 0 {
		t.Fatalf("without the defect: beta granted %d capped %d; want 50 paid, nothing capped", g, c)
	}
	g, c = run(t, true)
	if g != 0 || c != 50_000 {
		t.Fatalf("with the defect: beta granted %d capped %d; want the alpha cap applied in beta", g, c)
	}
}

// h13-mission-unknown-type-refused: an unknown mission type costs base 10 (SPEC §5) —
// with the defect it is 422.
func TestDefectH13MissionUnknownTypeRefused(t *testing.T) {
	run := func(t *testing.T, on bool) (int, map[string]any) {
		e := openT(t, defectConfig(t, DefectH13MissionUnknownTypeRefused, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		return defectPost(t, srv, "/missions", `{"mission_id":"m1","agent_id":"a","mission_type":"quantum","complexity":"medium"}`)
	}
	s, m := run(t, false)
	if s != 201 || m["estimated_cost"] != 7.0 { // 10 x 1.0 x (1 - 0.3 x 1.0)
		t.Fatalf("without the defect: %d %v; want 201, estimated_cost 7", s, m)
	}
	s, m = run(t, true)
	if s != 422 || m["field"] != "mission_type" {
		t.Fatalf("with the defect: %d %v; want 422 mission_type", s, m)
	}
}

// h13-anomaly-global-norm: the norm is per agent (SPEC §5) — with the defect a big
// agent's usual-sized consume is flagged against the small agents' norm.
func TestDefectH13AnomalyGlobalNorm(t *testing.T) {
	run := func(t *testing.T, on bool) (flag *bool) {
		e := openT(t, defectConfig(t, DefectH13AnomalyGlobalNorm, on))
		defer e.Close()
		for _, id := range []string{"big", "small"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id, SkillPPM: 1_000_000}), 200)
		}
		for i := 0; i < 5; i++ {
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "big", AmountMilli: 5000}), 200)
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "small", AmountMilli: 100}), 200)
		}
		m := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "big", AmountMilli: 30_000}), 200)["metadata"].(map[string]any)
		if v, ok := m["anomaly_detected"].(bool); ok {
			flag = &v
		}
		return
	}
	if f := run(t, false); f == nil || *f {
		t.Fatalf("without the defect: 30 after 5 x 5 flagged %v; want not flagged (6x its own norm, constant)", f)
	}
	if f := run(t, true); f == nil || !*f {
		t.Fatalf("with the defect: 30 after 5 x 5 flagged %v; want flagged against the shared norm (mean 2.55)", f)
	}
}

// h13-replay-status-200: a keyed retry returns the original result (SPEC §3) — with the
// defect the retry of a 202 gated add answers 200.
func TestDefectH13ReplayStatus200(t *testing.T) {
	run := func(t *testing.T, on bool) (first, retry *Response) {
		e := openT(t, defectConfig(t, DefectH13ReplayStatus200, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 600_000}
		return e.Add(Req{Key: "k1", Actor: "alice"}, in), e.Add(Req{Key: "k1", Actor: "alice"}, in)
	}
	f, r := run(t, false)
	if f.Status != 202 || r.Status != 202 || !r.Replayed || body(r)["request_id"] != body(f)["request_id"] {
		t.Fatalf("without the defect: %d then %d replayed %v; want 202 twice, same request", f.Status, r.Status, r.Replayed)
	}
	f, r = run(t, true)
	if f.Status != 202 || r.Status != 200 || !r.Replayed || body(r)["request_id"] != body(f)["request_id"] {
		t.Fatalf("with the defect: %d then %d replayed %v; want 202 then 200", f.Status, r.Status, r.Replayed)
	}
}

// h13-body-key-money-only: a key may come in the body on every mutating route (SPEC §3) —
// with the defect a body-keyed pool allocation retried is applied twice.
func TestDefectH13BodyKeyMoneyOnly(t *testing.T) {
	run := func(t *testing.T, on bool) (s1, s2 int, balance any, consumeRetry int) {
		e := openT(t, defectConfig(t, DefectH13BodyKeyMoneyOnly, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		if s, m := defectPost(t, srv, "/pools", `{"pool_id":"p"}`); s != 201 {
			t.Fatalf("pool %d %v", s, m)
		}
		s1, _ = defectPost(t, srv, "/pools/p/allocate", `{"amount":10,"idempotency_key":"k1"}`)
		s2, _ = defectPost(t, srv, "/pools/p/allocate", `{"amount":10,"idempotency_key":"k1"}`)
		balance = defectGet(t, srv, "/pools/p")["balance"]
		defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1,"idempotency_key":"k2"}`)
		consumeRetry, _ = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1,"idempotency_key":"k2"}`)
		if balanceOf(e, "a") != 99_000 {
			t.Fatalf("consume retry moved money: %d", balanceOf(e, "a"))
		}
		return
	}
	s1, s2, bal, cr := run(t, false)
	if s1 != 200 || s2 != 200 || bal != 10.0 || cr != 200 {
		t.Fatalf("without the defect: %d %d pool balance %v; want the retry replayed, balance 10", s1, s2, bal)
	}
	s1, s2, bal, cr = run(t, true)
	if s1 != 200 || s2 != 200 || bal != 20.0 || cr != 200 {
		t.Fatalf("with the defect: %d %d pool balance %v; want the retry applied again, balance 20", s1, s2, bal)
	}
}

// h13-torn-tail-no-sidecar: a torn tail is kept in a sidecar file (SPEC §3) — with the
// defect it is cut without one.
func TestDefectH13TornTailNoSidecar(t *testing.T) {
	run := func(t *testing.T, on bool) (reported bool, sidecars int, last int64) {
		cfg := defectConfig(t, DefectH13TornTailNoSidecar, on)
		raw := buildJournal(t, cfg, 3) // seq 1..5
		if err := os.WriteFile(cfg.JournalPath, append(raw, []byte(`{"seq":6,"event_id":"x`)...), 0o644); err != nil {
			t.Fatal(err)
		}
		e := openT(t, cfg)
		defer e.Close()
		m, _ := filepath.Glob(cfg.JournalPath + ".torn-*")
		return e.report.TornTail != nil, len(m), e.report.LastSeq
	}
	r, n, last := run(t, false)
	if !r || n != 1 || last != 5 {
		t.Fatalf("without the defect: torn reported %v, %d sidecars, last seq %d; want 1 sidecar", r, n, last)
	}
	r, n, last = run(t, true)
	if !r || n != 0 || last != 5 {
		t.Fatalf("with the defect: torn reported %v, %d sidecars, last seq %d; want no sidecar", r, n, last)
	}
}

// h13-recovery-line-zero-based: the quarantine names the bad line's number (SPEC §3) —
// with the defect it names the line before.
func TestDefectH13RecoveryLineZeroBased(t *testing.T) {
	run := func(t *testing.T, on bool) (line int, strict string) {
		cfg := defectConfig(t, DefectH13RecoveryLineZeroBased, on)
		raw := buildJournal(t, cfg, 3) // 5 lines
		lines := bytes.SplitAfter(raw, []byte("\n"))
		lines[2] = bytes.Replace(lines[2], []byte(`"credit.consumed"`), []byte(`"credit.consumeX"`), 1) // line 3: bad checksum
		bad := bytes.Join(lines, nil)
		if err := os.WriteFile(cfg.JournalPath, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		strictCfg := cfg
		strictCfg.Recovery = "strict"
		if e, err := Open(strictCfg); err == nil {
			e.Close()
			t.Fatal("strict started")
		} else {
			strict = err.Error()
		}
		e := openT(t, cfg)
		defer e.Close()
		if len(e.report.Quarantined) != 2 { // the bad line, and the seq gap it leaves
			t.Fatalf("quarantined %v", e.report.Quarantined)
		}
		return e.report.Quarantined[0].Line, strict
	}
	l, s := run(t, false)
	if l != 3 || !strings.Contains(s, "line 3:") {
		t.Fatalf("without the defect: line %d, strict %q; want line 3", l, s)
	}
	l, s = run(t, true)
	if l != 2 || !strings.Contains(s, "line 2:") {
		t.Fatalf("with the defect: line %d, strict %q; want line 2", l, s)
	}
}

// h13-history-total-ring: total_entries counts the agent's whole ledger (SPEC §6) — with
// the defect it is capped at the in-memory ring.
func TestDefectH13HistoryTotalRing(t *testing.T) {
	run := func(t *testing.T, on bool) (total any, n int) {
		cfg := defectConfig(t, DefectH13HistoryTotalRing, on)
		cfg.LedgerKeep = 4
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for i := 0; i < 5; i++ {
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		}
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		m := defectGet(t, srv, "/history/a?limit=100")
		return m["total_entries"], len(m["history"].([]any))
	}
	tot, n := run(t, false)
	if tot != 6.0 || n != 6 {
		t.Fatalf("without the defect: total_entries %v, %d listed; want 6, 6", tot, n)
	}
	tot, n = run(t, true)
	if tot != 4.0 || n != 6 {
		t.Fatalf("with the defect: total_entries %v, %d listed; want 4 (the ring), 6 listed", tot, n)
	}
}

// h13-body-too-large-400: a body above the limit is 413 (SPEC §6) — with the defect 400.
func TestDefectH13BodyTooLarge400(t *testing.T) {
	run := func(t *testing.T, on bool) (int, any) {
		e := openT(t, defectConfig(t, DefectH13BodyTooLarge400, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{MaxBodyBytes: 100}))
		defer srv.Close()
		s, m := defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1,"reason":"`+strings.Repeat("x", 200)+`"}`)
		return s, m["code"]
	}
	if s, c := run(t, false); s != 413 || c != "payload_too_large" {
		t.Fatalf("without the defect: %d %v; want 413", s, c)
	}
	if s, c := run(t, true); s != 400 {
		t.Fatalf("with the defect: %d %v; want 400", s, c)
	}
}

// h13-expiry-rearmed-at-start: a request past its deadline cannot be decided (SPEC §5) —
// with the defect a restart re-arms the deadline and the approval executes.
func TestDefectH13ExpiryRearmedAtStart(t *testing.T) {
	run := func(t *testing.T, on bool) (*Response, int64, any) {
		cfg := defectConfig(t, DefectH13ExpiryRearmedAtStart, on)
		clk := &h11Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		cfg.Clock = clk.now
		e := openT(t, cfg)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		clk.add(25 * time.Hour) // the MEDIUM deadline (24 h) passed while the backend was down
		e = openT(t, cfg)
		defer e.Close()
		var status any
		e.view(func(st *State) { status = approvalView(st.Approvals[id], clk.now())["status"] })
		return e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true}), balanceOf(e, "a"), status
	}
	r, bal, st := run(t, false)
	if r.Status != 409 || body(r)["code"] != "already_decided" || bal != 100_000 || st != "expired" {
		t.Fatalf("without the defect: approve %d %v, balance %d, shown %v; want 409 already_decided, 100, expired", r.Status, body(r), bal, st)
	}
	r, bal, st = run(t, true)
	if r.Status != 200 || bal != 700_000 || st != "pending" {
		t.Fatalf("with the defect: approve %d %v, balance %d, shown %v; want approved after its deadline (700), pending", r.Status, body(r), bal, st)
	}
}

// h13-readyz-ignores-journal: after a failed write the backend is not ready (SPEC §3/§6)
// — with the defect /readyz stays 200.
func TestDefectH13ReadyzIgnoresJournal(t *testing.T) {
	run := func(t *testing.T, on bool) (consume, ready int) {
		e := openT(t, defectConfig(t, DefectH13ReadyzIgnoresJournal, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		e.j.f.Close() // the next write fails
		consume, _ = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1}`)
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return consume, resp.StatusCode
	}
	if c, r := run(t, false); c != 503 || r != 503 {
		t.Fatalf("without the defect: consume %d, readyz %d; want 503, 503", c, r)
	}
	if c, r := run(t, true); c != 503 || r != 200 {
		t.Fatalf("with the defect: consume %d, readyz %d; want 503, 200", c, r)
	}
}

// h13-history-pool-alloc-sign: history amounts are signed (SPEC §6) — with the defect a
// pool allocation from the agent paged from the journal shows positive.
func TestDefectH13HistoryPoolAllocSign(t *testing.T) {
	run := func(t *testing.T, on bool) (older, inRing int64) {
		cfg := defectConfig(t, DefectH13HistoryPoolAllocSign, on)
		cfg.LedgerKeep = 2
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: "p"}), 201)
		mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: "p", FromAgentID: "a", AmountMilli: 10_000}), 200)
		entries, _, _, _, err := e.History("a", 0, 10)
		if err != nil || len(entries) != 2 {
			t.Fatalf("history %v %v", entries, err)
		}
		inRing = entries[0].AmountMilli
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		entries, _, _, _, err = e.History("a", 0, 10)
		if err != nil || len(entries) != 4 || entries[2].EventType != "pool.allocated" {
			t.Fatalf("history %v %v", entries, err)
		}
		return entries[2].AmountMilli, inRing
	}
	o, r := run(t, false)
	if o != -10_000 || r != -10_000 {
		t.Fatalf("without the defect: paged %d, in ring %d; want -10 both", o, r)
	}
	o, r = run(t, true)
	if o != 10_000 || r != -10_000 {
		t.Fatalf("with the defect: paged %d, in ring %d; want +10 paged, -10 in ring", o, r)
	}
}

// h13-key-hash-ignores-reason: the same key with a different request is 409 (SPEC §3) —
// with the defect a changed reason is replayed as the first request.
func TestDefectH13KeyHashIgnoresReason(t *testing.T) {
	run := func(t *testing.T, on bool) *Response {
		e := openT(t, defectConfig(t, DefectH13KeyHashIgnoresReason, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Consume(Req{Key: "k1"}, MoneyIn{AgentID: "a", AmountMilli: 1000, Reason: "first"}), 200)
		return e.Consume(Req{Key: "k1"}, MoneyIn{AgentID: "a", AmountMilli: 1000, Reason: "second"})
	}
	if r := run(t, false); r.Status != 409 || body(r)["code"] != "idempotency_key_conflict" {
		t.Fatalf("without the defect: %d %v; want 409 idempotency_key_conflict", r.Status, body(r))
	}
	if r := run(t, true); r.Status != 200 || !r.Replayed || body(r)["reason"] != "first" {
		t.Fatalf("with the defect: %d replayed %v %v; want the first consume replayed", r.Status, r.Replayed, body(r))
	}
}

// h13-pending-list-omits-voted: the pending list holds every pending request (SPEC §6) —
// with the defect a CRITICAL request with one of two votes is missing.
func TestDefectH13PendingListOmitsVoted(t *testing.T) {
	run := func(t *testing.T, on bool) (total any, status any) {
		e := openT(t, defectConfig(t, DefectH13PendingListOmitsVoted, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 60_000_000, Justification: "j"}), 202)["request_id"].(string)
		mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)
		mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true}), 200) // first of two
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		return defectGet(t, srv, "/approvals?status=pending")["total"], defectGet(t, srv, "/approvals/"+id)["status"]
	}
	if n, st := run(t, false); n != 2.0 || st != "pending" {
		t.Fatalf("without the defect: %v pending, voted request %v; want 2, pending", n, st)
	}
	if n, st := run(t, true); n != 1.0 || st != "pending" {
		t.Fatalf("with the defect: %v pending, voted request %v; want 1 listed though it is pending", n, st)
	}
}

// h13-mission-overrun-charged: complete refunds estimate - actual if positive (SPEC §5) —
// with the defect an overrun is charged to the agent.
func TestDefectH13MissionOverrunCharged(t *testing.T) {
	run := func(t *testing.T, on bool) int64 {
		e := openT(t, defectConfig(t, DefectH13MissionOverrunCharged, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}), 201) // 7
		actual := int64(10_000)
		mustStatus(t, e.Mission("complete", Req{}, MissionIn{MissionID: "m1", ActualMilli: &actual}), 200)
		return balanceOf(e, "a")
	}
	if b := run(t, false); b != 93_000 {
		t.Fatalf("without the defect: balance %d; want 93 (estimate 7 kept, nothing more)", b)
	}
	if b := run(t, true); b != 90_000 {
		t.Fatalf("with the defect: balance %d; want 90 (the overrun of 3 charged)", b)
	}
}

// h13-withdraw-unknown-agent-409: unknown agent is 404 (SPEC §5/§6) — with the defect a
// withdrawal from an unknown agent is 409 insufficient_credits.
func TestDefectH13WithdrawUnknownAgent409(t *testing.T) {
	run := func(t *testing.T, on bool) (*Response, *Response) {
		e := openT(t, defectConfig(t, DefectH13WithdrawUnknownAgent409, on))
		defer e.Close()
		in := MoneyIn{AgentID: "ghost", AmountMilli: 1000}
		return e.Withdraw(Req{}, in), e.Consume(Req{}, in)
	}
	if w, c := run(t, false); w.Status != 404 || c.Status != 404 {
		t.Fatalf("without the defect: withdraw %d, consume %d; want 404, 404", w.Status, c.Status)
	}
	if w, c := run(t, true); w.Status != 409 || body(w)["code"] != "insufficient_credits" || c.Status != 404 {
		t.Fatalf("with the defect: withdraw %d %v, consume %d; want 409 insufficient_credits, 404", w.Status, body(w), c.Status)
	}
}

// h13-insufficient-no-balance: the 409 insufficient_credits body has the balance (SPEC
// §5) — with the defect it is under "available".
func TestDefectH13InsufficientNoBalance(t *testing.T) {
	run := func(t *testing.T, on bool) map[string]any {
		e := openT(t, defectConfig(t, DefectH13InsufficientNoBalance, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 500_000}), 200)
		return mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 60_000}), 409)
	}
	if m := run(t, false); m["balance"] != 50.0 || m["code"] != "insufficient_credits" {
		t.Fatalf("without the defect: %v; want balance 50", m)
	}
	if m := run(t, true); m["balance"] != nil || m["available"] != 50.0 {
		t.Fatalf("with the defect: %v; want no balance member", m)
	}
}

// h13-history-fraction-zeros: history amounts are exact (SPEC §1/§6) — with the defect
// 1.05 shows as 1.5.
func TestDefectH13HistoryFractionZeros(t *testing.T) {
	run := func(t *testing.T, on bool) (amount, after, balance any) {
		e := openT(t, defectConfig(t, DefectH13HistoryFractionZeros, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1050}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		h := defectGet(t, srv, "/history/a")["history"].([]any)[0].(map[string]any)
		return h["amount"], h["balance_after"], defectGet(t, srv, "/balance/a")["balance"]
	}
	if a, af, b := run(t, false); a != -1.05 || af != 98.95 || b != 98.95 {
		t.Fatalf("without the defect: amount %v after %v balance %v; want -1.05, 98.95", a, af, b)
	}
	if a, af, b := run(t, true); a != -1.5 || af != 98.95 || b != 98.95 {
		t.Fatalf("with the defect: amount %v after %v balance %v; want -1.5 shown", a, af, b)
	}
}

// h13-credits-health-ignores-recovery: health is degraded after a quarantine (SPEC §3) —
// with the defect /api/credits/health says ok while /api/health says degraded.
func TestDefectH13CreditsHealthIgnoresRecovery(t *testing.T) {
	run := func(t *testing.T, on bool) (credits, root any) {
		cfg := defectConfig(t, DefectH13CreditsHealthIgnoresRecovery, on)
		raw := buildJournal(t, cfg, 3)
		lines := bytes.SplitAfter(raw, []byte("\n"))
		lines[2] = bytes.Replace(lines[2], []byte(`"credit.consumed"`), []byte(`"credit.consumeX"`), 1)
		if err := os.WriteFile(cfg.JournalPath, bytes.Join(lines, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		e := openT(t, cfg)
		defer e.Close()
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		get := func(path string) any {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return m["status"]
		}
		return get("/api/credits/health"), get("/api/health")
	}
	if c, r := run(t, false); c != "degraded" || r != "degraded" {
		t.Fatalf("without the defect: credits %v, root %v; want degraded, degraded", c, r)
	}
	if c, r := run(t, true); c != "ok" || r != "degraded" {
		t.Fatalf("with the defect: credits %v, root %v; want ok, degraded", c, r)
	}
}
