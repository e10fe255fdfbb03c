//go:build mutant

// Seeded bug mission-refund-caused-by-end (gate A, check A5): a mission's
// refund points its causation_id at the mission's end event (the command's
// own first event) instead of the mission's consumption (SPEC §2).

package engine

import (
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

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
	end := p.add(typ, event.Mission{MissionID: m.MissionID, AgentID: m.AgentID, ActualMilli: in.ActualMilli, RefundMilli: refund}, nil)
	if refund > 0 {
		p.addCaused(event.CreditRefunded, event.Credit{AgentID: m.AgentID, AmountMilli: refund,
			BalanceAfterMilli: a.BalanceMilli + refund, Reason: "mission_" + typ[len("mission."):], MissionID: m.MissionID},
			end, "")
	}
	return p, nil
}
