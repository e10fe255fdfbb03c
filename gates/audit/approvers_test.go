package audit

import (
	"strings"
	"testing"
)

// approvalsWorld: an agent, a MEDIUM request approved by bob, a CRITICAL
// request approved by carol then dave, a CRITICAL request voted by carol
// then expired, and a HIGH request expired untouched. edit changes the
// CRITICAL request's deciders (first, second) and its level.
func approvalsWorld(t *testing.T, first, second, level string, required int) *Journal {
	b := &builder{t: t}
	b.cmd("k-a", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.5}),
		pc("credit.allocated", credit("a1", 50_000, 50_000), 0))
	rq := b.cmd("k-r1", "alice", p("approval.requested", request("r1", "add", "a1", 600_000)))
	b.cmd("k-d1", "bob", pid("approval.approved", decision("r1", "bob", 1), rq[0].EventID),
		pc("credit.allocated", credit("a1", 600_000, 650_000), 0))
	crit := request("r2", "add", "a1", 50_000_000)
	crit["risk_level"], crit["required_approvals"] = level, required
	rq2 := b.cmd("k-r2", "alice", p("approval.requested", crit))
	b.cmd("k-v2", first, pid("approval.vote_recorded", decision("r2", first, 1), rq2[0].EventID))
	b.cmd("k-d2", second, pid("approval.approved", decision("r2", second, 2), rq2[0].EventID),
		pc("credit.allocated", credit("a1", 50_000_000, 50_650_000), 0))
	crit3 := request("r3", "add", "a1", 50_000_000)
	crit3["risk_level"], crit3["required_approvals"] = "CRITICAL", 2
	rq3 := b.cmd("k-r3", "alice", p("approval.requested", crit3))
	b.cmd("k-v3", "carol", pid("approval.vote_recorded", decision("r3", "carol", 1), rq3[0].EventID))
	b.cmd("", "system", pid("approval.expired", map[string]any{"request_id": "r3", "version": 2}, rq3[0].EventID))
	high := request("r4", "add", "a1", 5_000_000)
	high["risk_level"] = "HIGH"
	rq4 := b.cmd("k-r4", "alice", p("approval.requested", high))
	b.cmd("", "system", pid("approval.expired", map[string]any{"request_id": "r4", "version": 1}, rq4[0].EventID))
	return b.journal()
}

func TestApproverFourEyes(t *testing.T) {
	for _, c := range []struct {
		name          string
		first, second string
		level         string
		required      int
		want          string // "" = OK, else a fragment of a violation
	}{
		{name: "two distinct approvers other than the requester", first: "carol", second: "dave", level: "CRITICAL", required: 2},
		{name: "the requester casts the first vote", first: "alice", second: "dave", level: "CRITICAL", required: 2, want: "approving vote 1, is by the requester"},
		{name: "the requester completes", first: "carol", second: "alice", level: "CRITICAL", required: 2, want: "approving vote 2, is by the requester"},
		{name: "one approver twice", first: "carol", second: "carol", level: "CRITICAL", required: 2, want: `"carol" approved twice`},
		// A backend that states one approver for CRITICAL still needs two.
		{name: "CRITICAL stated as one approver", first: "carol", second: "dave", level: "CRITICAL", required: 1},
		{name: "a request stating three approvers executes after two", first: "carol", second: "dave", level: "HIGH", required: 3, want: "needs 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := approvalsWorld(t, c.first, c.second, c.level, c.required)
			f := ApproverFourEyes(j, Fold(j))
			if f.Samples != 3 {
				t.Fatalf("judged %d requests, want 3 (r1, r2, r3): %s", f.Samples, f)
			}
			if c.want == "" {
				if !f.OK {
					t.Fatalf("want OK: %s", f)
				}
				return
			}
			if f.OK || !strings.Contains(strings.Join(f.Violations, "\n"), c.want) {
				t.Fatalf("want a violation with %q: %s", c.want, f)
			}
		})
	}
}

// The decider of an event whose payload names none is its actor.
func TestApproverFourEyesFallsBackToActor(t *testing.T) {
	b := &builder{t: t}
	b.cmd("k-a", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.5}),
		pc("credit.allocated", credit("a1", 50_000, 50_000), 0))
	rq := b.cmd("k-r1", "alice", p("approval.requested", request("r1", "add", "a1", 600_000)))
	b.cmd("k-d1", "alice", pid("approval.approved", map[string]any{"request_id": "r1", "version": 1}, rq[0].EventID),
		pc("credit.allocated", credit("a1", 600_000, 650_000), 0))
	j := b.journal()
	if f := ApproverFourEyes(j, Fold(j)); f.OK || !strings.Contains(f.String(), "by the requester") {
		t.Fatalf("an approval whose actor is the requester must be reported: %s", f)
	}
}

func TestAuditListing(t *testing.T) {
	j := approvalsWorld(t, "carol", "dave", "CRITICAL", 2)
	m := Fold(j)
	full := func() []AuditEntry {
		var out []AuditEntry
		for _, id := range m.ApprovalIDs() {
			out = append(out, AuditEntry{RequestID: id, DecisionEventIDs: append([]string(nil), m.Approvals[id].DecisionEventIDs...)})
		}
		return out
	}
	for _, c := range []struct {
		name      string
		edit      func([]AuditEntry) []AuditEntry
		truncated bool
		want      string
	}{
		{name: "every request with every decision", edit: func(e []AuditEntry) []AuditEntry { return e }},
		{name: "an expired request left out", want: "request r4 (HIGH, expired) is not listed", edit: func(e []AuditEntry) []AuditEntry {
			return e[:3]
		}},
		{name: "a left-out request past the limit", truncated: true, edit: func(e []AuditEntry) []AuditEntry { return e[:3] }},
		{name: "an expiry id left out", want: "listed without its approval.expired", edit: func(e []AuditEntry) []AuditEntry {
			e[2].DecisionEventIDs = e[2].DecisionEventIDs[:1]
			return e
		}},
		{name: "a vote left out", want: "listed without its approval.vote_recorded", edit: func(e []AuditEntry) []AuditEntry {
			e[1].DecisionEventIDs = e[1].DecisionEventIDs[1:]
			return e
		}},
		{name: "another request's id", want: "which is not one of its decisions", edit: func(e []AuditEntry) []AuditEntry {
			e[0].DecisionEventIDs = append(e[0].DecisionEventIDs, e[3].DecisionEventIDs[0])
			return e
		}},
		{name: "an invented request", want: "no such request", edit: func(e []AuditEntry) []AuditEntry {
			return append(e, AuditEntry{RequestID: "r9"})
		}},
		{name: "a request twice", want: "listed twice", edit: func(e []AuditEntry) []AuditEntry { return append(e, e[0]) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := AuditListing(m, m, c.edit(full()), true, c.truncated, true)
			if f.Samples != 4 {
				t.Fatalf("judged %d requests, want 4: %s", f.Samples, f)
			}
			if c.want == "" {
				if !f.OK {
					t.Fatalf("want OK: %s", f)
				}
				return
			}
			if f.OK || !strings.Contains(strings.Join(f.Violations, "\n"), c.want) {
				t.Fatalf("want a violation with %q: %s", c.want, f)
			}
		})
	}
}

// A request voted once and still pending: our engine lists it (its
// contract), another backend may leave it out (SPEC §6's table: "decided
// requests") but, listing it, lists its vote.
func TestAuditListingOfAPendingRequestWithAVote(t *testing.T) {
	b := &builder{t: t}
	b.cmd("k-a", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.5}),
		pc("credit.allocated", credit("a1", 50_000, 50_000), 0))
	crit := request("r1", "add", "a1", 50_000_000)
	crit["risk_level"], crit["required_approvals"] = "CRITICAL", 2
	rq := b.cmd("k-r1", "alice", p("approval.requested", crit))
	b.cmd("k-v1", "carol", pid("approval.vote_recorded", decision("r1", "carol", 1), rq[0].EventID))
	m := Fold(b.journal())
	if st := m.Approvals["r1"].Status; st != "pending" {
		t.Fatalf("the request is %s, want pending", st)
	}
	listed := []AuditEntry{{RequestID: "r1", DecisionEventIDs: m.Approvals["r1"].DecisionEventIDs}}
	if f := AuditListing(m, m, nil, true, false, true); f.OK {
		t.Errorf("our engine's audit without the voted request passed: %s", f)
	}
	if f := AuditListing(m, m, nil, true, false, false); !f.OK {
		t.Errorf("another backend's audit of decided requests only failed: %s", f)
	}
	if f := AuditListing(m, m, []AuditEntry{{RequestID: "r1"}}, true, false, false); f.OK {
		t.Errorf("a listed pending request without its vote passed: %s", f)
	}
	if f := AuditListing(m, m, listed, true, false, true); !f.OK || f.Samples != 1 {
		t.Errorf("the voted request listed with its vote: %s", f)
	}
}
