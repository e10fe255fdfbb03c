//go:build mutant

// Seeded bug h14-synergie-team-karma-of-first (blind hunt 14, in our
// engine): every reward of a collaboration is weighted by the first agent's
// KARMA score, recorded as each agent's own. Breaks SPEC §5 (reward = base ×
// contribution × the agent's KARMA weight).

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// collaborationRule rewards every agent of a new collaboration, capped per
// agent and team; the withheld part is journaled as synergie.reward_capped.
// A repeated collaboration_id is errDuplicate: nothing is written.
func collaborationRule(v View, in collaboration, _ time.Time) (*plan, error) {
	if v.HasCollaboration(in.CollaborationID) {
		return nil, errDuplicate
	}
	views := make([]projection.AgentView, len(in.Agents))
	for i, a := range in.Agents {
		av, err := v.agent(a)
		if err != nil {
			return nil, err
		}
		views[i] = av
	}
	p := &plan{}
	c := p.add(event.SynergieCollaborationRecorded, event.Collaboration{CollaborationID: in.CollaborationID,
		TeamID: in.TeamID, MissionID: in.MissionID, AgentIDs: in.Agents, ContributionScores: in.ContributionScores}, nil)
	capMilli := v.Settings.Synergie.CapMilli
	score := in.Scores[0] // BUG: the team is weighted by its lead's KARMA score
	for i, a := range in.Agents {
		contrib := in.ContributionScores[a]
		amount := RewardMilli(v.Settings.Synergie.BaseMilli, contrib, score.Value)
		room := max(capMilli-v.SynergieGranted(in.TeamID, a), 0)
		paid := min(amount, room)
		r := event.Reward{CollaborationID: in.CollaborationID, TeamID: in.TeamID, AgentID: a,
			KarmaScore: score.Value, Contribution: contrib, CapMilli: capMilli}
		rewardAgent(p, r, amount, paid, views[i].BalanceMilli, score, c)
	}
	return p, nil
}
