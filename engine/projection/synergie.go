package projection

import (
	"fmt"
	"sort"

	"github.com/creditgate/creditgate/engine/event"
)

// SynergieAccount is what one agent earned from synergie in one team.
type SynergieAccount struct {
	TeamID       string `json:"team_id"`
	AgentID      string `json:"agent_id"`
	GrantedMilli int64  `json:"granted_milli"`
	CappedMilli  int64  `json:"capped_milli"`
	Rewards      int64  `json:"rewards"`
}

func synergieKey(team, agent string) string { return team + "\x00" + agent }

func (s *State) account(team, agent string) *SynergieAccount {
	k := synergieKey(team, agent)
	a, ok := s.synergie[k]
	if !ok {
		a = &SynergieAccount{TeamID: team, AgentID: agent}
		s.synergie[k] = a
	}
	return a
}

func (s *State) applySynergie(e *event.Envelope) error {
	switch e.EventType {
	case event.SynergieCollaborationRecorded:
		p, err := decode[event.Collaboration](e)
		if err != nil {
			return err
		}
		if _, ok := s.collabs[p.CollaborationID]; ok {
			return fmt.Errorf("collaboration %q recorded twice", p.CollaborationID)
		}
		s.collabs[p.CollaborationID] = e.Seq
	case event.SynergieRewardGranted:
		p, err := decode[event.Reward](e)
		if err != nil {
			return err
		}
		if err := s.needAgent(p.AgentID); err != nil {
			return err
		}
		s.rewardedCollaboration(e, p.CollaborationID)
		acc := s.account(p.TeamID, p.AgentID)
		acc.GrantedMilli += p.AmountMilli
		acc.Rewards++
		return s.moveAgent(e, p.AgentID, p.AmountMilli, reasonSynergie, "")
	case event.SynergieRewardCapped:
		p, err := decode[event.Reward](e)
		if err != nil {
			return err
		}
		s.rewardedCollaboration(e, p.CollaborationID)
		s.account(p.TeamID, p.AgentID).CappedMilli += p.AmountMilli
	case event.SynergieReuseDetected:
		// Informational: a collaboration id was offered again with different
		// content. Nothing to fold.
	}
	return nil
}

// rewardedCollaboration keeps a collaboration counted as recorded when
// only its rewards survived: its own line is written first in the same
// command, so this matters only when recovery lost that line, and then a
// resubmission of the collaboration must not pay the rewards twice.
func (s *State) rewardedCollaboration(e *event.Envelope, id string) {
	if _, ok := s.collabs[id]; !ok && id != "" {
		s.collabs[id] = e.Seq
	}
}

// SynergieGranted is how much an agent already earned from synergie in a team.
func (s *State) SynergieGranted(team, agent string) int64 {
	if a, ok := s.synergie[synergieKey(team, agent)]; ok {
		return a.GrantedMilli
	}
	return 0
}

// HasCollaboration reports whether a collaboration id was recorded.
func (s *State) HasCollaboration(id string) bool {
	_, ok := s.collabs[id]
	return ok
}

// SynergieOf returns an agent's accounts across teams, by team id.
func (s *State) SynergieOf(agent string) []SynergieAccount {
	var out []SynergieAccount
	for _, a := range s.synergie {
		if a.AgentID == agent {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TeamID < out[j].TeamID })
	return out
}
