//go:build mutant

// Seeded bug h8-fail-refund-of-remaining (blind hunt 8): a failed mission refunds its share of what
// is left after the refunds already made against it ((consumed − refunded) × share), not its share of
// what it consumed (capped by what is left). Breaks SPEC §5 (fail refunds consumed × refund
// percentage). With the default share 1.0 both give the same; it shows only with a share below 1
// after a partial POST /refund naming the mission. A client sees: share 0.5, a mission of 10, a
// refund of 3 naming it, fail → refund 3.5 (should be 5).

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
		refund = max(m.ConsumedMilli-in.ActualMilli, 0)
	case event.MissionFailed:
		refund = int64(math.Floor(float64(m.ConsumedMilli-m.RefundedMilli) * v.Settings.MissionFailRefund))
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
