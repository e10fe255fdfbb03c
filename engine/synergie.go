package engine

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/projection"
)

// CollaborationInput records a team collaboration.
type CollaborationInput struct {
	CollaborationID    string
	TeamID             string
	MissionID          string
	AgentIDs           []string
	ContributionScores map[string]float64
}

// errDuplicate ends a command that must write nothing because its effect
// already happened (a repeated collaboration_id).
var errDuplicate = errors.New("engine: duplicate")

// RewardMilli is the synergie formula: base × contribution × (0.5 + KARMA
// score), rounded down to the milli-credit. With the fallback score 0.5 the
// weight is 1.0; a KARMA score of 1 gives 1.5×, of 0 gives 0.5×.
func RewardMilli(baseMilli int64, contribution, karmaScore float64) int64 {
	return int64(math.Floor(float64(baseMilli) * contribution * (0.5 + karmaScore)))
}

// RecordCollaboration grants each agent a reward, capped per agent and team;
// the withheld part is journaled as synergie.reward_capped. A repeated
// collaboration_id writes nothing (Result.Events is empty).
func (e *Engine) RecordCollaboration(ctx context.Context, req Request, in CollaborationInput) (Result, error) {
	for _, f := range [][2]string{{"collaboration_id", in.CollaborationID}, {"team_id", in.TeamID}} {
		if err := validID(f[0], f[1]); err != nil {
			return Result{}, err
		}
	}
	if in.MissionID != "" {
		if err := validID("mission_id", in.MissionID); err != nil {
			return Result{}, err
		}
	}
	agents := distinct(in.AgentIDs)
	if len(agents) < 2 {
		return Result{}, refuse(CodeInvalid, nil, "a team needs at least 2 distinct agents, got %d", len(agents))
	}
	if len(agents) > e.cfg.Synergie.MaxTeam {
		return Result{}, refuse(CodeInvalid, nil, "a team has at most %d agents", e.cfg.Synergie.MaxTeam)
	}
	for _, a := range agents {
		if err := validID("agent_ids[]", a); err != nil {
			return Result{}, err
		}
		c, ok := in.ContributionScores[a]
		if !ok || math.IsNaN(c) || c < 0 || c > 1 {
			return Result{}, refuse(CodeInvalid, nil, "contribution_scores[%q] must be given within 0..1", a)
		}
	}
	for a := range in.ContributionScores {
		if !contains(agents, a) {
			return Result{}, refuse(CodeInvalid, nil, "contribution_scores names %q, who is not in agent_ids", a)
		}
	}
	scores := make([]karma.Score, len(agents))
	for i, a := range agents {
		scores[i] = e.score(ctx, a)
	}
	c := collaboration{CollaborationInput: in, Agents: agents, Scores: scores}
	res, err := e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return collaborationRule(v, c, now) })
	if errors.Is(err, errDuplicate) {
		return Result{}, nil
	}
	return res, err
}

// collaboration is the input of collaborationRule: the request, its
// distinct agents and their KARMA scores (asked before the rule, in order).
type collaboration struct {
	CollaborationInput
	Agents []string
	Scores []karma.Score
}

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
		rewardAgent(p, r, amount, paid, views[i].BalanceMilli, in.Scores[i], c)
	}
	return p, nil
}

// rewardAgent adds one agent's reward of a collaboration to p: the paid
// part as synergie.reward_granted (with its KARMA metadata), the part above
// the cap as synergie.reward_capped; both are caused by the collaboration
// event, the plan's event c.
func rewardAgent(p *plan, r event.Reward, amount, paid, balance int64, score karma.Score, c int) {
	if paid > 0 {
		g := r
		g.AmountMilli, g.BalanceAfterMilli = paid, balance+paid
		j := p.addCaused(event.SynergieRewardGranted, g, c, "")
		p.events[j].meta = karmaMeta(score)
	}
	if amount > paid {
		w := r
		w.AmountMilli = amount - paid
		p.addCaused(event.SynergieRewardCapped, w, c, "")
	}
}

func distinct(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// SynergieOf returns an agent's synergie accounts by team.
func (e *Engine) SynergieOf(agentID string) ([]projection.SynergieAccount, error) {
	var out []projection.SynergieAccount
	var ok bool
	err := e.read(func(st *projection.State) {
		_, ok = st.Agent(agentID)
		out = st.SynergieOf(agentID)
	})
	if err == nil && !ok {
		err = e.unknown("agent", agentID)
	}
	return out, err
}
