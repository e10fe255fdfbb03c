//go:build mutant

// Seeded bug synergie-capped-only-when-partly-paid (gate B): synergie.reward_capped is written only when part of the reward was still paid: once an agent is at the cap its withheld rewards are not recorded

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
	for i, a := range in.Agents {
		contrib := in.ContributionScores[a]
		amount := RewardMilli(v.Settings.Synergie.BaseMilli, contrib, in.Scores[i].Value)
		room := max(capMilli-v.SynergieGranted(in.TeamID, a), 0)
		paid := min(amount, room)
		r := event.Reward{CollaborationID: in.CollaborationID, TeamID: in.TeamID, AgentID: a,
			KarmaScore: in.Scores[i].Value, Contribution: contrib, CapMilli: capMilli}
		if paid > 0 {
			g := r
			g.AmountMilli, g.BalanceAfterMilli = paid, views[i].BalanceMilli+paid
			j := p.addCaused(event.SynergieRewardGranted, g, c, "")
			p.events[j].meta = karmaMeta(in.Scores[i])
		}
		if amount > paid && paid > 0 {
			w := r
			w.AmountMilli = amount - paid
			p.addCaused(event.SynergieRewardCapped, w, c, "")
		}
	}
	return p, nil
}
