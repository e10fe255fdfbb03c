//go:build mutant

// Seeded bug withdraw-overdraws (gate B, check B26): withdraw checks a
// balance read before a KARMA call, outside the lock, so concurrent
// withdrawals overdraw.

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// Withdraw removes credits (never below zero); at or above the threshold it
// opens a pending approval request instead.
func (e *Engine) Withdraw(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if in.AmountMilli >= e.cfg.Approval.ThresholdMilli {
		return e.RequestApproval(ctx, req, ApprovalInput{ActionType: "withdraw", AgentID: in.AgentID,
			AmountMilli: in.AmountMilli, Reason: in.Reason})
	}
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	stale, _ := e.Balance(in.AgentID)
	_ = e.score(ctx, in.AgentID)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now, stale) })
}

// withdrawRule debits an agent below the approval threshold, never below
// zero.
func withdrawRule(v View, in CreditInput, _ time.Time, stale int64) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if stale < in.AmountMilli {
		return nil, insufficient(a, in.AmountMilli, "requested")
	}
	p := &plan{}
	p.add(event.CreditWithdrawn, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason}, nil)
	return p, nil
}
