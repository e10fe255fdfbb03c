package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

// lostFirstLineJournal writes a journal where agent "keep" and agent
// "gone" live side by side with an approval, a pool and a mission, and
// returns the pending approval's id and keep's final balance.
func lostFirstLineJournal(t *testing.T, path string) (approvalID string, keepBalance int64) {
	t.Helper()
	ctx := context.Background()
	e := openEngine(t, testConfig(t, path))
	defer e.Close()
	must := func(_ engine.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, e, "keep", 0.5)
	mustCreate(t, e, "gone", 0.5)
	for i := range 3 {
		must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "gone", AmountMilli: credits(1), Reason: fmt.Sprint("g", i)}))
		must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "keep", AmountMilli: credits(1), Reason: fmt.Sprint("k", i)}))
	}
	res, err := e.RequestApproval(ctx, as("alice", ""), engine.ApprovalInput{ActionType: "add", AgentID: "keep",
		AmountMilli: credits(600), Reason: "big"})
	must(res, err)
	var ap event.Approval
	_ = json.Unmarshal(res.Primary().Payload, &ap)
	must(e.Approve(ctx, as("bob", ""), engine.DecisionInput{RequestID: ap.RequestID}))
	must(e.CreatePool(ctx, as("op", ""), engine.PoolInput{PoolID: "pl", Members: []string{"keep", "gone"}}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolAllocated, engine.PoolInput{PoolID: "pl", AmountMilli: credits(100)}))
	must(e.PoolMove(ctx, as("op", ""), event.PoolConsumed, engine.PoolInput{PoolID: "pl", AgentID: "keep", AmountMilli: credits(10)}))
	must(e.StartMission(ctx, as("op", ""), engine.MissionInput{MissionID: "m1", AgentID: "keep", MissionType: "research", Complexity: "low"}))
	must(e.EndMission(ctx, as("op", ""), event.MissionCompleted, engine.MissionInput{MissionID: "m1", ActualMilli: credits(1)}))
	must(e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "gone", AmountMilli: credits(1), Reason: "last"}))
	return ap.RequestID, balance(t, e, "keep")
}

// entityOf names the entity an event is about, read by the test itself:
// the id its birth event creates, or the id a later event refers to.
func entityOf(ev event.Envelope) (kind, id string) {
	var p struct {
		AgentID   string `json:"agent_id"`
		RequestID string `json:"request_id"`
		PoolID    string `json:"pool_id"`
		MissionID string `json:"mission_id"`
	}
	_ = json.Unmarshal(ev.Payload, &p)
	switch {
	case strings.HasPrefix(ev.EventType, "approval."):
		return "approval", p.RequestID
	case strings.HasPrefix(ev.EventType, "pool."):
		return "pool", p.PoolID
	case strings.HasPrefix(ev.EventType, "mission."):
		return "mission", p.MissionID
	}
	return "agent", p.AgentID
}

func TestRecoveryOfALostFirstLineByEntity(t *testing.T) {
	cases := []struct {
		name  string
		birth event.Type
		kind  string
		id    func(approval string) string
		// use tries a command on the entity; it must be refused as quarantined.
		use func(e *engine.Engine, id string) error
	}{
		{"agent registration", event.AgentRegistered, "agent", func(string) string { return "gone" },
			func(e *engine.Engine, id string) error {
				_, err := e.Consume(context.Background(), as("op", ""), engine.CreditInput{AgentID: id, AmountMilli: credits(1), Reason: "x"})
				if ruleCode(err) != engine.CodeQuarantined {
					return err
				}
				// Still a member of a live pool: spending from it must not name the lost agent.
				_, err = e.PoolMove(context.Background(), as("op", ""), event.PoolConsumed, engine.PoolInput{PoolID: "pl", AgentID: id, AmountMilli: credits(1)})
				if ruleCode(err) != engine.CodeQuarantined {
					return err
				}
				_, err = e.CreateAgent(context.Background(), as("op", ""), id, 0.1) // re-creating it would hide its history
				return err
			}},
		{"approval request", event.ApprovalRequested, "approval", func(a string) string { return a },
			func(e *engine.Engine, id string) error {
				_, err := e.Approve(context.Background(), as("carol", ""), engine.DecisionInput{RequestID: id})
				return err
			}},
		{"pool creation", event.PoolCreated, "pool", func(string) string { return "pl" },
			func(e *engine.Engine, id string) error {
				_, err := e.PoolMove(context.Background(), as("op", ""), event.PoolAllocated, engine.PoolInput{PoolID: id, AmountMilli: credits(1)})
				if ruleCode(err) != engine.CodeQuarantined {
					return err
				}
				_, err = e.CreatePool(context.Background(), as("op", ""), engine.PoolInput{PoolID: id})
				return err
			}},
		{"mission start", event.MissionStarted, "mission", func(string) string { return "m1" },
			func(e *engine.Engine, id string) error {
				_, err := e.RateMission(context.Background(), as("op", ""), engine.MissionInput{MissionID: id, Rating: 0.5})
				return err
			}},
	}
	for _, tc := range cases {
		for _, policy := range []journal.Policy{journal.PolicyStrict, journal.PolicyQuarantine} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, policy), func(t *testing.T) {
				path := journalPath(t)
				approval, keepBalance := lostFirstLineJournal(t, path)
				id := tc.id(approval)
				evs := readJournal(t, path)
				raw, _ := os.ReadFile(path)
				ls := bytes.SplitAfter(raw, []byte("\n"))
				birth := slices.IndexFunc(evs, func(ev event.Envelope) bool {
					k, i := entityOf(ev)
					return ev.EventType == tc.birth && k == tc.kind && i == id
				})
				if birth < 0 {
					t.Fatalf("no %s event for %s %q", tc.birth, tc.kind, id)
				}
				var wantDeps []string // event ids after the birth that refer to the entity and fold it
				for _, ev := range evs[birth+1:] {
					if k, i := entityOf(ev); k == tc.kind && i == id && !(ev.EventType == event.CreditConsumed && tc.kind != "agent") {
						wantDeps = append(wantDeps, ev.EventID)
					}
				}
				if len(wantDeps) == 0 {
					t.Fatalf("scenario has no event depending on %s %q", tc.kind, id)
				}
				ls[birth] = bytes.Clone(ls[birth])
				ls[birth][len(ls[birth])/2] ^= 0x04
				damaged := bytes.Join(ls, nil)
				if err := os.WriteFile(path, damaged, 0o644); err != nil {
					t.Fatal(err)
				}
				cfg := testConfig(t, path)
				cfg.Journal.Recovery = policy

				if policy == journal.PolicyStrict {
					_, err := engine.Open(cfg)
					var ce *journal.CorruptionError
					if !errors.As(err, &ce) || ce.Line != birth+1 || !strings.Contains(err.Error(), fmt.Sprintf(":%d:", birth+1)) {
						t.Fatalf("strict Open = %v, want a refusal naming line %d", err, birth+1)
					}
					if got, _ := os.ReadFile(path); !bytes.Equal(got, damaged) {
						t.Fatal("strict refusal changed the journal")
					}
					return
				}

				e, err := engine.Open(cfg)
				if err != nil {
					t.Fatalf("quarantine Open must start degraded: %v", err)
				}
				rep := e.Recovery()
				var gotDeps []string
				for _, d := range rep.Dependents {
					gotDeps = append(gotDeps, d.EventID)
					if d.Kind != tc.kind || d.Entity != id || !strings.Contains(d.Reason, fmt.Sprintf("quarantined line %d", birth+1)) {
						t.Errorf("dependent %+v: want %s %q, reason naming line %d", d, tc.kind, id, birth+1)
					}
				}
				if !slices.Equal(gotDeps, wantDeps) {
					t.Errorf("dependents %v, want %v", gotDeps, wantDeps)
				}
				h := e.Health()
				if h.Status != "degraded" || !slices.Contains(h.QuarantinedEntities, tc.kind+" "+id) {
					t.Errorf("health %+v, want degraded naming %s %s", h, tc.kind, id)
				}
				if err := tc.use(e, id); ruleCode(err) != engine.CodeQuarantined || !strings.Contains(err.Error(), fmt.Sprintf("line %d", birth+1)) {
					t.Errorf("a command on the quarantined %s = %v, want entity_quarantined naming line %d", tc.kind, err, birth+1)
				}
				// The rest of the state is intact, and appends work and last.
				if got := balance(t, e, "keep"); got != keepBalance {
					t.Errorf("keep's balance %d after recovery, want %d", got, keepBalance)
				}
				res, err := e.Consume(context.Background(), as("op", "after"), engine.CreditInput{AgentID: "keep", AmountMilli: credits(1), Reason: "after"})
				if err != nil {
					t.Fatalf("append after recovery: %v", err)
				}
				if res.Primary().Seq != evs[len(evs)-1].Seq+1 {
					t.Errorf("append took seq %d, want %d: a dependent's seq must never be reused", res.Primary().Seq, evs[len(evs)-1].Seq+1)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				e2 := openEngine(t, cfg)
				defer e2.Close()
				if got := balance(t, e2, "keep"); got != keepBalance-credits(1) {
					t.Errorf("after restart keep has %d, want %d", got, keepBalance-credits(1))
				}
				if n := len(e2.Recovery().Dependents); n != len(wantDeps) {
					t.Errorf("after restart %d dependents reported, want %d (still left out, still reported)", n, len(wantDeps))
				}
				if err := tc.use(e2, id); ruleCode(err) != engine.CodeQuarantined {
					t.Errorf("after restart a command on the quarantined %s = %v, want entity_quarantined", tc.kind, err)
				}
				if n := countDependentEntries(t, path+".quarantine"); n != len(wantDeps) {
					t.Errorf("quarantine file holds %d dependent entries, want %d (each once)", n, len(wantDeps))
				}
			})
		}
	}
}

func countDependentEntries(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Dependent bool `json:"dependent"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Dependent {
			n++
		}
	}
	return n
}

// A quarantined credit event makes every later balance_after of its agent
// disagree with the fold. Replay folds deltas and never checks
// balance_after, so it starts; the balance is the fold of the events that
// survived (the lost delta is not applied), and the report names the line.
func TestAQuarantinedCreditEventDoesNotStopReplayOnBalanceAfter(t *testing.T) {
	path := journalPath(t)
	e := openEngine(t, testConfig(t, path))
	mustCreate(t, e, "a", 0.5)
	for i := range 5 {
		if _, err := e.Consume(context.Background(), as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(float64(i + 1)), Reason: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	before := balance(t, e, "a")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	evs := readJournal(t, path)
	victim := slices.IndexFunc(evs, func(ev event.Envelope) bool {
		return ev.EventType == event.CreditConsumed && strings.Contains(string(ev.Payload), `"amount_milli":2000`)
	})
	raw, _ := os.ReadFile(path)
	ls := bytes.SplitAfter(raw, []byte("\n"))
	ls[victim] = bytes.Clone(ls[victim])
	ls[victim][len(ls[victim])/2] ^= 0x04
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	e2 := openEngine(t, testConfig(t, path))
	defer e2.Close()
	if got := balance(t, e2, "a"); got != before+credits(2) {
		t.Errorf("balance after losing a 2-credit consume = %d, want %d (the fold of the surviving deltas)", got, before+credits(2))
	}
	rep := e2.Recovery()
	if len(rep.Quarantined) != 1 || rep.Quarantined[0].Line != victim+1 || len(rep.Dependents) != 0 || e2.Health().Status != "degraded" {
		t.Errorf("report %+v / health %s: want line %d quarantined, no dependents, degraded", rep, e2.Health().Status, victim+1)
	}
}

// A collaboration whose own line was lost keeps its rewards (undamaged
// money events about agents that exist) and still counts as recorded, so
// resubmitting it never pays twice.
func TestALostCollaborationLineNeverPaysTwice(t *testing.T) {
	path := journalPath(t)
	ctx := context.Background()
	e := openEngine(t, testConfig(t, path))
	mustCreate(t, e, "a", 0.5)
	mustCreate(t, e, "b", 0.5)
	in := engine.CollaborationInput{CollaborationID: "col-1", TeamID: "t", AgentIDs: []string{"a", "b"},
		ContributionScores: map[string]float64{"a": 0.5, "b": 0.5}}
	if _, err := e.RecordCollaboration(ctx, as("op", ""), in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: "after"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"a": balance(t, e, "a"), "b": balance(t, e, "b")}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	evs := readJournal(t, path)
	victim := slices.IndexFunc(evs, func(ev event.Envelope) bool { return ev.EventType == event.SynergieCollaborationRecorded })
	raw, _ := os.ReadFile(path)
	ls := bytes.SplitAfter(raw, []byte("\n"))
	ls[victim] = bytes.Clone(ls[victim])
	ls[victim][len(ls[victim])/2] ^= 0x04
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	e2 := openEngine(t, testConfig(t, path))
	defer e2.Close()
	for id, b := range want {
		if got := balance(t, e2, id); got != b {
			t.Errorf("%s: balance %d after recovery, want %d (rewards kept)", id, got, b)
		}
	}
	res, err := e2.RecordCollaboration(ctx, as("op", ""), in)
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("resubmitting the collaboration wrote %d events (err %v); want none: it was already paid", len(res.Events), err)
	}
	if rep := e2.Recovery(); len(rep.Quarantined) != 1 || rep.Quarantined[0].Line != victim+1 {
		t.Errorf("quarantined %+v, want line %d", rep.Quarantined, victim+1)
	}
}
