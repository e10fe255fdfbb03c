//go:build mutant

// Seeded bug h5-synergie-capped-whole-reward (blind hunt 5): when a reward
// crosses the per-team cap (part of it still paid, the rest withheld), the
// synergie.reward_capped event records the WHOLE reward instead of the part
// above the cap, so paid + capped exceeds the reward and GET /synergie/{agent}
// over-reports total_capped (SPEC §5: "the part above the cap is not paid and
// a synergie.reward_capped event records it"). Balances are right, and a
// fold of the journal agrees with the API (both read the wrong event); only
// the one collaboration that crosses the cap per agent and team shows it.

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
		if amount > paid {
			w := r
			w.AmountMilli = amount
			p.addCaused(event.SynergieRewardCapped, w, c, "")
		}
	}
	return p, nil
}
