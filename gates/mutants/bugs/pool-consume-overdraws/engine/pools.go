//go:build mutant

// Seeded bug pool-consume-overdraws (gate B, check B27): pool consume and
// transfer check a pool balance read before a KARMA call, outside the lock, so
// concurrent debits overdraw the pool.

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// PoolMove allocates to, consumes from (members only, no overdraft),
// refunds to, or transfers out of a pool.
func (e *Engine) PoolMove(ctx context.Context, req Request, typ event.Type, in PoolInput) (Result, error) {
	if err := e.validAmount("amount", in.AmountMilli); err != nil {
		return Result{}, err
	}
	if err := validText("reason", in.Reason); err != nil {
		return Result{}, err
	}
	// An allocation creates credits like an add, and a closed pool pays its
	// remainder to an agent: at or above the approval threshold it would
	// bypass the human gate, so it is refused.
	if typ == event.PoolAllocated && in.AmountMilli >= e.cfg.Approval.ThresholdMilli {
		return Result{}, refuse(CodeInvalid, nil, "amount: pool allocations of %s credits or more need a human approval; grant them to an agent through POST /approvals",
			money.Format(e.cfg.Approval.ThresholdMilli))
	}
	stalePool, _ := e.Pool(in.PoolID)
	_ = e.score(ctx, in.AgentID)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now, stalePool) })
}

// poolMoveRule moves credits in (allocate, refund within what members
// consumed) or out of an open pool (consume by a member, transfer to another
// open pool), never overdrawing it.
func poolMoveRule(v View, in PoolInput, typ event.Type, _ time.Time, stalePool projection.Pool) (*plan, error) {
	pool, err := openPool(v, in.PoolID)
	if err != nil {
		return nil, err
	}
	after := pool.BalanceMilli + in.AmountMilli
	switch typ {
	case event.PoolRefunded:
		// Money guard: a pool refund returns what members consumed from
		// the pool, never more, so it cannot mint credits that closing the
		// pool would then pay to an agent.
		if room := max(pool.ConsumedMilli-pool.RefundedMilli, 0); in.AmountMilli > room {
			return nil, refuse(CodeRefundExceedsConsumed, map[string]any{"pool_id": in.PoolID,
				"consumed": money.Credits(pool.ConsumedMilli), "refunded": money.Credits(pool.RefundedMilli),
				"refundable": money.Credits(room), "requested": money.Credits(in.AmountMilli)},
				"pool %q has %s consumed credits left to refund, %s requested", in.PoolID, money.Format(room), money.Format(in.AmountMilli))
		}
	case event.PoolConsumed, event.PoolTransferred:
		if q := v.quarantined("agent", in.AgentID); q != nil {
			return nil, q
		}
		if typ == event.PoolConsumed && !pool.Members[in.AgentID] {
			return nil, refuse(CodeNotMember, nil, "agent %q is not a member of pool %q", in.AgentID, in.PoolID)
		}
		if typ == event.PoolTransferred {
			if _, err := openPool(v, in.ToPoolID); err != nil {
				return nil, err
			}
			if in.ToPoolID == in.PoolID {
				return nil, refuse(CodeInvalid, nil, "to_pool_id must differ from the source pool")
			}
		}
		if stalePool.BalanceMilli < in.AmountMilli {
			return nil, refuse(CodeInsufficientCredits, map[string]any{"pool_id": in.PoolID,
				"balance": money.Credits(pool.BalanceMilli), "requested": money.Credits(in.AmountMilli)},
				"pool %q has %s credits, %s requested", in.PoolID, money.Format(pool.BalanceMilli), money.Format(in.AmountMilli))
		}
		after = pool.BalanceMilli - in.AmountMilli
	}
	p := &plan{}
	p.add(typ, event.PoolMove{PoolID: in.PoolID, ToPoolID: in.ToPoolID, AgentID: in.AgentID,
		AmountMilli: in.AmountMilli, BalanceAfterMilli: after, Reason: in.Reason}, nil)
	return p, nil
}
