package specbackend

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func balanceOf(e *Engine, id string) int64 {
	var b int64 = -1
	e.view(func(st *State) {
		if a := st.Agents[id]; a != nil {
			b = a.BalanceMilli
		}
	})
	return b
}

// 1. Reads and refusals answer from durable state only; a failed group commit leaves
// nothing behind (no read, no refusal, no remembered key).
func TestReadsAndRefusalsWaitForDurabilityAndFailedBatchLeavesNothing(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200) // 100 credits
	entered, release := make(chan struct{}, 16), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // a failing check must not leave the writer blocked
	e.j.syncHook = func() error {
		entered <- struct{}{}
		<-release
		return errors.New("injected EIO")
	}
	in := MoneyIn{AgentID: "a", AmountMilli: 80_000}
	first := make(chan *Response, 1)
	go func() { first <- e.Consume(Req{Key: "k1"}, in) }()
	<-entered // the batch with the debit is waiting for its fdatasync
	if b := balanceOf(e, "a"); b != 100_000 {
		t.Fatalf("read shows non-durable state: balance %d, want 100000", b)
	}
	refused := make(chan *Response, 1)
	go func() { refused <- e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 50_000}) }()
	select {
	case r := <-refused:
		t.Fatalf("refusal answered before the state it rests on was durable: %d %v", r.Status, body(r))
	case <-time.After(150 * time.Millisecond):
	}
	free()
	if r := <-first; r.Status != 503 {
		t.Fatalf("failed batch answered %d", r.Status)
	}
	if r := <-refused; r.Status != 503 {
		t.Fatalf("refusal decided on the failed batch answered %d %v, want 503", r.Status, body(r))
	}
	if b := balanceOf(e, "a"); b != 100_000 {
		t.Fatalf("read keeps the failed batch: balance %d", b)
	}
	e.mu.Lock()
	_, kept := e.inflight["k1"]
	e.mu.Unlock()
	if kept {
		t.Fatal("key of a failed command is still remembered")
	}
	if r := e.Consume(Req{Key: "k1"}, in); r.Status == 200 || r.Replayed {
		t.Fatalf("retry of a failed key replayed as success: %d", r.Status)
	}
}

// 2. The recovery rewrite and the torn-tail cut make the new state durable first.
func TestRecoveryRewriteIsDurableBeforeItReplacesTheJournal(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 0; i < 40; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1000}), 200)
	}
	e.Close()
	raw, _ := os.ReadFile(cfg.JournalPath)
	lines := strings.SplitAfter(string(raw), "\n")
	damaged := strings.Join(lines[:20], "") + "garbage\n" + strings.Join(lines[20:], "")
	os.WriteFile(cfg.JournalPath, []byte(damaged), 0o644)

	var ops []string
	fsHook = func(op, path string) error { ops = append(ops, op+" "+filepath.Base(path)); return nil }
	defer func() { fsHook = nil }()
	e = openT(t, cfg)
	if b := balanceOf(e, "a"); b != 60_000 {
		t.Fatalf("balance %d after quarantine", b)
	}
	e.Close()
	idx := func(want string) int {
		for i, o := range ops {
			if o == want {
				return i
			}
		}
		return -1
	}
	base := filepath.Base(cfg.JournalPath)
	fs, rn := idx("fsync "+base+".rewrite"), idx("rename "+base)
	dirSync := -1
	for i := rn + 1; rn >= 0 && i < len(ops); i++ {
		if ops[i] == "fsyncdir "+filepath.Base(dir) {
			dirSync = i
			break
		}
	}
	if fs < 0 || rn < 0 || dirSync < 0 || !(fs < rn && rn < dirSync) {
		t.Fatalf("rewrite must fsync the new file, rename, then fsync the directory: %v", ops)
	}

	// torn tail: the sidecar is durable before the journal is cut
	f, _ := os.OpenFile(cfg.JournalPath, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":99,"event_id":"x`)
	f.Close()
	ops = nil
	e = openT(t, cfg)
	side := filepath.Base(e.report.TornTail.Sidecar)
	e.Close()
	fsSide, cut := idx("fsync "+side), idx("truncate "+base)
	if fsSide < 0 || cut < 0 || fsSide > cut {
		t.Fatalf("torn sidecar must be fsynced before the cut: %v", ops)
	}
}

// 3. A full disk does not stop the start: reads work, writes are 503, journal failed.
func TestStartsOnAFullDiskReadOnly(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	in := MoneyIn{AgentID: "a", AmountMilli: 1000}
	first := mustStatus(t, e.Consume(Req{Key: "k1"}, in), 200)
	e.Close()
	f, _ := os.OpenFile(cfg.JournalPath, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"event_id":"partial`) // what a write hitting ENOSPC leaves
	f.Close()

	fsHook = func(op, path string) error {
		if op == "write" {
			return syscall.ENOSPC
		}
		return nil
	}
	e, err := Open(cfg)
	fsHook = nil
	if err != nil {
		t.Fatalf("start on a full disk failed: %v", err)
	}
	if b := balanceOf(e, "a"); b != 99_000 {
		t.Fatalf("balance %d", b)
	}
	if r := e.Consume(Req{}, in); r.Status != 503 {
		t.Fatalf("write on a read-only journal answered %d", r.Status)
	}
	if r := e.Consume(Req{Key: "k1"}, in); r.Status != 200 || !r.Replayed || body(r)["event_id"] != first["event_id"] {
		t.Fatalf("keyed retry not replayed: %d %v", r.Status, body(r))
	}
	if _, j, _ := e.Health(); j != "failed" {
		t.Fatalf("journal health %q, want failed", j)
	}
	e.Close()
	e = openT(t, cfg) // space again: the repair happens now
	defer e.Close()
	if e.report.TornTail == nil || e.j.stickyErr() != nil {
		t.Fatalf("repair after the disk freed up: torn %v err %v", e.report.TornTail, e.j.stickyErr())
	}
	mustStatus(t, e.Consume(Req{}, in), 200)
}

// 4. GET /eoc is a projection: identical after a restart with no command in between.
func TestEoCStateSurvivesReplay(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	for i := 0; i < 3; i++ {
		for k := 0; k < 10; k++ {
			e.eoc.request(false)
			e.eoc.consume(true)
		}
		e.eocTick()
	}
	e.eocTick() // an idle window journals nothing and changes nothing
	before, _ := json.Marshal(e.EoCView())
	if v := e.EoCView(); v["score"] == eocStart {
		t.Fatalf("test needs a moved score: %v", v)
	}
	srv := httptest.NewServer(NewServer(e, ServerConfig{}))
	resp, err := http.Get(srv.URL + "/api/credits/eoc")
	if err != nil {
		t.Fatal(err)
	}
	viaHTTP, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	e.Close()
	e = openT(t, cfg)
	defer e.Close()
	after, _ := json.Marshal(e.EoCView())
	if string(before) != string(after) {
		t.Fatalf("EoC after replay differs:\nbefore %s\nafter  %s", before, after)
	}
	var hb, ha map[string]any
	json.Unmarshal(viaHTTP, &hb)
	json.Unmarshal(after, &ha)
	if hb["score"] != ha["score"] || hb["band"] != ha["band"] {
		t.Fatalf("GET /eoc %s differs from the replayed projection %s", viaHTTP, after)
	}
}

// 5. Refunds naming a mission never exceed what it consumed.
func TestMissionRefundsNeverExceedConsumption(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}), 201) // 7 credits
	mid := "m1"
	mustStatus(t, e.Refund(Req{}, MoneyIn{AgentID: "a", AmountMilli: 5000, MissionID: &mid}), 200)
	var seq int64
	e.view(func(st *State) { seq = st.Seq })
	if b := mustStatus(t, e.Refund(Req{}, MoneyIn{AgentID: "a", AmountMilli: 3000, MissionID: &mid}), 409); b["code"] != "refund_exceeds_consumed" {
		t.Fatalf("code %v", b["code"])
	}
	if b := mustStatus(t, e.Mission("cancel", Req{}, MissionIn{MissionID: "m1"}), 409); b["code"] != "refund_exceeds_consumed" {
		t.Fatalf("end refund beyond consumption: %v", b)
	}
	var seq2 int64
	e.view(func(st *State) { seq2 = st.Seq })
	if seq2 != seq {
		t.Fatalf("a refused refund wrote %d events", seq2-seq)
	}
	actual := int64(5000)
	mustStatus(t, e.Mission("complete", Req{}, MissionIn{MissionID: "m1", ActualMilli: &actual}), 200) // refunds 2
	other := "never-consumed"
	mustStatus(t, e.Refund(Req{}, MoneyIn{AgentID: "a", AmountMilli: 1, MissionID: &other}), 409)
	srv := httptest.NewServer(NewServer(e, ServerConfig{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/credits/missions/m1")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if m["refunded"] != 7.0 || m["consumed"] != 7.0 {
		t.Fatalf("GET /missions/m1 refunded %v consumed %v, want 7 and 7: %v", m["refunded"], m["consumed"], m)
	}
	if b := balanceOf(e, "a"); b != 100_000 {
		t.Fatalf("balance %d", b)
	}
}

// 6. Flagged amounts stay out of the norm: every anomaly of an alternating stream is flagged.
func TestAnomaliesAreKeptOutOfTheNorm(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e := openT(t, cfg)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.Add(Req{}, MoneyIn{AgentID: "a", AmountMilli: 400_000}), 200)
	for i := 0; i < 6; i++ {
		mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 5000}), 200)
	}
	for i := 0; i < 5; i++ {
		b := mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 50_000}), 200)
		if md := b["metadata"].(map[string]any); md["anomaly_detected"] != true {
			t.Fatalf("anomaly %d not flagged: %v", i+1, md)
		}
		b = mustStatus(t, e.Consume(Req{}, MoneyIn{AgentID: "a", AmountMilli: 5000}), 200)
		if md := b["metadata"].(map[string]any); md["anomaly_detected"] != false {
			t.Fatalf("normal consume flagged: %v", md)
		}
	}
	var d1 string
	e.view(func(st *State) { d1 = st.Digest() })
	e.Close()
	e = openT(t, cfg)
	defer e.Close()
	var d2 string
	var flags int64
	e.view(func(st *State) { d2, flags = st.Digest(), st.AnomaliesFlag })
	if d1 != d2 || flags != 5 {
		t.Fatalf("replay: digest equal %v, flags %d", d1 == d2, flags)
	}
}

// A refund naming a mission returns credits to that mission's own agent:
// another agent naming it is refused and nothing is written.
func TestARefundNamingAnotherAgentsMissionIsRefused(t *testing.T) {
	e := openT(t, testConfig(t, t.TempDir()))
	defer e.Close()
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "a", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "b", SkillPPM: 1_000_000}), 200)
	mustStatus(t, e.Mission("start", Req{}, MissionIn{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "medium"}), 201)
	var seq, seq2 int64
	e.view(func(st *State) { seq = st.Seq })
	mid := "m1"
	if b := mustStatus(t, e.Refund(Req{}, MoneyIn{AgentID: "b", AmountMilli: 1000, MissionID: &mid}), 409); b["code"] != "mission_of_another_agent" {
		t.Fatalf("code %v", b["code"])
	}
	e.view(func(st *State) { seq2 = st.Seq })
	if seq2 != seq {
		t.Fatalf("a refused refund wrote %d events", seq2-seq)
	}
}

// The band journaled with an EoC decision is the band of the score it
// journals (rounded to 3 decimals), not of the unrounded one: 0.4996 is
// journaled 0.5, which is optimal.
func TestTheJournaledBandIsTheJournaledScoresBand(t *testing.T) {
	if d := eocDecision(0.4996, 1, 0, 0, 0, 0); d.Score != 0.5 || d.Band != "optimal" {
		t.Fatalf("score 0.4996 journaled as %v with band %q", d.Score, d.Band)
	}
}
