//go:build mutant

// Seeded bug h6-complete-zero-cost-no-refund (blind hunt 6): completing a mission with actual_cost 0
// (or without actual_cost) refunds nothing, as if the whole estimate had been spent, instead of the
// full estimate (SPEC §5 missions: 'complete refunds estimate − actual if positive'; estimate − 0 is
// positive). Any actual_cost > 0 still refunds estimate − actual. A client sees: agent with ≥ 10
// credits; POST /missions {mission_id m, agent_id, mission_type general, complexity medium} (consumes
// 10); POST /missions/m/complete {"actual_cost":0}: 200 with one event (mission.completed,
// refund_milli 0), no credit.refunded; GET /missions/m shows refunded 0 and the balance stays 10
// lower, where the spec wants refunded 10 and the balance back. With actual_cost 0.001 the refund is
// 9.999.

package engine

import (
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// endMissionRule ends a running mission (typ: completed, failed or
// cancelled) and refunds by typ, never more than the mission has left to
// refund.
func endMissionRule(v View, in MissionInput, typ event.Type, _ time.Time) (*plan, error) {
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
		// No actual cost reported (0): the estimate stands as the cost.
		if in.ActualMilli > 0 {
			refund = max(m.ConsumedMilli-in.ActualMilli, 0)
		}
	case event.MissionFailed:
		refund = int64(math.Floor(float64(m.ConsumedMilli) * v.Settings.MissionFailRefund))
	case event.MissionCancelled:
		refund = m.ConsumedMilli
	}
	// Money guard: a mission never refunds more than it consumed, counting
	// the refunds already made against it through POST /refund.
	refund = min(refund, max(m.ConsumedMilli-m.RefundedMilli, 0))
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
