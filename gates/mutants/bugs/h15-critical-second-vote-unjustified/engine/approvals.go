//go:build mutant

// Seeded bug h15-critical-second-vote-unjustified (gate c): only the first vote on a CRITICAL request needs a justification: the second, which completes the request and executes it, is accepted without one

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// decideRule records an approval, a vote or a rejection by in.DeciderID;
// the decision that completes the approvals executes the gated action in
// the same plan. A request past its deadline is expired instead: the plan
// writes approval.expired and expired names the request, whose caller is
// answered already_decided once that is committed.
func decideRule(v View, in decisionRequest, now time.Time) (_ *plan, expired *projection.Approval, _ error) {
	p := &plan{}
	ap, exp, err := pending(v, p, in.DecisionInput, now)
	if err != nil {
		return nil, nil, err
	}
	if exp {
		return p, &ap, nil
	}
	if ap.RequesterID == in.DeciderID {
		return nil, nil, refuse(CodeFourEyes, nil, "the requester %q may not decide their own request %q", in.DeciderID, ap.RequestID)
	}
	if !in.Approve {
		p.addCaused(event.ApprovalRejected, event.Decision{RequestID: ap.RequestID, DeciderID: in.DeciderID,
			Justification: in.Justification, Version: ap.Version}, -1, ap.RequestEventID)
		return p, nil, nil
	}
	// A CRITICAL request is justified once, by its first approver.
	if (ap.RiskLevel == RiskHigh || ap.RiskLevel == RiskCritical && len(ap.Votes) == 0) && in.Justification == "" {
		return nil, nil, refuse(CodeJustificationRequired, nil, "a %s approval needs a justification", ap.RiskLevel)
	}
	votes := 0
	for _, vote := range ap.Votes {
		if vote.EventType == event.ApprovalVoteRecorded {
			if vote.DeciderID == in.DeciderID {
				return nil, nil, refuse(CodeDuplicateApprover, nil,
					"%q already approved %q; a %s request needs %d distinct approvers", in.DeciderID, ap.RequestID, ap.RiskLevel, ap.RequiredApprovals)
			}
			votes++
		}
	}
	if votes+1 < ap.RequiredApprovals {
		p.addCaused(event.ApprovalVoteRecorded, event.Decision{RequestID: ap.RequestID, DeciderID: in.DeciderID,
			Justification: in.Justification, Version: ap.Version}, -1, ap.RequestEventID)
		return p, nil, nil
	}
	a, err := v.agent(ap.AgentID)
	if err != nil {
		return nil, nil, err
	}
	// The decision's own causation is the request; execution chains the
	// credit event to the decision.
	before := len(p.events)
	if err := execution(p, ap.Approval, a, -1, in.DeciderID, in.Justification, ap.Version); err != nil {
		return nil, nil, err
	}
	p.events[before].cause = ap.RequestEventID
	return p, nil, nil
}
