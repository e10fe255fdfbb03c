//go:build mutant

// Seeded bug two-approvals-win (gate C, check C1): a decision does not
// re-check the request state, so racing approvals all win.

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
	a.Version++
	a.Votes = append(a.Votes, Vote{EventID: e.EventID, EventType: e.EventType, DeciderID: p.DeciderID,
		Justification: p.Justification, At: e.Timestamp})
	if st := terminalStatus(e.EventType); st != "" {
		a.Status = st
	}
	if a.Status != StatusPending {
		a.DecisionEventID, a.DecidedBy, a.DecidedAt = e.EventID, p.DeciderID, e.Timestamp
	}
	if a.Status == StatusApproved {
		s.byDecision[e.EventID] = a.RequestID
	}
	if a.Status != StatusPending {
		s.retire(a)
	}
	return nil
}
