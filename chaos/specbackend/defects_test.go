package specbackend

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every defect test runs the same steps twice: without the defect (the SPEC's behaviour)
// and with it (the broken behaviour). It fails if the switch does nothing.

func defectConfig(t *testing.T, d Defect, on bool) Config {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	if on {
		cfg.Defects = Defects{d: true}
	}
	return cfg
}

func TestParseDefects(t *testing.T) {
	for _, s := range []string{"", "none", "  none ", " , "} {
		ds, err := ParseDefects(s)
		if err != nil || len(ds) != 0 || ds.String() != "none" {
			t.Fatalf("ParseDefects(%q) = %v, %v; want no defect", s, ds, err)
		}
	}
	ds, err := ParseDefects(" synergie-cap-overshoot, history-ring-boundary ")
	if err != nil || len(ds) != 2 || !ds.Has(DefectSynergieCapOvershoot) || !ds.Has(DefectHistoryRingBoundary) || ds.Has(DefectFourEyesFirstVote) {
		t.Fatalf("two names: %v, %v", ds, err)
	}
	if got := ds.String(); got != "synergie-cap-overshoot,history-ring-boundary" {
		t.Fatalf("String() = %q", got)
	}
	all, err := ParseDefects("all")
	if err != nil || len(all) != len(AllDefects) {
		t.Fatalf("all: %v, %v", all, err)
	}
	seen := map[Defect]bool{}
	for _, d := range AllDefects {
		if seen[d] || d == "" || d == "none" || d == "all" {
			t.Fatalf("bad or repeated defect name %q", d)
		}
		seen[d] = true
		one, err := ParseDefects(string(d))
		if err != nil || len(one) != 1 || !one.Has(d) {
			t.Fatalf("ParseDefects(%q) = %v, %v", d, one, err)
		}
	}
	if len(AllDefects) != 67 {
		t.Fatalf("%d defects, want 67", len(AllDefects))
	}
	_, err = ParseDefects("synergie-cap-overshoot,no-such-bug")
	if err == nil || !strings.Contains(err.Error(), `"no-such-bug"`) {
		t.Fatalf("unknown name accepted or not named: %v", err)
	}
	for _, d := range AllDefects {
		if !strings.Contains(err.Error(), string(d)) {
			t.Fatalf("error does not list the known defect %q: %v", d, err)
		}
	}
	var none Defects
	if none.Has(DefectFourEyesFirstVote) || DefaultConfig().Defects.Has(DefectFourEyesFirstVote) {
		t.Fatal("the zero Defects must switch nothing on")
	}
	if err := (Config{Defects: Defects{"no-such-bug": true}}).Validate(); err == nil {
		t.Fatal("Config.Validate accepts an unknown defect")
	}
	if err := (Config{Defects: all}).Validate(); err != nil {
		t.Fatalf("Config.Validate refuses known defects: %v", err)
	}
}

// idem-concurrent-duplicate: a second request with the same key, sent while the first
// waits for its fsync, is one event (SPEC §3) — with the defect it is a second debit.
func TestDefectIdemConcurrentDuplicate(t *testing.T) {
	run := func(t *testing.T, on bool) (first, second *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectIdemConcurrentDuplicate, on))
		defer e.Close()
		var armed atomic.Bool
		entered, release := make(chan struct{}, 1), make(chan struct{})
		e.j.syncHook = func() error { // set before the first append: no race with the writer
			if armed.CompareAndSwap(true, false) {
				entered <- struct{}{}
				<-release
			}
			return nil
		}
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 10_000}
		armed.Store(true)
		r1, r2 := make(chan *Response, 1), make(chan *Response, 1)
		go func() { r1 <- e.Consume(Req{Key: "dup"}, in) }()
		<-entered // the first consume's group commit waits for its fsync
		e.mu.Lock()
		seq := e.st.Seq
		e.mu.Unlock()
		go func() { r2 <- e.Consume(Req{Key: "dup"}, in) }()
		for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			e.mu.Lock()
			grew := e.st.Seq > seq
			e.mu.Unlock()
			if grew {
				break // the duplicate was decided and enqueued (defect)
			}
		}
		close(release)
		first, second = <-r1, <-r2
		return first, second, balanceOf(e, "a")
	}
	f, s, bal := run(t, false)
	if f.Status != 200 || s.Status != 200 || !s.Replayed || body(s)["event_id"] != body(f)["event_id"] || bal != 90_000 {
		t.Fatalf("without the defect: %d %d replayed=%v ids %v/%v balance %d; want one event, balance 90000",
			f.Status, s.Status, s.Replayed, body(f)["event_id"], body(s)["event_id"], bal)
	}
	f, s, bal = run(t, true)
	if f.Status != 200 || s.Status != 200 || s.Replayed || body(s)["event_id"] == body(f)["event_id"] || bal != 80_000 {
		t.Fatalf("with the defect: %d %d replayed=%v ids %v/%v balance %d; want two events, balance 80000",
			f.Status, s.Status, s.Replayed, body(f)["event_id"], body(s)["event_id"], bal)
	}
}

// buildJournal writes an agent and n consumes of 1 credit, closes, and returns the raw file.
func buildJournal(t *testing.T, cfg Config, n int) []byte {
	t.Helper()
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 0; i < n; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.JournalPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recovery-silent-duplicate: a duplicated line in the middle is quarantined and reported
// (SPEC §3) — with the defect it disappears without a trace.
func TestDefectRecoverySilentDuplicate(t *testing.T) {
	type outcome struct {
		quarantined int
		status      string
		health      string
		strictErr   error
		balance     int64
		qfile       bool
	}
	run := func(t *testing.T, on bool) outcome {
		cfg := defectConfig(t, DefectRecoverySilentDuplicate, on)
		raw := buildJournal(t, cfg, 8) // seq 1..10
		l := bytes.SplitAfter(raw, []byte("\n"))
		dup := bytes.Join(append(l[:5:5], append([][]byte{l[4]}, l[5:]...)...), nil) // line 5 twice
		if err := os.WriteFile(cfg.JournalPath, dup, 0o644); err != nil {
			t.Fatal(err)
		}
		var o outcome
		strict := cfg
		strict.Recovery = "strict"
		if e, err := Open(strict); err != nil {
			o.strictErr = err
		} else {
			e.Close()
			os.WriteFile(cfg.JournalPath, dup, 0o644) // strict repaired it: damage again
		}
		e := openT(t, cfg)
		defer e.Close()
		o.quarantined, o.status, o.balance = len(e.report.Quarantined), e.report.Status, balanceOf(e, "a")
		o.health, _, _ = e.Health()
		_, err := os.Stat(cfg.JournalPath + ".quarantine")
		o.qfile = err == nil
		return o
	}
	o := run(t, false)
	var re *RecoveryError
	if o.quarantined != 1 || o.status != "degraded" || o.health != "degraded" || !errors.As(o.strictErr, &re) || !o.qfile || o.balance != 92_000 {
		t.Fatalf("without the defect: %+v; want 1 quarantined, degraded, strict refuses, balance 92000", o)
	}
	o = run(t, true)
	if o.quarantined != 0 || o.status != "clean" || o.health != "ok" || o.strictErr != nil || o.qfile || o.balance != 92_000 {
		t.Fatalf("with the defect: %+v; want the duplicate dropped silently (clean, ok, strict starts), balance 92000", o)
	}
}

// recovery-newline-tail: a last line missing only its newline is a torn tail, cut into a
// sidecar; the next acknowledged append survives a restart (SPEC §3) — with the defect
// the line is kept, the next append is glued onto it and lost at the next start.
func TestDefectRecoveryNewlineTail(t *testing.T) {
	type outcome struct {
		torn          bool
		lastSeq       int64
		ackedFound    bool
		secondTorn    bool
		balanceBefore int64
		balanceAfter  int64
	}
	run := func(t *testing.T, on bool) outcome {
		cfg := defectConfig(t, DefectRecoveryNewlineTail, on)
		raw := buildJournal(t, cfg, 3) // seq 1..5, balance 97
		// torn exactly at the newline: the last line is complete but for its '\n'
		if err := os.WriteFile(cfg.JournalPath, raw[:len(raw)-1], 0o644); err != nil {
			t.Fatal(err)
		}
		var o outcome
		e := openT(t, cfg)
		o.torn, o.lastSeq = e.report.TornTail != nil, e.report.LastSeq
		r := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 5000}), 200) // acknowledged
		o.balanceBefore = balanceOf(e, "a")
		e.Close()
		e = openT(t, cfg)
		defer e.Close()
		o.secondTorn, o.balanceAfter = e.report.TornTail != nil, balanceOf(e, "a")
		evs, err := e.j.readEvents(o.lastSeq+1, 1)
		o.ackedFound = err == nil && evs[0].EventID == r["event_id"]
		return o
	}
	o := run(t, false)
	if !o.torn || o.lastSeq != 4 || !o.ackedFound || o.secondTorn || o.balanceAfter != o.balanceBefore || o.balanceAfter != 93_000 {
		t.Fatalf("without the defect: %+v; want the tail cut (last seq 4) and the acknowledged consume kept", o)
	}
	o = run(t, true)
	if o.torn || o.lastSeq != 5 || o.ackedFound || !o.secondTorn || o.balanceAfter == o.balanceBefore {
		t.Fatalf("with the defect: %+v; want the tail kept (last seq 5) and the acknowledged consume lost at the next start", o)
	}
}

// four-eyes-first-vote: the requester of a CRITICAL request may not approve it (SPEC §5) —
// with the defect the requester casts the first of the two votes.
func TestDefectFourEyesFirstVote(t *testing.T) {
	run := func(t *testing.T, on bool) (medium, selfVote, other map[string]any) {
		e := openT(t, defectConfig(t, DefectFourEyesFirstVote, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		med := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)
		medium = body(e.Decide(Req{Actor: "alice"}, DecisionIn{RequestID: med["request_id"].(string), Approve: true}))
		crit := mustStatus(t, e.RequestApproval(Req{Actor: "alice"}, ApprovalIn{ActionType: "add", AgentID: "a", AmountMilli: 60_000_000, Justification: "budget"}), 202)
		id := crit["request_id"].(string)
		selfVote = body(e.Decide(Req{Actor: "alice"}, DecisionIn{RequestID: id, Approve: true}))
		other = body(e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true}))
		return
	}
	med, self, other := run(t, false)
	if med["code"] != "four_eyes_violation" || self["code"] != "four_eyes_violation" || other["status"] != "pending" {
		t.Fatalf("without the defect: medium %v, self vote %v, bob %v; want both self decisions refused, bob's vote pending", med, self, other)
	}
	med, self, other = run(t, true)
	if med["code"] != "four_eyes_violation" || self["status"] != "pending" || other["status"] != "approved" {
		t.Fatalf("with the defect: medium %v, self vote %v, bob %v; want the requester's CRITICAL vote counted and bob completing it", med, self, other)
	}
	if ap, _ := other["approvers"].([]any); len(ap) != 2 || ap[0] != "alice" {
		t.Fatalf("with the defect: approvers %v; want the requester among them", other["approvers"])
	}
}

// mission-fail-zero-percent: failing with refund_percentage 0 refunds nothing (SPEC §5) —
// with the defect it refunds the whole estimate.
func TestDefectMissionFailZeroPercent(t *testing.T) {
	run := func(t *testing.T, on bool) (zero, half map[string]any) {
		e := openT(t, defectConfig(t, DefectMissionFailZeroPercent, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for _, m := range []string{"m0", "m5"} {
			if b := mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: m, AgentID: "a", MissionType: "general", Complexity: "medium"}), 201); b["estimated_cost"] != 7.0 {
				t.Fatalf("estimate %v", b["estimated_cost"])
			}
		}
		z, h := int64(0), int64(500_000)
		zero = mustStatus(t, e.Mission("fail", Req{}, MissionIn{MissionID: "m0", RefundPPM: &z}), 200)
		half = mustStatus(t, e.Mission("fail", Req{}, MissionIn{MissionID: "m5", RefundPPM: &h}), 200)
		return
	}
	zero, half := run(t, false)
	if zero["refund"] != 0.0 || zero["balance_after"] != nil || half["refund"] != 3.5 {
		t.Fatalf("without the defect: 0%% -> %v, 50%% -> %v; want refunds 0 and 3.5", zero, half)
	}
	zero, half = run(t, true)
	if zero["refund"] != 7.0 || zero["balance_after"] != 93.0 || half["refund"] != 3.5 {
		t.Fatalf("with the defect: 0%% -> %v, 50%% -> %v; want refunds 7 (full) and 3.5", zero, half)
	}
}

// synergie-cap-overshoot: no agent earns more than the cap per team (SPEC §5) — with the
// defect the reward that crosses the cap is paid in full.
func TestDefectSynergieCapOvershoot(t *testing.T) {
	run := func(t *testing.T, on bool) (x, y synTotals) {
		e := openT(t, defectConfig(t, DefectSynergieCapOvershoot, on))
		defer e.Close()
		for _, id := range []string{"x", "y"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id}), 200)
		}
		// fallback CI 0.5 -> weight 1: x earns 50 per collaboration (exactly 500 after 10),
		// y earns 35 (490 after 14; the 15th crosses the cap)
		for i := 0; i < 16; i++ {
			mustStatus(t, e.RecordCollaboration(Req{}, CollabIn{CollaborationID: "c" + string(rune('a'+i)), TeamID: "alpha", AgentIDs: []string{"x", "y"},
				Contrib: map[string]int64{"x": 1_000_000, "y": 700_000}}), 200)
		}
		e.view(func(st *State) { x, y = *st.Synergie["x"]["alpha"], *st.Synergie["y"]["alpha"] })
		if bal := balanceOf(e, "y"); bal != y.GrantedMilli {
			t.Fatalf("y balance %d != granted %d", bal, y.GrantedMilli)
		}
		return
	}
	x, y := run(t, false)
	if x.GrantedMilli != 500_000 || y.GrantedMilli != 500_000 || y.CappedMilli != 25_000+35_000 {
		t.Fatalf("without the defect: x %+v y %+v; want both at exactly 500, y capped 60", x, y)
	}
	x, y = run(t, true)
	if x.GrantedMilli != 500_000 || y.GrantedMilli != 525_000 || y.CappedMilli != 35_000 {
		t.Fatalf("with the defect: x %+v y %+v; want x at 500, y at 525 (over the cap)", x, y)
	}
}

// anomaly-ratio-exclusive: a consume of exactly 10x the running mean is flagged (SPEC §5,
// §8 scenario 5) — with the defect it is not (11x still is).
func TestDefectAnomalyRatioExclusive(t *testing.T) {
	run := func(t *testing.T, on bool) (at10, at11 any) {
		e := openT(t, defectConfig(t, DefectAnomalyRatioExclusive, on))
		defer e.Close()
		// two agents with the same constant norm of 1 credit (so the z-score rule cannot fire)
		for _, id := range []string{"a", "b"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id, SkillPPM: 1_000_000}), 200)
			for i := 0; i < 6; i++ {
				mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: id, AmountMilli: 1000}), 200)
			}
		}
		md := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 10_000}), 200)["metadata"].(map[string]any)
		at10 = md["anomaly_detected"]
		md = mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "b", AmountMilli: 11_000}), 200)["metadata"].(map[string]any)
		at11 = md["anomaly_detected"]
		return
	}
	if a, b := run(t, false); a != true || b != true {
		t.Fatalf("without the defect: 10x flagged %v, 11x flagged %v; want both", a, b)
	}
	if a, b := run(t, true); a != false || b != true {
		t.Fatalf("with the defect: 10x flagged %v, 11x flagged %v; want only 11x", a, b)
	}
}

// history-ring-boundary: GET /history lists every ledger entry once, also past the
// in-memory ring (SPEC §4, §6) — with the defect the ring's oldest entry appears twice
// and the ledger's oldest entry is missing.
func TestDefectHistoryRingBoundary(t *testing.T) {
	run := func(t *testing.T, on bool) (ids []string, firstID string, small int) {
		cfg := defectConfig(t, DefectHistoryRingBoundary, on)
		cfg.LedgerKeep = 4
		e := openT(t, cfg)
		defer e.Close()
		firstID = mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)["event_id"].(string)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "b", SkillPPM: 1_000_000}), 200)
		for i := 1; i <= 9; i++ { // a: 10 ledger entries, b: 3 (within the ring)
			mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: int64(i)}), 200)
		}
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "b", AmountMilli: 1}), 200)
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "b", AmountMilli: 1}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		get := func(id string) map[string]any {
			resp, err := http.Get(srv.URL + "/api/credits/history/" + id + "?limit=100")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return m
		}
		m := get("a")
		if m["total_entries"] != 10.0 {
			t.Fatalf("total_entries %v", m["total_entries"])
		}
		for _, h := range m["history"].([]any) {
			ids = append(ids, h.(map[string]any)["event_id"].(string))
		}
		return ids, firstID, len(get("b")["history"].([]any))
	}
	distinct := func(ids []string) int {
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		return len(seen)
	}
	ids, first, small := run(t, false)
	if len(ids) != 10 || distinct(ids) != 10 || ids[9] != first || small != 3 {
		t.Fatalf("without the defect: %d entries, %d distinct, oldest is the allocation %v, b %d", len(ids), distinct(ids), ids[len(ids)-1] == first, small)
	}
	ids, first, small = run(t, true)
	if len(ids) != 10 || distinct(ids) != 9 || ids[4] != ids[3] || ids[9] == first || small != 3 {
		t.Fatalf("with the defect: %d entries, %d distinct, oldest is the allocation %v, b %d; want the ring's oldest twice and the allocation missing",
			len(ids), distinct(ids), ids[len(ids)-1] == first, small)
	}
}

// h7-pool-former-member-consume: pool consume is by members only (SPEC §5) — with the
// defect an agent removed from the pool still consumes; one never added is still refused.
func TestDefectH7PoolFormerMemberConsume(t *testing.T) {
	run := func(t *testing.T, on bool) (removed, stranger *Response) {
		e := openT(t, defectConfig(t, DefectH7PoolFormerMemberConsume, on))
		defer e.Close()
		for _, id := range []string{"a", "b"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id, SkillPPM: 500_000}), 200)
		}
		mustStatus(t, e.Pool("create", Req{}, PoolIn{PoolID: "p"}), 201)
		mustStatus(t, e.Pool("add_member", Req{}, PoolIn{PoolID: "p", AgentID: "a"}), 200)
		mustStatus(t, e.Pool("allocate", Req{}, PoolIn{PoolID: "p", AmountMilli: 100_000}), 200)
		mustStatus(t, e.Pool("consume", Req{}, PoolIn{PoolID: "p", AgentID: "a", AmountMilli: 10_000}), 200)
		mustStatus(t, e.Pool("remove_member", Req{}, PoolIn{PoolID: "p", AgentID: "a"}), 200)
		return e.Pool("consume", Req{}, PoolIn{PoolID: "p", AgentID: "a", AmountMilli: 10_000}),
			e.Pool("consume", Req{}, PoolIn{PoolID: "p", AgentID: "b", AmountMilli: 10_000})
	}
	removed, stranger := run(t, false)
	if removed.Status != 403 || stranger.Status != 403 {
		t.Fatalf("without the defect: removed member %d, stranger %d; want both 403", removed.Status, stranger.Status)
	}
	removed, stranger = run(t, true)
	if removed.Status != 200 || body(removed)["balance"] != 80.0 || stranger.Status != 403 {
		t.Fatalf("with the defect: removed member %d %v, stranger %d; want the removed member served (pool 80), the stranger refused",
			removed.Status, body(removed), stranger.Status)
	}
}

// h7-mission-zero-refund-reopen: a completed mission is finished (SPEC §5: complete refunds
// estimate − actual only if positive) — with the defect a completion that refunded nothing
// leaves the mission open to a cancel that refunds the estimate.
func TestDefectH7MissionZeroRefundReopen(t *testing.T) {
	run := func(t *testing.T, on bool) (zeroThenCancel, partThenCancel *Response) {
		e := openT(t, defectConfig(t, DefectH7MissionZeroRefundReopen, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		for _, m := range []string{"m0", "m1"} {
			mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: m, AgentID: "a", MissionType: "general", Complexity: "medium"}), 201)
		}
		est, one := int64(7_000), int64(1_000)
		mustStatus(t, e.Mission("complete", Req{}, MissionIn{MissionID: "m0", ActualMilli: &est}), 200)
		mustStatus(t, e.Mission("complete", Req{}, MissionIn{MissionID: "m1", ActualMilli: &one}), 200)
		return e.Mission("cancel", Req{}, MissionIn{MissionID: "m0"}), e.Mission("cancel", Req{}, MissionIn{MissionID: "m1"})
	}
	zero, part := run(t, false)
	if zero.Status != 409 || part.Status != 409 {
		t.Fatalf("without the defect: cancel after complete %d / %d; want both 409 mission_finished", zero.Status, part.Status)
	}
	zero, part = run(t, true)
	if zero.Status != 200 || body(zero)["refund"] != 7.0 || part.Status != 409 {
		t.Fatalf("with the defect: cancel after a zero-refund complete %d %v, after a refunding complete %d; want the first refunding 7",
			zero.Status, body(zero), part.Status)
	}
}

// h7-collab-dedup-lost-on-restart: a duplicate collaboration_id is idempotent (SPEC §5) —
// with the defect it is paid again once the backend has restarted.
func TestDefectH7CollabDedupLostOnRestart(t *testing.T) {
	in := CollabIn{CollaborationID: "c", TeamID: "t", AgentIDs: []string{"x", "y"}, Contrib: map[string]int64{"x": 500_000, "y": 500_000}}
	run := func(t *testing.T, on bool) (before, after *Response, balance int64) {
		cfg := defectConfig(t, DefectH7CollabDedupLostOnRestart, on)
		e := openT(t, cfg)
		for _, id := range []string{"x", "y"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id}), 200)
		}
		mustStatus(t, e.RecordCollaboration(Req{}, in), 200)
		before = e.RecordCollaboration(Req{}, in)
		e.Close()
		e = openT(t, cfg)
		defer e.Close()
		after = e.RecordCollaboration(Req{}, in)
		e.view(func(st *State) { balance = st.Agents["x"].BalanceMilli })
		return
	}
	before, after, bal := run(t, false)
	if !before.Replayed || !after.Replayed || bal != 25_000 {
		t.Fatalf("without the defect: replayed before %v, after restart %v, balance %d; want both replayed, 25 credits", before.Replayed, after.Replayed, bal)
	}
	before, after, bal = run(t, true)
	if !before.Replayed || after.Replayed || after.Status != 200 || bal != 50_000 {
		t.Fatalf("with the defect: replayed before %v, after restart %v (%d), balance %d; want the restart duplicate paid again (50)", before.Replayed, after.Replayed, after.Status, bal)
	}
}

// h7-approval-reject-not-final: the first terminal decision wins (SPEC §5) — with the
// defect a rejected request can still be approved, and the action executes.
func TestDefectH7ApprovalRejectNotFinal(t *testing.T) {
	run := func(t *testing.T, on bool) (late map[string]any, status int, balance int64) {
		e := openT(t, defectConfig(t, DefectH7ApprovalRejectNotFinal, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		id := mustStatus(t, e.Add(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 600_000}), 202)["request_id"].(string)
		mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id}), 200)
		r := e.Decide(Req{Actor: "carol"}, DecisionIn{RequestID: id, Approve: true})
		e.view(func(st *State) { balance = st.Agents["a"].BalanceMilli })
		return body(r), r.Status, balance
	}
	late, st, bal := run(t, false)
	if st != 409 || late["code"] != "already_decided" || bal != 100_000 {
		t.Fatalf("without the defect: approve after reject %d %v, balance %d; want 409 already_decided, 100", st, late, bal)
	}
	late, st, bal = run(t, true)
	if st != 200 || late["status"] != "approved" || bal != 700_000 {
		t.Fatalf("with the defect: approve after reject %d %v, balance %d; want approved and executed (700)", st, late, bal)
	}
}

// h7-events-index-round-up: GET /events?after_seq=N serves every event after N (SPEC §6) —
// with the defect an N that is not a multiple of 8 skips up to the next multiple of 8.
func TestDefectH7EventsIndexRoundUp(t *testing.T) {
	run := func(t *testing.T, on bool) (at0, at3, at8 []int64) {
		e := openT(t, defectConfig(t, DefectH7EventsIndexRoundUp, on))
		defer e.Close()
		for i := 0; i < 12; i++ {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a" + string(rune('a'+i)), SkillPPM: 500_000}), 200)
		}
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		seqs := func(after string) []int64 {
			resp, err := http.Get(srv.URL + "/api/credits/events?limit=3&after_seq=" + after)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out []int64
			dec := json.NewDecoder(resp.Body)
			for {
				var ev struct{ Seq int64 }
				if dec.Decode(&ev) != nil {
					return out
				}
				out = append(out, ev.Seq)
			}
		}
		return seqs("0"), seqs("3"), seqs("8")
	}
	at0, at3, at8 := run(t, false)
	if len(at0) != 3 || at0[0] != 1 || len(at3) != 3 || at3[0] != 4 || len(at8) != 3 || at8[0] != 9 {
		t.Fatalf("without the defect: after 0 %v, 3 %v, 8 %v", at0, at3, at8)
	}
	at0, at3, at8 = run(t, true)
	if len(at0) != 3 || at0[0] != 1 || len(at3) != 3 || at3[0] != 9 || len(at8) != 3 || at8[0] != 9 {
		t.Fatalf("with the defect: after 0 %v, 3 %v, 8 %v; want after 3 to start at 9", at0, at3, at8)
	}
}

// defectPost sends a JSON POST to srv (with header name/value pairs) and decodes the answer.
func defectPost(t *testing.T, srv *httptest.Server, path, b string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+"/api/credits"+path, strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
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

// h9-critical-bound-exclusive: CRITICAL from 50,000 credits, 2 distinct approvers (SPEC §5) —
// with the defect exactly 50,000 is HIGH and one approval executes it; 60,000 is still CRITICAL.
func TestDefectH9CriticalBoundExclusive(t *testing.T) {
	run := func(t *testing.T, on bool) (at50k, at60k, vote map[string]any, balance int64) {
		e := openT(t, defectConfig(t, DefectH9CriticalBoundExclusive, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 500_000}), 200)
		at50k = mustStatus(t, e.RequestApproval(Req{Actor: "alice"}, ApprovalIn{ActionType: "add", AgentID: "a", AmountMilli: 50_000_000, Justification: "budget"}), 202)
		at60k = mustStatus(t, e.RequestApproval(Req{Actor: "alice"}, ApprovalIn{ActionType: "add", AgentID: "a", AmountMilli: 60_000_000, Justification: "budget"}), 202)
		vote = mustStatus(t, e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: at50k["request_id"].(string), Approve: true}), 200)
		return at50k, at60k, vote, balanceOf(e, "a")
	}
	at50k, at60k, vote, bal := run(t, false)
	if at50k["risk_level"] != "CRITICAL" || at50k["required_approvals"] != 2.0 || at60k["risk_level"] != "CRITICAL" || vote["status"] != "pending" || bal != 50_000 {
		t.Fatalf("without the defect: 50000 %v/%v, 60000 %v, first approval %v, balance %d; want both CRITICAL (2 approvers), the vote pending, 50",
			at50k["risk_level"], at50k["required_approvals"], at60k["risk_level"], vote["status"], bal)
	}
	at50k, at60k, vote, bal = run(t, true)
	if at50k["risk_level"] != "HIGH" || at50k["required_approvals"] != 1.0 || at60k["risk_level"] != "CRITICAL" || vote["status"] != "approved" || bal != 50_050_000 {
		t.Fatalf("with the defect: 50000 %v/%v, 60000 %v, first approval %v, balance %d; want 50000 HIGH (1 approver) executed by one vote, 60000 CRITICAL",
			at50k["risk_level"], at50k["required_approvals"], at60k["risk_level"], vote["status"], bal)
	}
}

// h9-withdraw-approval-no-recheck: a withdrawal never overdraws, also when its approval
// executes (SPEC §4, §5) — with the defect credits consumed while it was pending let it
// drive the balance negative.
func TestDefectH9WithdrawApprovalNoRecheck(t *testing.T) {
	run := func(t *testing.T, on bool) (approve *Response, status any, balance int64) {
		e := openT(t, defectConfig(t, DefectH9WithdrawApprovalNoRecheck, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		mustStatus(t, e.Refund(Req{}, MoneyIn{AgentID: "a", AmountMilli: 400_000}), 200) // balance 500
		id := mustStatus(t, e.Withdraw(Req{Actor: "alice"}, MoneyIn{AgentID: "a", AmountMilli: 500_000}), 202)["request_id"].(string)
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 100_000}), 200)
		approve = e.Decide(Req{Actor: "bob"}, DecisionIn{RequestID: id, Approve: true})
		e.view(func(st *State) { status = st.Approvals[id].Status })
		return approve, status, balanceOf(e, "a")
	}
	r, st, bal := run(t, false)
	if r.Status != 409 || body(r)["code"] != "insufficient_credits" || st != "pending" || bal != 400_000 {
		t.Fatalf("without the defect: approve %d %v, request %v, balance %d; want 409 insufficient_credits, still pending, 400", r.Status, body(r), st, bal)
	}
	r, st, bal = run(t, true)
	if r.Status != 200 || body(r)["balance_after"] != -100.0 || st != "approved" || bal != -100_000 {
		t.Fatalf("with the defect: approve %d %v, request %v, balance %d; want the withdrawal executed to -100", r.Status, body(r), st, bal)
	}
}

// h9-key-index-reused-at-start: idempotency keys survive restarts, rebuilt from the journal
// (SPEC §3) — with the defect the key index file of the last run is reused, so the last
// keyed command before the restart (not yet moved to that file) executes again on retry.
func TestDefectH9KeyIndexReusedAtStart(t *testing.T) {
	run := func(t *testing.T, on bool) (k0, k1 *Response, id0, id1 any, balance int64) {
		cfg := defectConfig(t, DefectH9KeyIndexReusedAtStart, on)
		cfg.KeyIndexSlots = 1024 // the smallest table: keeps the restarts fast
		e := openT(t, cfg)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		in := MoneyIn{AgentID: "a", AmountMilli: 1000}
		id0 = mustStatus(t, e.Consume(Req{Key: "k0"}, in), 200)["event_id"]
		id1 = mustStatus(t, e.Consume(Req{Key: "k1"}, in), 200)["event_id"] // moves k0 to the key index file
		e.Close()
		e = openT(t, cfg)
		defer e.Close()
		k0, k1 = e.Consume(Req{Key: "k0"}, in), e.Consume(Req{Key: "k1"}, in)
		return k0, k1, id0, id1, balanceOf(e, "a")
	}
	k0, k1, id0, id1, bal := run(t, false)
	if !k0.Replayed || body(k0)["event_id"] != id0 || !k1.Replayed || body(k1)["event_id"] != id1 || bal != 98_000 {
		t.Fatalf("without the defect: k0 replayed %v, k1 replayed %v (%v), balance %d; want both retries replayed, 98", k0.Replayed, k1.Replayed, body(k1), bal)
	}
	k0, k1, id0, id1, bal = run(t, true)
	if !k0.Replayed || body(k0)["event_id"] != id0 || k1.Replayed || k1.Status != 200 || body(k1)["event_id"] == id1 || bal != 97_000 {
		t.Fatalf("with the defect: k0 replayed %v, k1 replayed %v (%d %v), balance %d; want k0 replayed, k1 executed again (97)", k0.Replayed, k1.Replayed, k1.Status, body(k1), bal)
	}
}

// h9-amount-exponent-decimals: an amount with more than 3 decimals is 422, also in
// exponent notation (SPEC §1) — with the defect 12345e-4 (1.2345) is accepted as 1.234;
// 1.2345 is still refused and 1234e-3 still accepted.
func TestDefectH9AmountExponentDecimals(t *testing.T) {
	type answer struct {
		status int
		field  any
		amount any
	}
	run := func(t *testing.T, on bool) (exp, plain, exact answer, balance int64) {
		e := openT(t, defectConfig(t, DefectH9AmountExponentDecimals, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		consume := func(amount string) answer {
			s, m := defectPost(t, srv, "/consume", `{"agent_id":"a","amount":`+amount+`}`)
			return answer{s, m["field"], m["amount"]}
		}
		return consume("12345e-4"), consume("1.2345"), consume("1234e-3"), balanceOf(e, "a")
	}
	exp, plain, exact, bal := run(t, false)
	if exp.status != 422 || exp.field != "amount" || plain.status != 422 || exact.status != 200 || exact.amount != 1.234 || bal != 98_766 {
		t.Fatalf("without the defect: 12345e-4 %+v, 1.2345 %+v, 1234e-3 %+v, balance %d; want 422 (amount), 422, 200 1.234", exp, plain, exact, bal)
	}
	exp, plain, exact, bal = run(t, true)
	if exp.status != 200 || exp.amount != 1.234 || plain.status != 422 || exact.status != 200 || exact.amount != 1.234 || bal != 97_532 {
		t.Fatalf("with the defect: 12345e-4 %+v, 1.2345 %+v, 1234e-3 %+v, balance %d; want 12345e-4 accepted as 1.234, 1.2345 refused", exp, plain, exact, bal)
	}
}

// h9-synergie-team-dup-agents: a team of fewer than 2 distinct agents is 422 (SPEC §5) —
// with the defect one agent listed twice is recorded and rewarded; one agent listed once
// is still refused.
func TestDefectH9SynergieTeamDupAgents(t *testing.T) {
	run := func(t *testing.T, on bool) (dupStatus int, dup map[string]any, single int, balance int64) {
		e := openT(t, defectConfig(t, DefectH9SynergieTeamDupAgents, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a1", SkillPPM: 1_000_000}), 200)
		srv := httptest.NewServer(NewServer(e, ServerConfig{}))
		defer srv.Close()
		dupStatus, dup = defectPost(t, srv, "/synergie/collaborations", `{"collaboration_id":"c1","team_id":"t","agent_ids":["a1","a1"],"contribution_scores":{"a1":1}}`)
		single, _ = defectPost(t, srv, "/synergie/collaborations", `{"collaboration_id":"c2","team_id":"t","agent_ids":["a1"],"contribution_scores":{"a1":1}}`)
		return dupStatus, dup, single, balanceOf(e, "a1")
	}
	ds, dup, single, bal := run(t, false)
	if ds != 422 || dup["field"] != "agent_ids" || single != 422 || bal != 100_000 {
		t.Fatalf("without the defect: [a1,a1] %d %v, [a1] %d, balance %d; want both 422 naming agent_ids, nothing paid", ds, dup, single, bal)
	}
	ds, dup, single, bal = run(t, true)
	if ds != 200 || dup["total_rewarded"] != 50.0 || single != 422 || bal != 150_000 {
		t.Fatalf("with the defect: [a1,a1] %d %v, [a1] %d, balance %d; want the one-agent team recorded and rewarded 50, [a1] still 422", ds, dup, single, bal)
	}
}

// h9-service-role-decides: decisions need approver or admin, 403 otherwise (SPEC §6) —
// with the defect a service token approves (and the action executes); an operator is
// still refused.
func TestDefectH9ServiceRoleDecides(t *testing.T) {
	run := func(t *testing.T, on bool) (operator, service int, svc map[string]any, balance int64) {
		e := openT(t, defectConfig(t, DefectH9ServiceRoleDecides, on))
		defer e.Close()
		tokens, err := ParseTokens("op=opr:operator,svc=svc1:service,ap=apr:approver")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(NewServer(e, ServerConfig{Tokens: tokens}))
		defer srv.Close()
		if s, m := defectPost(t, srv, "/agents", `{"agent_id":"a1","skill_level":1}`, "Authorization", "Bearer op"); s != 200 {
			t.Fatalf("create %d %v", s, m)
		}
		s, m := defectPost(t, srv, "/add", `{"agent_id":"a1","amount":600}`, "Authorization", "Bearer op")
		if s != 202 {
			t.Fatalf("add %d %v", s, m)
		}
		id, _ := m["request_id"].(string)
		operator, _ = defectPost(t, srv, "/approvals/"+id+"/approve", `{}`, "Authorization", "Bearer op")
		service, svc = defectPost(t, srv, "/approvals/"+id+"/approve", `{}`, "Authorization", "Bearer svc")
		return operator, service, svc, balanceOf(e, "a1")
	}
	op, svc, m, bal := run(t, false)
	if op != 403 || svc != 403 || m["code"] != "forbidden" || bal != 100_000 {
		t.Fatalf("without the defect: operator %d, service %d %v, balance %d; want both 403 forbidden, 100", op, svc, m, bal)
	}
	op, svc, m, bal = run(t, true)
	if op != 403 || svc != 200 || m["status"] != "approved" || bal != 700_000 {
		t.Fatalf("with the defect: operator %d, service %d %v, balance %d; want the operator refused, the service approving and executing (700)", op, svc, m, bal)
	}
}

// h9-mission-estimate-truncated: the mission estimate is rounded to 0.1 (SPEC §5) — with
// the defect it is truncated: 3.95 is 3.9 instead of 4.0; an exact 7.0 is unaffected.
func TestDefectH9MissionEstimateTruncated(t *testing.T) {
	run := func(t *testing.T, on bool) (half, exact any, balance int64) {
		e := openT(t, defectConfig(t, DefectH9MissionEstimateTruncated, on))
		defer e.Close()
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 700_000}), 200) // 70 credits
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "b", SkillPPM: 1_000_000}), 200)
		half = mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "low"}), 201)["estimated_cost"]
		exact = mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m2", AgentID: "b", MissionType: "general", Complexity: "medium"}), 201)["estimated_cost"]
		return half, exact, balanceOf(e, "a")
	}
	half, exact, bal := run(t, false)
	if half != 4.0 || exact != 7.0 || bal != 66_000 {
		t.Fatalf("without the defect: 10 x 0.5 x 0.79 -> %v, 7.0 -> %v, balance %d; want 4.0 (rounded), 7.0, 66", half, exact, bal)
	}
	half, exact, bal = run(t, true)
	if half != 3.9 || exact != 7.0 || bal != 66_100 {
		t.Fatalf("with the defect: 10 x 0.5 x 0.79 -> %v, 7.0 -> %v, balance %d; want 3.9 (truncated), 7.0, 66.1", half, exact, bal)
	}
}
