//go:build mutant

// Seeded bug h7-finished-mission-reopens (blind hunt 7, found on the independent backend): the
// "mission already finished" guard asks whether the mission has refunded what it consumed instead of
// whether it is still running. A mission completed at an actual cost of at least its estimate (end
// refund 0) can then be cancelled or failed, and that refunds the whole estimate: the agent gets the
// mission for free. Breaks SPEC §5 (complete refunds estimate − actual only if positive) and §1 (a
// mission's balance is never negative). A client sees: start m (estimate 7), complete at actual_cost 7
// (200, refund 0), cancel → 200 and +7 (should be 409, nothing).

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
	// A mission is over once it has refunded what it consumed.
	if m.Status != projection.MissionRunning && m.RefundedMilli >= m.ConsumedMilli {
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
