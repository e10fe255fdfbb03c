package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/httpapi"
)

func createAgent(t *testing.T, s *testServer, id string, hdr ...string) {
	t.Helper()
	if r := s.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": id, "skill_level": 1.0, "actor_id": "op"}, hdr...); r.status != http.StatusOK {
		t.Fatalf("create agent %s: %d %s", id, r.status, r.raw)
	}
}

func requestApproval(t *testing.T, s *testServer, body map[string]any, hdr ...string) response {
	t.Helper()
	r := s.do(t, "POST", "/api/credits/approvals", body, hdr...)
	if r.status != http.StatusAccepted {
		t.Fatalf("request approval: %d %s", r.status, r.raw)
	}
	return r
}

func balanceOf(t *testing.T, s *testServer, id string) string {
	t.Helper()
	r := s.do(t, "GET", "/api/credits/balance/"+id, nil)
	if r.status != http.StatusOK {
		t.Fatalf("balance %s: %d %s", id, r.status, r.raw)
	}
	return string(mustJSON(r.body["balance"]))
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestApprovalRaceHasExactlyOneTerminalDecision races approve and reject
// calls of distinct approvers on one pending request over HTTP.
func TestApprovalRaceHasExactlyOneTerminalDecision(t *testing.T) {
	for _, racers := range []int{10, 100} {
		t.Run(fmt.Sprintf("%d racers", racers), func(t *testing.T) {
			s := newServer(t, nil, nil)
			createAgent(t, s, "a")
			before := balanceOf(t, s, "a")
			req := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 500, "reason": "big", "requester_id": "alice"})
			id := req.str("request_id")

			resps := make([]response, racers)
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range resps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					verb := []string{"approve", "reject"}[i%2]
					resps[i] = s.do(t, "POST", "/api/credits/approvals/"+id+"/"+verb,
						map[string]any{"approver_id": fmt.Sprintf("approver-%d", i), "reason": "race"})
				}()
			}
			close(gate)
			wg.Wait()

			var winner response
			wins := 0
			for _, r := range resps {
				switch {
				case r.status >= 200 && r.status < 300:
					wins++
					winner = r
				case r.status == http.StatusConflict && r.str("code") == "already_decided":
				default:
					t.Fatalf("racer got %d %s, want 2xx or 409 already_decided", r.status, r.raw)
				}
			}
			if wins != 1 {
				t.Fatalf("%d racers won, want exactly 1", wins)
			}
			winID := winner.str("decision_event_id")
			for _, r := range resps {
				if r.status != http.StatusConflict {
					continue
				}
				w, _ := r.body["winner"].(map[string]any)
				if w == nil || w["decision_event_id"] != winID || w["status"] != winner.str("status") {
					t.Fatalf("loser body %s does not name the winner %s", r.raw, winID)
				}
			}
			decisions := decisionsFor(t, s.path, id)
			if len(decisions) != 1 || !isTerminal(decisions[0].EventType) || decisions[0].EventID != winID {
				t.Fatalf("journal has %d decision events on %s, want exactly the winner %s", len(decisions), id, winID)
			}
			// The credit effect is applied once (or never, for a rejection).
			var executed []event.Envelope
			for _, ev := range readJournal(t, s.path) {
				if ev.CausationID != nil && *ev.CausationID == winID {
					executed = append(executed, ev)
				}
			}
			after := balanceOf(t, s, "a")
			switch winner.str("status") {
			case "approved":
				if len(executed) != 1 || executed[0].EventType != event.CreditAllocated || after != "600" || before != "100" {
					t.Fatalf("approved: %d executions, balance %s → %s, want one allocation 100 → 600", len(executed), before, after)
				}
			case "rejected":
				if len(executed) != 0 || after != before {
					t.Fatalf("rejected: %d executions, balance %s → %s, want none", len(executed), before, after)
				}
			default:
				t.Fatalf("winner status %q", winner.str("status"))
			}
			audit := s.do(t, "GET", "/api/credits/approvals/audit", nil)
			if audit.status != http.StatusOK || !strings.Contains(string(audit.raw), winID) {
				t.Fatalf("audit does not list the decision %s: %s", winID, audit.raw)
			}
		})
	}
}

func TestApprovalRulesOverHTTP(t *testing.T) {
	t.Run("four eyes: the requester cannot approve own request", func(t *testing.T) {
		s := newServer(t, nil, nil)
		createAgent(t, s, "a")
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 600, "reason": "r", "requester_id": "alice"}).str("request_id")
		r := s.do(t, "POST", "/api/credits/approvals/"+id+"/approve", map[string]any{"approver_id": "alice"})
		if r.status != http.StatusForbidden || r.str("code") != "four_eyes_violation" {
			t.Fatalf("got %d %s, want 403 four_eyes_violation", r.status, r.raw)
		}
	})
	t.Run("four eyes compares token principals", func(t *testing.T) {
		s := newServer(t, httpapi.Tokens{"t-alice": {Name: "alice", Role: httpapi.RoleAdmin}, "t-bob": {Name: "bob", Role: httpapi.RoleApprover}}, nil)
		createAgent(t, s, "a", bearer("t-alice")...)
		// The body claims someone else; the token decides.
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 600, "reason": "r", "requester_id": "mallory"}, bearer("t-alice")...).str("request_id")
		r := s.do(t, "POST", "/api/credits/approvals/"+id+"/approve", map[string]any{"approver_id": "bob"}, bearer("t-alice")...)
		if r.status != http.StatusForbidden || r.str("code") != "four_eyes_violation" {
			t.Fatalf("got %d %s, want 403 four_eyes_violation", r.status, r.raw)
		}
		if r := s.do(t, "POST", "/api/credits/approvals/"+id+"/approve", nil, bearer("t-bob")...); r.status != http.StatusOK {
			t.Fatalf("bob approving: %d %s", r.status, r.raw)
		}
	})
	t.Run("If-Match carries the expected version, bare or as an entity tag: a stale one is refused", func(t *testing.T) {
		s := newServer(t, nil, nil)
		createAgent(t, s, "a")
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 50_000, "reason": "r",
			"justification": "migration", "requester_id": "alice"}).str("request_id")
		path := "/api/credits/approvals/" + id + "/approve"
		v0 := fmt.Sprint(s.do(t, "GET", "/api/credits/approvals/"+id, nil).body["version"])
		if r := s.do(t, "POST", path, map[string]any{"approver_id": "bob", "justification": "ok"}, "If-Match", `"`+v0+`"`); r.status != http.StatusOK || r.str("status") != "pending" {
			t.Fatalf("first vote with the current version as an entity tag: %d %s, want 200 pending", r.status, r.raw)
		}
		for _, stale := range []string{v0, `"` + v0 + `"`} {
			if r := s.do(t, "POST", path, map[string]any{"approver_id": "carol", "justification": "ok"}, "If-Match", stale); r.status != http.StatusConflict || r.str("code") != "version_mismatch" {
				t.Fatalf("If-Match %s after a vote moved the version: %d %s, want 409 version_mismatch", stale, r.status, r.raw)
			}
		}
		if balanceOf(t, s, "a") != "100" {
			t.Fatal("a decision with a stale If-Match executed the request")
		}
	})
	t.Run("CRITICAL needs justification and two distinct approvers", func(t *testing.T) {
		s := newServer(t, nil, nil)
		createAgent(t, s, "a")
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 50_000, "reason": "r",
			"justification": "migration", "requester_id": "alice"}).str("request_id")
		path := "/api/credits/approvals/" + id + "/approve"
		if r := s.do(t, "POST", path, map[string]any{"approver_id": "bob"}); r.status != http.StatusUnprocessableEntity || r.str("code") != "justification_required" {
			t.Fatalf("without justification: %d %s, want 422 justification_required", r.status, r.raw)
		}
		if r := s.do(t, "POST", path, map[string]any{"approver_id": "bob", "justification": "ok"}); r.status != http.StatusOK || r.str("status") != "pending" {
			t.Fatalf("first vote: %d %s, want 200 pending", r.status, r.raw)
		}
		if r := s.do(t, "POST", path, map[string]any{"approver_id": "bob", "justification": "again"}); r.status != http.StatusConflict || r.str("code") != "duplicate_approver" {
			t.Fatalf("same approver twice: %d %s, want 409 duplicate_approver", r.status, r.raw)
		}
		if balanceOf(t, s, "a") != "100" {
			t.Fatal("one vote executed the CRITICAL request")
		}
		if r := s.do(t, "POST", path, map[string]any{"approver_id": "carol", "justification": "ok"}); r.status != http.StatusOK || r.str("status") != "approved" {
			t.Fatalf("second distinct approver: %d %s, want 200 approved", r.status, r.raw)
		}
		if b := balanceOf(t, s, "a"); b != "50100" {
			t.Fatalf("balance %s after the CRITICAL approval, want 50100", b)
		}
		if n := len(decisionsFor(t, s.path, id)); n != 2 {
			t.Fatalf("%d decision events, want a vote and an approval", n)
		}
	})
	t.Run("an expired request cannot be decided", func(t *testing.T) {
		s := newServer(t, nil, nil)
		createAgent(t, s, "a")
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 600, "reason": "r", "requester_id": "alice"}).str("request_id")
		s.clock.Advance(24*time.Hour + time.Second)
		for _, verb := range []string{"approve", "reject", "approve"} {
			r := s.do(t, "POST", "/api/credits/approvals/"+id+"/"+verb, map[string]any{"approver_id": "bob"})
			if r.status != http.StatusConflict || r.str("code") != "already_decided" {
				t.Fatalf("%s after expiry: %d %s, want 409 already_decided", verb, r.status, r.raw)
			}
		}
		if r := s.do(t, "GET", "/api/credits/approvals/"+id, nil); r.str("status") != "expired" {
			t.Fatalf("request after expiry: %s", r.raw)
		}
		d := decisionsFor(t, s.path, id)
		if len(d) != 1 || d[0].EventType != event.ApprovalExpired {
			t.Fatalf("want exactly one approval.expired, got %d decisions", len(d))
		}
		if balanceOf(t, s, "a") != "100" {
			t.Fatal("an expired request moved credits")
		}
	})
	t.Run("deciding needs the approver role", func(t *testing.T) {
		s := newServer(t, httpapi.Tokens{"op": {Name: "alice", Role: httpapi.RoleOperator}, "ap": {Name: "bob", Role: httpapi.RoleApprover},
			"rd": {Name: "rita", Role: httpapi.RoleReader}}, nil)
		createAgent(t, s, "a", bearer("op")...)
		id := requestApproval(t, s, map[string]any{"action_type": "add", "agent_id": "a", "amount": 600, "reason": "r"}, bearer("op")...).str("request_id")
		for _, tok := range []string{"op", "rd"} {
			if r := s.do(t, "POST", "/api/credits/approvals/"+id+"/approve", nil, bearer(tok)...); r.status != http.StatusForbidden {
				t.Fatalf("%s deciding: %d %s, want 403", tok, r.status, r.raw)
			}
		}
		if r := s.do(t, "POST", "/api/credits/approvals/"+id+"/reject", nil, bearer("ap")...); r.status != http.StatusOK {
			t.Fatalf("approver deciding: %d %s", r.status, r.raw)
		}
	})
}
