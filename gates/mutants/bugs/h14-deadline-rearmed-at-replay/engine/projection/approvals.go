//go:build mutant

// Seeded bug h14-deadline-rearmed-at-replay (round 3, stop 17; the
// independent backend's hunt 13 wrote it): a pending request's deadline is
// folded as its timeout from the time of the fold, so the replay at start
// arms every pending request anew. Breaks SPEC §5 (expiry at the request's
// deadline) and §3 (state survives a restart).

package projection

import (
	"fmt"
	"sort"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// Approval statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
)

// Approval is the state machine of one approval request. Version starts at
// 1 and grows by one with every decision event (votes included).
type Approval struct {
	event.Approval
	Status          string    `json:"status"`
	Version         int       `json:"version"`
	CreatedAt       time.Time `json:"created_at"`
	RequestEventID  string    `json:"request_event_id"`
	Votes           []Vote    `json:"votes"`
	DecisionEventID string    `json:"decision_event_id,omitempty"`
	DecidedBy       string    `json:"decided_by,omitempty"`
	DecidedAt       time.Time `json:"decided_at,omitzero"`
	// ExecutedEventID is the credit event the approval executed.
	ExecutedEventID string `json:"executed_event_id,omitempty"`
}

// Vote is one decision event on a request.
type Vote struct {
	EventID       string    `json:"event_id"`
	EventType     string    `json:"event_type"`
	DeciderID     string    `json:"decider_id,omitempty"`
	Justification string    `json:"justification,omitempty"`
	At            time.Time `json:"at"`
}

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

// Tombstone is what memory keeps of a decided request after its full state
// was evicted: enough to refuse a late decision with the winner.
type Tombstone struct {
	Status          string
	DecisionEventID string
	DecidedBy       string
	Version         int
}

// retire records a decided request; once more than DecidedKeep are decided,
// the oldest is evicted to a tombstone. The order is the fold's, so replay
// evicts exactly what the live engine evicted.
func (s *State) retire(a *Approval) {
	if len(s.decided) < s.cfg.DecidedKeep {
		s.decided = append(s.decided, a.RequestID)
		return
	}
	old := s.decided[s.decidedNext]
	if o, ok := s.approvals[old]; ok {
		s.tombstones.put(old, Tombstone{Status: o.Status, DecisionEventID: o.DecisionEventID, DecidedBy: o.DecidedBy, Version: o.Version})
		delete(s.approvals, old)
	}
	s.decided[s.decidedNext] = a.RequestID
	s.decidedNext = (s.decidedNext + 1) % len(s.decided)
}

// EvictedDecided is how many decided requests were evicted to tombstones.
func (s *State) EvictedDecided() int { return s.tombstones.len() }

// DecidedTombstone returns the tombstone of an evicted decided request.
func (s *State) DecidedTombstone(id string) (Tombstone, bool) {
	return s.tombstones.get(id)
}

// noteExecution links an approval to the credit event it executed; the
// engine writes that event with causation = the approval.approved event.
func (s *State) noteExecution(e *event.Envelope) {
	if e.CausationID == nil {
		return
	}
	if id, ok := s.byDecision[*e.CausationID]; ok {
		if a, ok := s.approvals[id]; ok {
			a.ExecutedEventID = e.EventID
		}
		delete(s.byDecision, *e.CausationID)
	}
}

// Approval returns a copy of one request.
func (s *State) Approval(id string) (Approval, bool) {
	a, ok := s.approvals[id]
	if !ok {
		return Approval{}, false
	}
	c := *a
	c.Votes = append([]Vote(nil), a.Votes...)
	return c, true
}

// Approvals returns requests with the given status ("" = all), oldest first.
func (s *State) Approvals(status string) []Approval {
	out := []Approval{}
	for _, a := range s.approvals {
		if status == "" || a.Status == status {
			c := *a
			c.Votes = append([]Vote(nil), a.Votes...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].RequestID < out[j].RequestID
	})
	return out
}

// PendingExpiringBefore lists pending request ids whose deadline is at or
// before t, in id order.
func (s *State) PendingExpiringBefore(t time.Time) []string {
	var ids []string
	for id, a := range s.approvals {
		if a.Status == StatusPending && !a.ExpiresAt.After(t) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ApprovalTrail folds one request's events from the journal, for a request
// whose full state was evicted from memory. Feed it every event in seq
// order; it ignores the others.
type ApprovalTrail struct {
	id string
	a  *Approval
}

// NewApprovalTrail starts a trail for request id.
func NewApprovalTrail(id string) *ApprovalTrail { return &ApprovalTrail{id: id} }

// Apply folds e if it belongs to the request.
func (t *ApprovalTrail) Apply(e *event.Envelope) {
	switch e.EventType {
	case event.ApprovalRequested:
		if p, err := decode[event.Approval](e); err == nil && p.RequestID == t.id {
			t.a = &Approval{Approval: p, Status: StatusPending, Version: 1, CreatedAt: e.Timestamp, RequestEventID: e.EventID}
		}
	case event.ApprovalVoteRecorded, event.ApprovalApproved, event.ApprovalRejected, event.ApprovalExpired:
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

// Result is the request's state, if the trail saw it requested.
func (t *ApprovalTrail) Result() (Approval, bool) {
	if t.a == nil {
		return Approval{}, false
	}
	return *t.a, true
}

// terminalStatus maps a decision event type to the status it ends in, ""
// for a non-terminal vote.
func terminalStatus(t event.Type) string {
	switch t {
	case event.ApprovalApproved:
		return StatusApproved
	case event.ApprovalRejected:
		return StatusRejected
	case event.ApprovalExpired:
		return StatusExpired
	}
	return ""
}
