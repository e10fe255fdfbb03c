//go:build mutant

// Seeded bug h5-withdraw-at-threshold-direct (blind hunt 5): POST /withdraw
// gates only amounts strictly above approval.threshold (> instead of >=), so
// a withdrawal of exactly the threshold (500 credits by default) is applied
// directly (200, credit.withdrawn) instead of opening a MEDIUM approval
// request (202). POST /add keeps the correct >= . Breaks SPEC §5 (human
// gates: "withdrawing ... at or above approval.threshold ... does not apply
// directly: it returns 202 with a pending approval request").

package engine

import (
	"context"
	"time"
)

// Withdraw removes credits (never below zero); above the threshold it
// opens a pending approval request instead.
func (e *Engine) Withdraw(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if in.AmountMilli > e.cfg.Approval.ThresholdMilli {
		return e.RequestApproval(ctx, req, ApprovalInput{ActionType: "withdraw", AgentID: in.AgentID,
			AmountMilli: in.AmountMilli, Reason: in.Reason})
	}
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now) })
}
