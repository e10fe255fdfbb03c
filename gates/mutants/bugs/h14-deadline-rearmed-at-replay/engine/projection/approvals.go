//go:build mutant

// Seeded bug h14-deadline-rearmed-at-replay (round 3, stop 17; the
// independent backend's hunt 13 wrote it): a pending request's deadline is
// folded as its timeout from the time of the fold, so the replay at start
// arms every pending request anew. Breaks SPEC §5 (expiry at the request's
// deadline) and §3 (state survives a restart).

package projection

import (
	"fmt"
	"time"

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
		// BUG: the deadline is kept as the timeout from the fold, so a
		// replay at start arms every pending request anew.
		p.ExpiresAt = time.Now().UTC().Add(p.ExpiresAt.Sub(e.Timestamp))
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
