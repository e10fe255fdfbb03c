//go:build mutant

// Seeded bug mission-start-overdraws (gate B, check B29): a mission start
// checks its estimate against a balance read before a KARMA call, outside the
// lock.

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// StartMission consumes the mission's estimate from the agent.
func (e *Engine) StartMission(ctx context.Context, req Request, in MissionInput) (Result, error) {
	if err := validID("mission_id", in.MissionID); err != nil {
		return Result{}, err
	}
	if err := validID("agent_id", in.AgentID); err != nil {
		return Result{}, err
	}
	if _, ok := complexityFactor[in.Complexity]; in.Complexity != "" && !ok {
		return Result{}, refuse(CodeInvalid, nil, `complexity must be "low", "medium" or "high"`)
	}
	stale, _ := e.Balance(in.AgentID)
	_ = e.score(ctx, in.AgentID)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now, stale) })
}

// startMissionRule starts a new mission and consumes its estimate from the
// agent, never overdrawing.
func startMissionRule(v View, in MissionInput, _ time.Time, stale int64) (*plan, error) {
	if _, ok := v.Mission(in.MissionID); ok {
		return nil, refuse(CodeConflict, nil, "mission %q already started", in.MissionID)
	}
	if q := v.quarantined("mission", in.MissionID); q != nil {
		return nil, q
	}
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	est := MissionEstimateMilli(in.MissionType, in.Complexity, a.SkillLevel)
	if stale < est {
		return nil, insufficient(a, est, "needed by the mission estimate")
	}
	p := &plan{}
	m := p.add(event.MissionStarted, event.Mission{MissionID: in.MissionID, AgentID: a.ID,
		MissionType: in.MissionType, Complexity: in.Complexity, EstimateMilli: est}, nil)
	p.addCaused(event.CreditConsumed, event.Credit{AgentID: a.ID, AmountMilli: est,
		BalanceAfterMilli: a.BalanceMilli - est, Reason: "mission_start", MissionID: in.MissionID}, m, "")
	return p, nil
}
