package projection

import (
	"fmt"

	"github.com/creditgate/creditgate/engine/event"
)

// Mission statuses.
const (
	MissionRunning   = "running"
	MissionCompleted = "completed"
	MissionFailed    = "failed"
	MissionCancelled = "cancelled"
)

// Mission is a mission hook's state: what was consumed at start and what
// was refunded at its end.
type Mission struct {
	event.Mission
	Status        string  `json:"status"`
	ConsumedMilli int64   `json:"consumed_milli"`
	RefundedMilli int64   `json:"refunded_milli"`
	Rating        float64 `json:"rating,omitempty"`
}

func (s *State) applyMission(e *event.Envelope) error {
	p, err := decode[event.Mission](e)
	if err != nil {
		return err
	}
	if e.EventType == event.MissionStarted {
		if _, ok := s.missions[p.MissionID]; ok {
			return fmt.Errorf("mission %q started twice", p.MissionID)
		}
		s.missions[p.MissionID] = &Mission{Mission: p, Status: MissionRunning, ConsumedMilli: p.EstimateMilli}
		return nil
	}
	m, ok := s.missions[p.MissionID]
	if !ok {
		return missing("mission", p.MissionID)
	}
	switch e.EventType {
	case event.MissionCompleted:
		m.Status = MissionCompleted
	case event.MissionFailed:
		m.Status = MissionFailed
	case event.MissionCancelled:
		m.Status = MissionCancelled
	case event.MissionRated:
		m.Rating = p.Rating
		return nil
	}
	// RefundedMilli is counted by the credit.refunded events that name the
	// mission (the end event's own refund and direct refunds alike), so the
	// refund guard sees every refund once.
	m.ActualMilli = p.ActualMilli
	return nil
}

// noteMissionRefund counts a refund against the mission it names, when the
// mission exists and belongs to the refunded agent.
func (s *State) noteMissionRefund(c event.Credit) {
	if m, ok := s.missions[c.MissionID]; ok && m.AgentID == c.AgentID {
		m.RefundedMilli += c.AmountMilli
	}
}

// MissionView returns a copy of a mission.
func (s *State) MissionView(id string) (Mission, bool) {
	m, ok := s.missions[id]
	if !ok {
		return Mission{}, false
	}
	return *m, true
}
