//go:build mutant

// Seeded bug mission-refunds-ignore-earlier (gate B, check B47): repeated
// refunds against one mission are each bounded by its consumption, not by what
// is left of it.

package engine

import "github.com/creditgate/creditgate/engine/money"

// refundBound is the refund guard: bounded by the named mission, or
// below the approval threshold when it names none.
func refundBound(v View, in CreditInput) error {
	m, known := v.Mission(in.MissionID)
	if in.MissionID != "" && !known {
		return v.unknown("mission", in.MissionID)
	}
	if in.MissionID != "" {
		if m.AgentID != in.AgentID {
			return refuse(CodeInvalid, nil, "mission_id: mission %q belongs to agent %q, not %q", in.MissionID, m.AgentID, in.AgentID)
		}
		room := m.ConsumedMilli
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
