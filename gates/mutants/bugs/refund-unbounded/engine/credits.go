//go:build mutant

// Seeded bug refund-unbounded (gate C, check C26): POST /refund skips its
// bound: any amount, naming nothing, is credited without approval.

package engine

import "github.com/creditgate/creditgate/engine/money"

// refundBound is the refund guard: bounded by the named mission, or
// below the approval threshold when it names none.
func refundBound(v View, in CreditInput) error {
	return nil
	m, known := v.Mission(in.MissionID)
	if in.MissionID != "" && !known {
		return v.unknown("mission", in.MissionID)
	}
	if in.MissionID != "" {
		if m.AgentID != in.AgentID {
			return refuse(CodeInvalid, nil, "mission_id: mission %q belongs to agent %q, not %q", in.MissionID, m.AgentID, in.AgentID)
		}
		room := max(m.ConsumedMilli-m.RefundedMilli, 0)
		if in.AmountMilli > room {
			return refuse(CodeRefundExceedsConsumed, RefundExceedsBody{MissionID: in.MissionID, Consumed: money.Credits(m.ConsumedMilli),
				Refunded: money.Credits(m.RefundedMilli), Refundable: money.Credits(room), Requested: money.Credits(in.AmountMilli)},
				"mission %q has %s credits left to refund, %s requested", in.MissionID, money.Format(room), money.Format(in.AmountMilli))
		}
		return nil
	}
	if threshold := v.Settings.Approval.ThresholdMilli; in.AmountMilli >= threshold {
		return refuse(CodeApprovalRequired, nil, "amount: a refund of %s credits or more must name the mission_id of a mission whose unrefunded consumption covers it; grant other credits through POST /add (human approval)",
			money.Format(threshold))
	}
	return nil
}
