//go:build mutant

// Seeded bug h15-late-reject-not-expired (gate c): the lazy expiry runs on approvals only: an overdue request rejected before the sweeper ran is recorded as rejected, not expired

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// pending returns the request if it can still be decided. An overdue
// request is expired right here (lazy expiry), in the same plan.
func pending(v View, p *plan, in DecisionInput, approve bool, now time.Time) (projection.Approval, bool, error) {
	ap, ok := v.Approval(in.RequestID)
	if !ok {
		if t, old := v.DecidedTombstone(in.RequestID); old {
			return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: in.RequestID, Status: t.Status,
				DecisionEventID: t.DecisionEventID, DecidedBy: t.DecidedBy, Version: t.Version},
				"approval %q was already %s by %s (event %s)", in.RequestID, t.Status, orSystem(t.DecidedBy), t.DecisionEventID)
		}
		return ap, false, v.unknown("approval", in.RequestID)
	}
	if ap.Status != projection.StatusPending {
		return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},
			"approval %q was already %s by %s (event %s)", ap.RequestID, ap.Status, orSystem(ap.DecidedBy), ap.DecisionEventID)
	}
	// An overdue request is expired here before it could be approved; a
	// rejection refuses the action anyway, so it is recorded as given.
	if approve && !now.Before(ap.ExpiresAt) {
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: ap.RequestID, Version: ap.Version}, -1, ap.RequestEventID)
		return ap, true, nil
	}
	if in.ExpectedVersion != 0 && in.ExpectedVersion != ap.Version {
		return ap, false, refuse(CodeVersionMismatch, DecidedBody{RequestID: ap.RequestID, Status: ap.Status, Version: ap.Version},
			"approval %q is at version %d, not %d", ap.RequestID, ap.Version, in.ExpectedVersion)
	}
	return ap, false, nil
}

// decideRule records an approval, a vote or a rejection by in.DeciderID;
// the decision that completes the approvals executes the gated action in
// the same plan. A request past its deadline is expired instead: the plan
// writes approval.expired and expired names the request, whose caller is
// answered already_decided once that is committed.
func decideRule(v View, in decisionRequest, now time.Time) (_ *plan, expired *projection.Approval, _ error) {
	p := &plan{}
	ap, exp, err := pending(v, p, in.DecisionInput, in.Approve, now)
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
	if (ap.RiskLevel == RiskHigh || ap.RiskLevel == RiskCritical) && in.Justification == "" {
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
