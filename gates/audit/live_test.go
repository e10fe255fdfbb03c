package audit

import (
	"github.com/creditgate/creditgate/scenarios/history"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The creditd binary is built once per test binary run.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// liveTarget is a creditd child process on a loopback port.
type liveTarget struct {
	t       *testing.T
	base    string
	journal string
	ops     []Op
	start   time.Time
	// lastRequest is the request_id of the last response that named one.
	lastRequest string
}

// startCreditd builds ./cmd/creditd and runs it; the test is skipped when
// the build fails (e.g. the engine is mid-change).
func startCreditd(t *testing.T) *liveTarget {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a creditd process")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "creditd")); err != nil {
		t.Skipf("no cmd/creditd: %v", err)
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "audit-creditd-")
		if buildErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(buildDir, "creditd"), "./cmd/creditd")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Skipf("creditd does not build: %v", buildErr)
	}
	bin := filepath.Join(buildDir, "creditd")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	lt := &liveTarget{t: t, base: "http://" + addr, journal: filepath.Join(dir, "credits.jsonl"), start: time.Now()}
	cmd := exec.Command(bin, "-addr", addr, "-journal", lt.journal, "-fsync=false", "-synergie-cap", "120", "-log-level", "warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("creditd logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(lt.base + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return lt
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("creditd not healthy: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one mutation and records it as an Op, classified by the one
// history classifier; a non-empty retryOf marks a resend of an earlier key.
func (lt *liveTarget) do(kind, path, key, retryOf string, body any) Op {
	lt.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, lt.base+"/api/credits"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	k, ok := testKinds[kind]
	if !ok {
		lt.t.Fatalf("test kind %q has no history kind", kind)
	}
	op := Op{ID: uint64(len(lt.ops) + 1), Kind: k, Key: key, CallNs: time.Since(lt.start).Nanoseconds()}
	if retryOf != "" {
		op.Role = history.Retry
	}
	resp, err := http.DefaultClient.Do(req)
	var raw []byte
	var hr history.Response
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		hr = history.Response{Status: resp.StatusCode, Replayed: resp.Header.Get("Idempotent-Replayed") == "true", Body: raw}
	}
	hr.Err = err
	op.ReturnNs = time.Since(lt.start).Nanoseconds()
	history.Fill(&op, hr)
	lt.ops = append(lt.ops, op)
	lt.lastRequest = op.RequestID
	return op
}

func mustStatus(t *testing.T, op Op, want int) {
	t.Helper()
	if op.Status != want {
		t.Fatalf("%s (key %q): status %d, want %d", op.Kind, op.Key, op.Status, want)
	}
}

// driveEveryCommand exercises agents, credits, approvals (four-eyes,
// already_decided, CRITICAL two approvers, rejection), synergie up to the
// cap, pools, missions, retries and refusals.
func driveEveryCommand(t *testing.T, lt *liveTarget) {
	mustStatus(t, lt.do("agent", "/agents", "k-a1", "", map[string]any{"agent_id": "a1", "skill_level": 0.8, "actor_id": "op"}), 200)
	mustStatus(t, lt.do("agent", "/agents", "k-a2", "", map[string]any{"agent_id": "a2", "skill_level": 0.5, "actor_id": "op"}), 200)
	mustStatus(t, lt.do("agent", "/agents", "k-a3", "", map[string]any{"agent_id": "a3", "skill_level": 0, "actor_id": "op"}), 200)
	mustStatus(t, lt.do("agent", "/agents", "", "", map[string]any{"agent_id": "a4", "skill_level": 0.3, "actor_id": "op"}), 200)
	mustStatus(t, lt.do("agent", "/agents", "k-a1-again", "", map[string]any{"agent_id": "a1", "skill_level": 0.1}), 409)
	c1 := lt.do("consume", "/consume", "k-c1", "", map[string]any{"agent_id": "a1", "amount": 12.5, "reason": "x"})
	mustStatus(t, c1, 200)
	mustStatus(t, lt.do("consume", "/consume", "k-c1", "c1", map[string]any{"agent_id": "a1", "amount": 12.5, "reason": "x"}), 200)
	mustStatus(t, lt.do("consume", "/consume", "k-c2", "", map[string]any{"agent_id": "a1", "amount": 1000, "reason": "x"}), 409)
	mustStatus(t, lt.do("refund", "/refund", "k-r1", "", map[string]any{"agent_id": "a1", "amount": 2.001, "reason": "r"}), 200)
	add := lt.do("add", "/add", "k-add1", "", map[string]any{"agent_id": "a2", "amount": 600, "reason": "big", "actor_id": "alice"})
	mustStatus(t, add, 202)
	rid := lt.lastRequest
	if op := lt.do("approve", "/approvals/"+rid+"/approve", "k-self", "", map[string]any{"approver_id": "alice"}); op.Outcome != history.Refused {
		t.Fatalf("self-approval: %+v", op)
	}
	mustStatus(t, lt.do("approve", "/approvals/"+rid+"/approve", "k-ap1", "", map[string]any{"approver_id": "bob"}), 200)
	mustStatus(t, lt.do("reject", "/approvals/"+rid+"/reject", "k-late", "", map[string]any{"approver_id": "carol"}), 409)
	mustStatus(t, lt.do("withdraw", "/withdraw", "k-w1", "", map[string]any{"agent_id": "a2", "amount": 5, "reason": "w"}), 200)
	for i, agents := range [][]string{{"a1", "a2", "a3"}, {"a1", "a2"}, {"a1", "a2"}} {
		scores := map[string]float64{"a1": 1, "a2": 0.5, "a3": 0.3}
		for k := range scores {
			if !strings.Contains(strings.Join(agents, ","), k) {
				delete(scores, k)
			}
		}
		body := map[string]any{"collaboration_id": fmt.Sprintf("col%d", i), "team_id": "alpha", "agent_ids": agents, "contribution_scores": scores}
		mustStatus(t, lt.do("collaboration", "/synergie/collaborations", fmt.Sprintf("k-col%d", i), "", body), 201)
		if i == 2 {
			dup := lt.do("collaboration", "/synergie/collaborations", "k-col-dup", "", body)
			if dup.Status != 200 || !dup.Duplicate {
				t.Fatalf("duplicate collaboration: %+v", dup)
			}
		}
	}
	mustStatus(t, lt.do("pool", "/pools", "k-p1", "", map[string]any{"pool_id": "p1", "name": "P", "members": []string{"a1", "a2"}}), 201)
	mustStatus(t, lt.do("pool", "/pools", "k-p2", "", map[string]any{"pool_id": "p2"}), 201)
	mustStatus(t, lt.do("pool", "/pools/p1/allocate", "k-p1a", "", map[string]any{"amount": 100}), 200)
	mustStatus(t, lt.do("pool", "/pools/p1/consume", "k-p1c", "", map[string]any{"amount": 10, "agent_id": "a1"}), 200)
	if op := lt.do("pool", "/pools/p1/consume", "k-p1c-x", "", map[string]any{"amount": 10, "agent_id": "a3"}); op.Outcome != history.Refused {
		t.Fatalf("non-member pool consume: %+v", op)
	}
	mustStatus(t, lt.do("pool", "/pools/p1/transfer", "k-p1t", "", map[string]any{"amount": 20, "to_pool_id": "p2"}), 200)
	mustStatus(t, lt.do("pool", "/pools/p1/close", "k-p1x", "", map[string]any{"refund_to": "a3"}), 200)
	mustStatus(t, lt.do("mission", "/missions", "k-m1", "", map[string]any{"mission_id": "m1", "agent_id": "a1", "mission_type": "research", "complexity": "high"}), 201)
	mustStatus(t, lt.do("mission", "/missions/m1/complete", "k-m1c", "", map[string]any{"actual_cost": 20}), 200)
	mustStatus(t, lt.do("mission", "/missions/m1/rate", "k-m1r", "", map[string]any{"rating": 0.9}), 200)
	crit := lt.do("add", "/add", "k-add2", "", map[string]any{"agent_id": "a3", "amount": 60000, "reason": "crit", "actor_id": "alice"})
	mustStatus(t, crit, 202)
	critID := lt.lastRequest
	mustStatus(t, lt.do("approve", "/approvals/"+critID+"/approve", "k-ap2", "", map[string]any{"approver_id": "bob", "justification": "ok"}), 200)
	mustStatus(t, lt.do("approve", "/approvals/"+critID+"/approve", "", "", map[string]any{"approver_id": "carol", "justification": "ok"}), 200)
	rej := lt.do("add", "/add", "k-add3", "", map[string]any{"agent_id": "a3", "amount": 700, "reason": "no", "actor_id": "alice"})
	mustStatus(t, rej, 202)
	mustStatus(t, lt.do("reject", "/approvals/"+lt.lastRequest+"/reject", "k-rj3", "", map[string]any{"approver_id": "bob", "reason": "no"}), 200)
}

func TestCreditdJournalAndAPIPassGatesAAndBByTheIndependentModel(t *testing.T) {
	lt := startCreditd(t)
	driveEveryCommand(t, lt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	f, err := os.Open(lt.journal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromFile, err := ReadJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	fromAPI, err := FetchJournal(ctx, lt.base, "", nil, WithPageSize(7))
	if err != nil {
		t.Fatal(err)
	}
	if len(fromFile.Lines) < 40 || len(fromAPI.Lines) != len(fromFile.Lines) {
		t.Fatalf("file has %d lines, API %d", len(fromFile.Lines), len(fromAPI.Lines))
	}
	for i := range fromFile.Lines {
		if !bytes.Equal(fromFile.Lines[i].Raw, fromAPI.Lines[i].Raw) {
			t.Fatalf("line %d differs between file and GET /events:\n%s\n%s", i+1, fromFile.Lines[i].Raw, fromAPI.Lines[i].Raw)
		}
	}

	assertAllOK(t, GateA(fromAPI, lt.ops, HistoryOptions{}))
	m := Fold(fromAPI)
	api, err := (&APIClient{BaseURL: lt.base}).FetchState(ctx, nil, m.ApprovalIDs())
	if err != nil {
		t.Fatal(err)
	}
	assertAllOK(t, GateB(fromAPI, m, api, GateBOptions{SynergieCapMilli: 120_000}))

	if got := m.Synergie["a1"]["alpha"]; got == nil || got.GrantedMilli != 120_000 || got.CappedMilli == 0 {
		t.Errorf("a1 should have hit the synergie cap: %+v", got)
	}
	if id := firstApproved(m); id == "" || m.Approvals[id].ExecutedEventID == "" {
		t.Errorf("no approved and executed request in the model (%q)", id)
	}

	// The comparisons are exact: one milli off anywhere is a finding.
	api.Balances["a3"]++
	if f := CompareBalances(m, api.Balances); f.OK {
		t.Errorf("one milli difference not detected: %s", f)
	}
	basic, err := FetchAPIState(ctx, lt.base, "", []string{"a1"})
	if err != nil {
		t.Fatal(err)
	}
	if f := CompareLedger("a1", m.Ledgers["a1"], basic.Ledgers["a1"]); !f.OK {
		t.Errorf("%s", f)
	}
}

func firstApproved(m *Model) string {
	for _, id := range m.ApprovalIDs() {
		if m.Approvals[id].Status == StatusApproved {
			return id
		}
	}
	return ""
}

func TestCreditdJournalWithAnUnrecordedMutationFailsGateA(t *testing.T) {
	lt := startCreditd(t)
	mustStatus(t, lt.do("agent", "/agents", "k-a1", "", map[string]any{"agent_id": "a1", "skill_level": 0.8}), 200)
	recorded := append([]Op(nil), lt.ops...)
	mustStatus(t, lt.do("consume", "/consume", "k-hidden", "", map[string]any{"agent_id": "a1", "amount": 1, "reason": "x"}), 200)
	j, err := FetchJournal(context.Background(), lt.base, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := CheckHistoryExact(j, recorded, HistoryOptions{}); f.OK {
		t.Fatalf("an event no recorded op asked for was not reported: %s", f)
	}
	if f := CheckHistoryExact(j, lt.ops, HistoryOptions{}); !f.OK {
		t.Fatalf("%s", f)
	}
}
