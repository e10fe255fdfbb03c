//go:build mutant

// Seeded bug refund-other-agents-mission (gate B, check B47): a refund
// naming a mission is bounded by what the mission has left to refund, but
// not checked to be for the mission's own agent, so agent B is credited
// from agent A's mission.

package engine

import "github.com/creditgate/creditgate/engine/money"

func refundBound(v View, in CreditInput) error {
	m, known := v.Mission(in.MissionID)
	if in.MissionID != "" && !known {
		return v.unknown("mission", in.MissionID)
	}
	if in.MissionID != "" {
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
