//go:build mutant

// Seeded bug approval-view-forgets-decider (gate B, check B3): the approvals
// read model records the decision event but not who decided, so GET
// /approvals/{id}, the list and the audit answer decided_by null (the
// journal's approval.approved still names the approver).

package projection

import (
	"fmt"

	"github.com/creditgate/creditgate/engine/event"
)

func (s *State) applyApproval(e *event.Envelope) error {
	if e.EventType == event.ApprovalRequested {
		p, err := decode[event.Approval](e)
		if err != nil {
			return err
		}
		if _, ok := s.approvals[p.RequestID]; ok {
			return fmt.Errorf("approval %q requested twice", p.RequestID)
		}
		s.approvals[p.RequestID] = &Approval{Approval: p, Status: StatusPending, Version: 1,
			CreatedAt: e.Timestamp, RequestEventID: e.EventID}
		return nil
	}
	p, err := decode[event.Decision](e)
	if err != nil {
		return err
	}
	a, ok := s.approvals[p.RequestID]
	if !ok {
		return missing("approval", p.RequestID)
	}
	if a.Status != StatusPending {
		return fmt.Errorf("decision on %s approval %q", a.Status, p.RequestID)
	}
	a.Version++
	a.Votes = append(a.Votes, Vote{EventID: e.EventID, EventType: e.EventType, DeciderID: p.DeciderID,
		Justification: p.Justification, At: e.Timestamp})
	if st := terminalStatus(e.EventType); st != "" {
		a.Status = st
	}
	if a.Status != StatusPending {
		a.DecisionEventID, a.DecidedAt = e.EventID, e.Timestamp
	}
	if a.Status == StatusApproved {
		s.byDecision[e.EventID] = a.RequestID
	}
	if a.Status != StatusPending {
		s.retire(a)
	}
	return nil
}
