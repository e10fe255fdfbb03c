//go:build mutant

// Seeded bug h13-auto-approved-credit-caused-by-request (blind hunt 13, in our
// engine): a LOW request's auto-approved credit names the approval.requested
// event as its cause, not the approval.approved. Breaks SPEC §2/§5 ("approval
// executes the gated action exactly once (causation = the approval event)").
// Gate A's journal held MEDIUM requests only; it now holds a LOW one too.
package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

func requestApprovalRule(v View, in approvalRequest, now time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	level, approvers, timeout := riskOf(v.Settings.Approval, in.AmountMilli)
	p := &plan{}
	ap := event.Approval{RequestID: in.RequestID, ActionType: in.ActionType, AgentID: in.AgentID,
		AmountMilli: in.AmountMilli, Reason: in.Reason, Justification: in.Justification, RequesterID: in.RequesterID,
		RiskLevel: level, RequiredApprovals: approvers, ExpiresAt: now.UTC().Add(timeout)}
	i := p.add(event.ApprovalRequested, ap, nil)
	if level == RiskLow {
		if err := execution(p, ap, a, i, AutoApprover, "below the MEDIUM threshold", 1); err != nil {
			return nil, err
		}
		p.events[len(p.events)-1].causedBy = i
	}
	return p, nil
}
