//go:build mutant

// Seeded bug approved-withdrawal-overdraws (gate B, check B47): a
// withdrawal approved by a person executes without a balance check.

package engine

import (
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// execution appends the terminal approval and the executed credit event
// (causation = the approval event) to p.
func execution(p *plan, ap event.Approval, a projection.AgentView, causedBy int, decider, just string, version int) error {
	typ, bal := event.CreditAllocated, a.BalanceMilli+ap.AmountMilli
	if ap.ActionType == "withdraw" {
		if a.BalanceMilli < ap.AmountMilli && decider == AutoApprover {
			return insufficient(a, ap.AmountMilli, "needed by the approved withdrawal")
		}
		typ, bal = event.CreditWithdrawn, a.BalanceMilli-ap.AmountMilli
	}
	d := p.addCaused(event.ApprovalApproved, event.Decision{RequestID: ap.RequestID, DeciderID: decider,
		Justification: just, Version: version}, causedBy, "")
	p.addCaused(typ, event.Credit{AgentID: a.ID, AmountMilli: ap.AmountMilli, BalanceAfterMilli: bal,
		Reason: "approval:" + ap.RequestID + ": " + ap.Reason}, d, "")
	return nil
}
