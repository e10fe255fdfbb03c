//go:build mutant

// Seeded bug mission-end-cap-read-at-arrival (gate B): ending a mission caps its refund by the mission as read when the request arrived, outside the committer: a POST /refund against the mission committed meanwhile is not counted and the mission refunds more than it consumed

package engine

import (
	"context"
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// EndMission completes, fails or cancels a running mission and refunds:
// complete → estimate − actual if positive; fail → consumed × the refund
// percentage; cancel → everything consumed.
func (e *Engine) EndMission(ctx context.Context, req Request, typ event.Type, in MissionInput) (Result, error) {
	if in.ActualMilli < 0 || in.ActualMilli > e.cfg.MaxAmountMilli {
		return Result{}, refuse(CodeInvalid, nil, "actual_cost must be within 0..%s", money.Format(e.cfg.MaxAmountMilli))
	}
	// Read the mission once up front: its consumption and refunds bound
	// the refund, the rule only checks it is still running.
	m0, err := e.Mission(in.MissionID)
	if err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return endMissionRule(v, in, typ, m0, now) })
}

// endMissionRule ends a running mission (typ: completed, failed or
// cancelled) and refunds by typ, never more than the mission has left to
// refund.
func endMissionRule(v View, in MissionInput, typ event.Type, m0 projection.Mission, _ time.Time) (*plan, error) {
	m, ok := v.Mission(in.MissionID)
	if !ok {
		return nil, v.unknown("mission", in.MissionID)
	}
	if m.Status != projection.MissionRunning {
		return nil, refuse(CodeConflict, nil, "mission %q is already %s", in.MissionID, m.Status)
	}
	var refund int64
	switch typ {
	case event.MissionCompleted:
		refund = max(m.ConsumedMilli-in.ActualMilli, 0)
	case event.MissionFailed:
		refund = int64(math.Floor(float64(m.ConsumedMilli) * v.Settings.MissionFailRefund))
	case event.MissionCancelled:
		refund = m.ConsumedMilli
	}
	// Money guard: a mission never refunds more than it consumed, counting
	// the refunds already made against it through POST /refund.
	refund = min(refund, max(m0.ConsumedMilli-m0.RefundedMilli, 0))
	a, err := v.agent(m.AgentID)
	if err != nil {
		return nil, err
	}
	p := &plan{}
	p.add(typ, event.Mission{MissionID: m.MissionID, AgentID: m.AgentID, ActualMilli: in.ActualMilli, RefundMilli: refund}, nil)
	if refund > 0 {
		p.addCaused(event.CreditRefunded, event.Credit{AgentID: m.AgentID, AmountMilli: refund,
			BalanceAfterMilli: a.BalanceMilli + refund, Reason: "mission_" + typ[len("mission."):], MissionID: m.MissionID},
			-1, m.ConsumeEvent)
	}
	return p, nil
}
