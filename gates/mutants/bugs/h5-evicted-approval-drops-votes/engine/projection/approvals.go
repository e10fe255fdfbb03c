//go:build mutant

// Seeded bug h5-evicted-approval-drops-votes (blind hunt 5): the journal
// trail that rebuilds a decided request evicted from memory (more than
// CREDITD_APPROVALS_KEEP, default 200, decided since) ignores
// approval.vote_recorded: GET /approvals/{id} of an evicted CRITICAL request
// lists only its final approval (the first approver's vote is gone) and
// reports version 2 instead of 3, while the in-memory fold, the audit and
// the journal all have both votes. Breaks SPEC §5/§6 (GET /approvals/{id}:
// one request with its decisions; CRITICAL needs 2 distinct approvers) and
// §4 (approvals read model = fold of the journal).

package projection

import (
	"github.com/creditgate/creditgate/engine/event"
)

// Apply folds e if it belongs to the request.
func (t *ApprovalTrail) Apply(e *event.Envelope) {
	switch e.EventType {
	case event.ApprovalRequested:
		if p, err := decode[event.Approval](e); err == nil && p.RequestID == t.id {
			t.a = &Approval{Approval: p, Status: StatusPending, Version: 1, CreatedAt: e.Timestamp, RequestEventID: e.EventID}
		}
	case event.ApprovalApproved, event.ApprovalRejected, event.ApprovalExpired:
		p, err := decode[event.Decision](e)
		if err != nil || p.RequestID != t.id || t.a == nil || t.a.Status != StatusPending {
			return
		}
		t.a.Version++
		t.a.Votes = append(t.a.Votes, Vote{EventID: e.EventID, EventType: e.EventType, DeciderID: p.DeciderID,
			Justification: p.Justification, At: e.Timestamp})
		if st := terminalStatus(e.EventType); st != "" {
			t.a.Status, t.a.DecisionEventID, t.a.DecidedBy, t.a.DecidedAt = st, e.EventID, p.DeciderID, e.Timestamp
		}
	default:
		if t.a != nil && t.a.Status == StatusApproved && t.a.ExecutedEventID == "" && e.CausationID != nil && *e.CausationID == t.a.DecisionEventID {
			t.a.ExecutedEventID = e.EventID
		}
	}
}
