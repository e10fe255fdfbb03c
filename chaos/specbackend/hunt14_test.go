package specbackend

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every h14 defect test runs the same steps twice: without the defect (the SPEC's
// behaviour) and with it (the broken behaviour). It fails if the switch does nothing.

// h14Get sends a GET to srv and decodes the JSON answer.
func h14Get(t *testing.T, srv *httptest.Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/credits" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// h14-amount-float-truncation: credits are exact (SPEC §1) — with the defect an amount of
// 1.005 is converted through float64 and truncated to 1.004; 12.5 stays exact.
func TestDefectH14AmountFloatTruncation(t *testing.T) {
	run := func(t *testing.T, on bool) (odd, even map[string]any, balance int64) {
		e := openT(t, defectConfig(t, DefectH14AmountFloatTruncation, on))
		defer e.Close()
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		_, odd = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1.005}`)
		_, even = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":12.5}`)
		return odd, even, balanceOf(e, "a")
	}
	odd, even, bal := run(t, false)
	if odd["amount"] != 1.005 || even["amount"] != 12.5 || bal != 86_495 {
		t.Fatalf("without the defect: 1.005 -> %v, 12.5 -> %v, balance %d; want exact amounts, 86.495", odd["amount"], even["amount"], bal)
	}
	odd, even, bal = run(t, true)
	if odd["amount"] != 1.004 || even["amount"] != 12.5 || bal != 86_496 {
		t.Fatalf("with the defect: 1.005 -> %v, 12.5 -> %v, balance %d; want 1.004 and 12.5, 86.496", odd["amount"], even["amount"], bal)
	}
}

// h14-replay-header-memory-only: a keyed retry returns the original result with
// Idempotent-Replayed: true (SPEC §3) — with the defect a retry answered through the
// on-disk key index (after any later command) has the original event_id but no header.
func TestDefectH14ReplayHeaderMemoryOnly(t *testing.T) {
	run := func(t *testing.T, on bool) (first, retry *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectH14ReplayHeaderMemoryOnly, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 1000}
		first = e.Consume(Req{Key: "k0"}, in)
		mustStatus(t, e.Consume(Req{}, in), 200) // moves k0 to the on-disk index
		retry = e.Consume(Req{Key: "k0"}, in)
		return first, retry, balanceOf(e, "a")
	}
	f, r, bal := run(t, false)
	if r.Status != 200 || !r.Replayed || body(r)["event_id"] != body(f)["event_id"] || bal != 98_000 {
		t.Fatalf("without the defect: retry %d replayed=%v, balance %d; want the original event with the header, 98", r.Status, r.Replayed, bal)
	}
	f, r, bal = run(t, true)
	if r.Status != 200 || r.Replayed || body(r)["event_id"] != body(f)["event_id"] || bal != 98_000 {
		t.Fatalf("with the defect: retry %d replayed=%v, balance %d; want the original event without the header, 98", r.Status, r.Replayed, bal)
	}
}

// h14-high-no-justification: HIGH needs 1 approver + justification (SPEC §5) — with the
// defect a HIGH request without justification is approved and executed without one.
func TestDefectH14HighNoJustification(t *testing.T) {
	run := func(t *testing.T, on bool) (r *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectH14HighNoJustification, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		req := mustStatus(t, e.RequestApproval(Req{Actor: "alice"}, ApprovalIn{ActionType: "add", AgentID: "a", AmountMilli: 6_000_000}), 202)
		if req["risk_level"] != "HIGH" {
			t.Fatalf("risk %v, want HIGH", req["risk_level"])
		}
		r = e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: req["request_id"].(string), Approve: true})
		return r, balanceOf(e, "a")
	}
	r, bal := run(t, false)
	if r.Status != 422 || !strings.Contains(body(r)["detail"].(string), "justification") || bal != 100_000 {
		t.Fatalf("without the defect: approve %d %v, balance %d; want 422 naming justification, 100", r.Status, body(r), bal)
	}
	r, bal = run(t, true)
	if r.Status != 200 || body(r)["status"] != "approved" || bal != 6_100_000 {
		t.Fatalf("with the defect: approve %d %v, balance %d; want approved and executed, 6100", r.Status, body(r), bal)
	}
}

// h14-pool-allocate-no-overdraft-check: balances never go negative (SPEC §4) — with the
// defect allocating more than an agent has from it into a pool overdraws the agent.
func TestDefectH14PoolAllocateNoOverdraftCheck(t *testing.T) {
	run := func(t *testing.T, on bool) (r *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectH14PoolAllocateNoOverdraftCheck, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: "p"}), 201)
		mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: "p", FromAgentID: "a", AmountMilli: 60_000}), 200)
		r = e.Pool("allocate", Req{}, PoolIn{PoolID: "p", FromAgentID: "a", AmountMilli: 60_000})
		return r, balanceOf(e, "a")
	}
	r, bal := run(t, false)
	if r.Status != 409 || body(r)["code"] != "insufficient_credits" || bal != 40_000 {
		t.Fatalf("without the defect: second allocation %d %v, balance %d; want 409 insufficient_credits, 40", r.Status, body(r), bal)
	}
	r, bal = run(t, true)
	if r.Status != 200 || bal != -20_000 {
		t.Fatalf("with the defect: second allocation %d %v, balance %d; want 200 and -20", r.Status, body(r), bal)
	}
}

// h14-mission-refund-cause-lost-on-restart: a mission refund points at the mission's
// consumption (SPEC §2) — with the defect a mission started before a restart and cancelled
// after it refunds with causation_id null.
func TestDefectH14MissionRefundCauseLostOnRestart(t *testing.T) {
	run := func(t *testing.T, on bool) (consumeID string, cause *string) {
		cfg := defectConfig(t, DefectH14MissionRefundCauseLostOnRestart, on)
		e := openT(t, cfg)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		consumeID = mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}), 201)["credit_event_id"].(string)
		e.Close()
		e = openT(t, cfg)
		defer e.Close()
		refundID := mustStatus(t, e.Mission("cancel", Req{}, MissionIn{MissionID: "m1"}), 200)["credit_event_id"].(string)
		lines, err := e.j.readLines(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			ev, err := decodeLine(bytes.TrimSuffix(l, []byte("\n")))
			if err == nil && ev.EventID == refundID {
				return consumeID, ev.CausationID
			}
		}
		t.Fatal("refund event not in the journal")
		return
	}
	id, cause := run(t, false)
	if cause == nil || *cause != id {
		t.Fatalf("without the defect: refund causation %v, want the consumption %s", cause, id)
	}
	id, cause = run(t, true)
	if cause != nil {
		t.Fatalf("with the defect: refund causation %v, want null", *cause)
	}
}

// h14-eoc-anomaly-as-error: anomalies alone keep the score in the safe band and cause no
// backpressure (SPEC §5) — with the defect they count as errors: the score falls below 0.3
// and backpressure rises.
func TestDefectH14EoCAnomalyAsError(t *testing.T) {
	run := func(t *testing.T, on bool) pEoC {
		e := openT(t, defectConfig(t, DefectH14EoCAnomalyAsError, on))
		defer e.Close()
		var r pEoC
		for tick := 0; tick < 30; tick++ {
			for i := 0; i < 10; i++ {
				e.eoc.request(false)
				e.eoc.consume(true) // every consume flagged anomalous, no error
			}
			r, _ = e.eoc.tick(2 * time.Second)
		}
		return r
	}
	r := run(t, false)
	if r.Score < 0.3 || r.Score > 0.7 || r.Backpressure != 0 || r.ErrorRate != 0 {
		t.Fatalf("without the defect: %+v; want the score in 0.3-0.7, no errors, no backpressure", r)
	}
	r = run(t, true)
	if r.Score >= 0.3 || r.Backpressure == 0 || r.ErrorRate != 1 {
		t.Fatalf("with the defect: %+v; want the score below 0.3, error rate 1, backpressure", r)
	}
}

// h14-quarantine-file-truncated: quarantined lines are kept in the quarantine file (SPEC
// §3) — with the defect a second start that quarantines loses the first start's entries.
func TestDefectH14QuarantineFileTruncated(t *testing.T) {
	run := func(t *testing.T, on bool) (entries []string) {
		cfg := defectConfig(t, DefectH14QuarantineFileTruncated, on)
		e := openT(t, cfg)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for i := 0; i < 6; i++ {
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		}
		e.Close()
		for _, garbage := range []string{"garbage-one\n", "garbage-two\n"} {
			b, _ := os.ReadFile(cfg.JournalPath)
			l := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(cfg.JournalPath, bytes.Join(append(l[:3], append([][]byte{[]byte(garbage)}, l[3:]...)...), nil), 0o644)
			e = openT(t, cfg)
			if len(e.report.Quarantined) != 1 {
				t.Fatalf("quarantined %v, want 1 line", e.report.Quarantined)
			}
			e.Close()
		}
		q, _ := os.ReadFile(cfg.JournalPath + ".quarantine")
		for _, l := range strings.Split(strings.TrimSpace(string(q)), "\n") {
			var qe QuarantineEntry
			json.Unmarshal([]byte(l), &qe)
			entries = append(entries, qe.Raw)
		}
		return entries
	}
	got := run(t, false)
	if len(got) != 2 || got[0] != "garbage-one" || got[1] != "garbage-two" {
		t.Fatalf("without the defect: quarantine file holds %q; want both garbage lines", got)
	}
	got = run(t, true)
	if len(got) != 1 || got[0] != "garbage-two" {
		t.Fatalf("with the defect: quarantine file holds %q; want only the second", got)
	}
}

// h14-metrics-replay-ts-millis: last_replay_timestamp is Unix time in seconds (SPEC §6) —
// with the defect it is in milliseconds.
func TestDefectH14MetricsReplayTsMillis(t *testing.T) {
	run := func(t *testing.T, on bool) float64 {
		e := openT(t, defectConfig(t, DefectH14MetricsReplayTsMillis, on))
		defer e.Close()
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		_, m := h14Get(t, srv, "/metrics")
		return m["replay"].(map[string]any)["last_replay_timestamp"].(float64)
	}
	now := float64(time.Now().Unix())
	if ts := run(t, false); ts < now-600 || ts > now+600 {
		t.Fatalf("without the defect: last_replay_timestamp %v, want about %v (seconds)", ts, now)
	}
	if ts := run(t, true); ts < (now-600)*1000 || ts > (now+600)*1000 {
		t.Fatalf("with the defect: last_replay_timestamp %v, want about %v (milliseconds)", ts, now*1000)
	}
}

// h14-idem-key-case-insensitive: a new key is a new request (SPEC §3) — with the defect a
// key differing from an earlier one only in letter case is answered as its replay.
func TestDefectH14IdemKeyCaseInsensitive(t *testing.T) {
	run := func(t *testing.T, on bool) (first, second *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectH14IdemKeyCaseInsensitive, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 1000}
		first = e.Consume(Req{Key: "Key-A"}, in)
		second = e.Consume(Req{Key: "key-a"}, in)
		return first, second, balanceOf(e, "a")
	}
	f, s, bal := run(t, false)
	if s.Status != 200 || s.Replayed || body(s)["event_id"] == body(f)["event_id"] || bal != 98_000 {
		t.Fatalf("without the defect: second key %d replayed=%v, balance %d; want a new event, 98", s.Status, s.Replayed, bal)
	}
	f, s, bal = run(t, true)
	if s.Status != 200 || !s.Replayed || body(s)["event_id"] != body(f)["event_id"] || bal != 99_000 {
		t.Fatalf("with the defect: second key %d replayed=%v, balance %d; want the first event replayed, 99", s.Status, s.Replayed, bal)
	}
}

// h14-balances-omit-zero: GET /balances lists every agent (SPEC §6) — with the defect an
// agent with balance 0 is missing and not counted.
func TestDefectH14BalancesOmitZero(t *testing.T) {
	run := func(t *testing.T, on bool) map[string]any {
		e := openT(t, defectConfig(t, DefectH14BalancesOmitZero, on))
		defer e.Close()
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "z", SkillPPM: 0}), 200)
		_, m := h14Get(t, srv, "/balances")
		return m
	}
	m := run(t, false)
	if _, ok := m["balances"].(map[string]any)["z"]; !ok || m["total_agents"] != 2.0 {
		t.Fatalf("without the defect: %v; want both agents", m)
	}
	m = run(t, true)
	if _, ok := m["balances"].(map[string]any)["z"]; ok || m["total_agents"] != 1.0 {
		t.Fatalf("with the defect: %v; want z missing, total 1", m)
	}
}

// h14-synergie-capped-raw: the capped total is the part above the cap (SPEC §5) — with the
// defect a partly paid reward adds its whole raw reward to the capped total.
func TestDefectH14SynergieCappedRaw(t *testing.T) {
	run := func(t *testing.T, on bool) (granted, capped int64) {
		cfg := defectConfig(t, DefectH14SynergieCappedRaw, on)
		cfg.SynergieCapMilli = 60_000
		e := openT(t, cfg)
		defer e.Close()
		for _, id := range []string{"a", "b"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id, SkillPPM: 500_000}), 200)
		}
		for _, c := range []string{"c1", "c2"} { // raw reward 50 each: 50 paid, then 10 paid + 40 capped
			mustStatus(t, e.RecordCollaboration(Req{}, CollabIn{CollaborationID: c, TeamID: "t", AgentIDs: []string{"a", "b"},
				Contrib: map[string]int64{"a": 1_000_000, "b": 1_000_000}}), 200)
		}
		e.view(func(st *State) {
			granted, capped = st.Synergie["a"]["t"].GrantedMilli, st.Synergie["a"]["t"].CappedMilli
		})
		return granted, capped
	}
	g, c := run(t, false)
	if g != 60_000 || c != 40_000 {
		t.Fatalf("without the defect: granted %d capped %d; want 60 and 40", g, c)
	}
	g, c = run(t, true)
	if g != 60_000 || c != 50_000 {
		t.Fatalf("with the defect: granted %d capped %d; want 60 and 50 (the raw reward)", g, c)
	}
}

// h14-unknown-fields-secondary-ignored: unknown JSON fields are rejected (SPEC §6) — with
// the defect only the original's routes reject them; POST /pools ignores a misspelt member.
func TestDefectH14UnknownFieldsSecondaryIgnored(t *testing.T) {
	run := func(t *testing.T, on bool) (pool, consume int) {
		e := openT(t, defectConfig(t, DefectH14UnknownFieldsSecondaryIgnored, on))
		defer e.Close()
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		pool, _ = defectPost(t, srv, "/pools", `{"pool_id":"p","nmae":"x"}`)
		consume, _ = defectPost(t, srv, "/consume", `{"agent_id":"a","amount":1,"resaon":"x"}`)
		return pool, consume
	}
	if p, c := run(t, false); p != 422 || c != 422 {
		t.Fatalf("without the defect: pool %d, consume %d; want both 422", p, c)
	}
	if p, c := run(t, true); p != 201 || c != 422 {
		t.Fatalf("with the defect: pool %d, consume %d; want the pool created, consume still 422", p, c)
	}
}

// h14-history-limit-oldest: history is newest first (SPEC §4/§6) — with the defect a limit
// below the ledger size returns the oldest entries.
func TestDefectH14HistoryLimitOldest(t *testing.T) {
	run := func(t *testing.T, on bool) []int64 {
		e := openT(t, defectConfig(t, DefectH14HistoryLimitOldest, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for i := int64(1); i <= 5; i++ {
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: i * 1000}), 200)
		}
		entries, _, _, _, _ := e.History("a", 0, 2)
		var out []int64
		for _, le := range entries {
			out = append(out, le.AmountMilli)
		}
		return out
	}
	if got := run(t, false); len(got) != 2 || got[0] != -5000 || got[1] != -4000 {
		t.Fatalf("without the defect: %v; want the newest two (-5, -4)", got)
	}
	if got := run(t, true); len(got) != 2 || got[0] != -1000 || got[1] != 100_000 {
		t.Fatalf("with the defect: %v; want the oldest two (-1, +100)", got)
	}
}

// h14-mission-complete-unrounded-estimate: complete refunds estimate - actual (SPEC §5),
// the estimate being the consumed one, rounded to 0.1 — with the defect the unrounded
// estimate (5.25 instead of 5.3) is used, so completing at actual 1 refunds 4.25.
func TestDefectH14MissionCompleteUnroundedEstimate(t *testing.T) {
	run := func(t *testing.T, on bool) (start, end map[string]any, balance int64) {
		e := openT(t, defectConfig(t, DefectH14MissionCompleteUnroundedEstimate, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		start = mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "code_review", Complexity: "low"}), 201)
		actual := int64(1000)
		end = mustStatus(t, e.Mission("complete", Req{}, MissionIn{MissionID: "m1", ActualMilli: &actual}), 200)
		return start, end, balanceOf(e, "a")
	}
	s, c, bal := run(t, false)
	if s["estimated_cost"] != 5.3 || c["refund"] != 4.3 || bal != 99_000 {
		t.Fatalf("without the defect: estimate %v, refund %v, balance %d; want 5.3, 4.3, 99", s["estimated_cost"], c["refund"], bal)
	}
	s, c, bal = run(t, true)
	if s["estimated_cost"] != 5.3 || c["refund"] != 4.25 || bal != 98_950 {
		t.Fatalf("with the defect: estimate %v, refund %v, balance %d; want 5.3, 4.25, 98.95", s["estimated_cost"], c["refund"], bal)
	}
}

// h14karmaStub serves GET /v1/score/{id} -> {"score":0.8} and /healthz while up, 500 while down.
func h14karmaStub(t *testing.T, down *atomic.Bool, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(500)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/score/") {
			calls.Add(1)
		}
		w.Write([]byte(`{"score":0.8}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// h14-karma-fresh-cache-live: karma_source says where the score came from (SPEC §5) — with
// the defect a score reused from the fresh cache (KARMA not asked) is recorded as "live".
func TestDefectH14KarmaFreshCacheLive(t *testing.T) {
	run := func(t *testing.T, on bool) (first, second any, calls int64) {
		var down atomic.Bool
		var n atomic.Int64
		cfg := defectConfig(t, DefectH14KarmaFreshCacheLive, on)
		cfg.KarmaURL = h14karmaStub(t, &down, &n).URL
		e := openT(t, cfg)
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		r1 := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		r2 := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
		return r1["metadata"].(map[string]any)["karma_source"], r2["metadata"].(map[string]any)["karma_source"], n.Load()
	}
	f, s, n := run(t, false)
	if f != "live" || s != "cache" || n != 1 {
		t.Fatalf("without the defect: sources %v, %v after %d KARMA calls; want live then cache, 1 call", f, s, n)
	}
	f, s, n = run(t, true)
	if f != "live" || s != "live" || n != 1 {
		t.Fatalf("with the defect: sources %v, %v after %d KARMA calls; want live twice from 1 call", f, s, n)
	}
}

// h14-karma-recovery-needs-traffic: KARMA health recovers by itself after a blackout (SPEC
// §5) — with the defect a successful probe does not close the open breaker: it stays down
// until a credit operation asks KARMA again.
func TestDefectH14KarmaRecoveryNeedsTraffic(t *testing.T) {
	run := func(t *testing.T, on bool) (during, after KarmaStatus) {
		var down atomic.Bool
		var n atomic.Int64
		cfg := defectConfig(t, DefectH14KarmaRecoveryNeedsTraffic, on)
		cfg.KarmaURL = h14karmaStub(t, &down, &n).URL
		cfg.KarmaBreakerCooldown = time.Hour
		e := openT(t, cfg)
		defer e.Close()
		down.Store(true)
		for i := 0; i < 3; i++ {
			e.karma.score("a") // three failures open the breaker
		}
		during = e.karma.status()
		down.Store(false)
		e.karma.probe()
		return during, e.karma.status()
	}
	d, a := run(t, false)
	if d.Breaker != "open" || a.State != "healthy" || a.Breaker != "closed" {
		t.Fatalf("without the defect: during %s/%s, after a good probe %s/%s; want open, then healthy/closed", d.State, d.Breaker, a.State, a.Breaker)
	}
	d, a = run(t, true)
	if d.Breaker != "open" || a.State != "down" || a.Breaker != "open" {
		t.Fatalf("with the defect: during %s/%s, after a good probe %s/%s; want still down/open", d.State, d.Breaker, a.State, a.Breaker)
	}
}
