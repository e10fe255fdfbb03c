//go:build mutant

// Seeded bug pool-close-remainder-read-at-arrival (gate B): closing a pool pays the remainder read when the request arrived, outside the committer: a pool consume committed meanwhile is paid out again to the refund_to agent

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// ClosePool closes a pool and refunds its remainder to in.AgentID.
func (e *Engine) ClosePool(ctx context.Context, req Request, in PoolInput) (Result, error) {
	// The remainder to pay is the pool's balance now; the rule checks the
	// pool is still open.
	p0, err := e.Pool(in.PoolID)
	if err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return closePoolRule(v, in, p0, now) })
}

// closePoolRule closes an open pool and pays its remainder, below the
// approval threshold, to an existing agent.
func closePoolRule(v View, in PoolInput, p0 projection.Pool, _ time.Time) (*plan, error) {
	if _, err := openPool(v, in.PoolID); err != nil {
		return nil, err
	}
	pool := p0
	// Paying the remainder to an agent creates credits for it like an
	// add: at or above the approval threshold it would bypass the human
	// gate (allocations below the threshold, gathered by transfers).
	if pool.BalanceMilli >= v.Settings.Approval.ThresholdMilli {
		return nil, refuse(CodeApprovalRequired, map[string]any{"pool_id": in.PoolID, "remainder": money.Credits(pool.BalanceMilli)},
			"pool %q holds %s credits: a remainder of %s or more is not paid to an agent without a human approval; consume or transfer it below the threshold first",
			in.PoolID, money.Format(pool.BalanceMilli), money.Format(v.Settings.Approval.ThresholdMilli))
	}
	if pool.BalanceMilli > 0 {
		if _, err := v.agent(in.AgentID); err != nil {
			if q := v.quarantined("agent", in.AgentID); q != nil {
				return nil, q
			}
			return nil, refuse(CodeInvalid, nil, "refund_to must name an existing agent to receive the remainder")
		}
	}
	p := &plan{}
	p.add(event.PoolClosed, event.Pool{PoolID: in.PoolID, RemainderMilli: pool.BalanceMilli, RefundTo: in.AgentID}, nil)
	return p, nil
}
