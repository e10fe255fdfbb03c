package audit

import (
	"strings"
	"testing"
)

// B3 (the list) and B12 (GET /approvals/{id}) compare every field of a
// request the journal fixes: a read model that forgets who decided, or
// garbles a decision, is caught.
func TestApprovalsEqualTheFoldInEveryFieldTheJournalFixes(t *testing.T) {
	w := cleanWorld(t)
	m := foldTest(w.b.journal())
	cases := []struct {
		name, field string
		edit        func(a *ApprovalState)
	}{
		{"decided_by answered null", "decided_by", func(a *ApprovalState) { a.DecidedBy = "" }},
		{"decided_by another principal", "decided_by", func(a *ApprovalState) { a.DecidedBy = "mallory" }},
		{"a decision's decider dropped", "decisions[0] decider_id", func(a *ApprovalState) { a.Decisions[0].DeciderID = "" }},
		{"a decision's type garbled", "decisions[0] event_type", func(a *ApprovalState) { a.Decisions[0].EventType = "approval.rejected" }},
		{"a decision's time moved", "decisions[0] at", func(a *ApprovalState) { a.Decisions[0].At = "2027-01-01T00:00:00Z" }},
		{"risk level", "risk_level", func(a *ApprovalState) { a.RiskLevel = "LOW" }},
		{"reason", "reason", func(a *ApprovalState) { a.Reason = "" }},
		{"required approvals", "required_approvals", func(a *ApprovalState) { a.RequiredApprovals = 2 }},
		{"created_at", "created_at", func(a *ApprovalState) { a.CreatedAt = "2025-01-01T00:00:00Z" }},
		{"expires_at", "expires_at", func(a *ApprovalState) { a.ExpiresAt = "2026-01-03T00:00:00Z" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := apiFromModel(m)
			st.Entities = &EntityState{AgentBalances: map[string]int64{}, Approvals: map[string]ApprovalState{}}
			for id, b := range m.Balances {
				st.Entities.AgentBalances[id] = b
			}
			st.Entities.Pools = map[string]PoolView{}
			for id, p := range m.Pools {
				var members []string
				for a, in := range p.Members {
					if in {
						members = append(members, a)
					}
				}
				st.Entities.Pools[id] = PoolView{BalanceMilli: p.BalanceMilli, Members: members, Closed: p.Closed}
			}
			for id, a := range st.Approvals {
				a.Decisions = append([]Decision(nil), a.Decisions...)
				st.Approvals[id] = a
				st.Entities.Approvals[id] = a
			}
			if f, g := CompareApprovals(m, st), CompareEntities(m, st); !f.OK || !g.OK {
				t.Fatalf("unedited approvals differ: %s\n%s", f, g)
			}
			a := st.Approvals["r1"]
			a.Decisions = append([]Decision(nil), a.Decisions...)
			tc.edit(&a)
			st.Approvals["r1"], st.Entities.Approvals["r1"] = a, a
			for _, f := range []Finding{CompareApprovals(m, st), CompareEntities(m, st)} {
				if f.OK || !strings.Contains(f.String(), tc.field+" API") {
					t.Errorf("%s not detected: %s", tc.field, f)
				}
			}
		})
	}
}

// A field the backend does not serve is named, not failed (SPEC §6 names
// the approval routes, not their fields).
func TestApprovalFieldsABackendDoesNotServeAreNamedNotFailed(t *testing.T) {
	w := cleanWorld(t)
	m := foldTest(w.b.journal())
	st := apiFromModel(m)
	for id, a := range st.Approvals {
		a.Fields &^= FieldDecidedBy | FieldDecisionDecider
		a.DecidedBy = ""
		a.Decisions = append([]Decision(nil), a.Decisions...)
		for i := range a.Decisions {
			a.Decisions[i].DeciderID = ""
		}
		st.Approvals[id] = a
	}
	f := CompareApprovals(m, st)
	if !f.OK || !strings.Contains(f.Detail, "not served, so not compared: decided_by, decisions[].decider_id") {
		t.Fatalf("%s", f)
	}
}

// A backend that omits an empty member of one decision still serves it:
// the decision sub-fields served anywhere in a read count for all of it.
func TestApprovalStateReadsNullAsServedAndAbsentAsNot(t *testing.T) {
	s, err := apiApproval{RequestID: "r1", Amount: "600", DecidedBy: []byte("null")}.state()
	if err != nil || s.Fields&FieldDecidedBy == 0 || s.DecidedBy != "" || s.Fields&FieldRiskLevel != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	m := map[string]ApprovalState{"a": {Fields: FieldDecisionJustification}, "b": {}}
	shareDecisionFields(m)
	if m["b"].Fields&FieldDecisionJustification == 0 {
		t.Fatalf("a sub-field one decision carries is served for the whole read")
	}
}
