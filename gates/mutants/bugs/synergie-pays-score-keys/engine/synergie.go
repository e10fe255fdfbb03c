//go:build mutant

// Seeded bug synergie-pays-score-keys (gate B, check B47): the team is read
// from contribution_scores, not agent_ids: every agent_id must have a score,
// but an agent named only in contribution_scores (not a team member) is
// rewarded too.

package engine

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/creditgate/creditgate/engine/karma"
)

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
	// The scores carry every agent with its contribution: the team is
	// the scored agents (agent_ids each need a score, checked above).
	agents = agents[:0:0]
	for a := range in.ContributionScores {
		agents = append(agents, a)
	}
	sort.Strings(agents)
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
