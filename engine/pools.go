package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// PoolInput is any pool command; which fields matter depends on the command.
type PoolInput struct {
	PoolID      string
	Name        string
	Members     []string
	AgentID     string
	ToPoolID    string
	AmountMilli int64
	Reason      string
}

// openPool returns a pool that is neither unknown nor closed.
func openPool(v View, id string) (projection.Pool, error) {
	p, ok := v.Pool(id)
	if !ok {
		return p, v.unknown("pool", id)
	}
	if p.Closed {
		return p, refuse(CodeConflict, nil, "pool %q is closed", id)
	}
	return p, nil
}

// CreatePool creates a pool with its initial members.
func (e *Engine) CreatePool(ctx context.Context, req Request, in PoolInput) (Result, error) {
	if err := validID("pool_id", in.PoolID); err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return createPoolRule(v, in, now) })
}

// createPoolRule creates a new pool with its (existing) members.
func createPoolRule(v View, in PoolInput, _ time.Time) (*plan, error) {
	if _, ok := v.Pool(in.PoolID); ok {
		return nil, refuse(CodeConflict, nil, "pool %q already exists", in.PoolID)
	}
	if q := v.quarantined("pool", in.PoolID); q != nil {
		return nil, q
	}
	p := &plan{}
	c := p.add(event.PoolCreated, event.Pool{PoolID: in.PoolID, Name: in.Name}, nil)
	for _, m := range distinct(in.Members) {
		if _, err := v.agent(m); err != nil {
			return nil, err
		}
		p.addCaused(event.PoolMemberAdded, event.PoolMember{PoolID: in.PoolID, AgentID: m}, c, "")
	}
	return p, nil
}

// PoolMember adds (add=true) or removes a member.
func (e *Engine) PoolMember(ctx context.Context, req Request, in PoolInput, add bool) (Result, error) {
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMemberRule(v, in, add, now) })
}

// poolMemberRule adds (add) or removes a member of an open pool.
func poolMemberRule(v View, in PoolInput, add bool, _ time.Time) (*plan, error) {
	pool, err := openPool(v, in.PoolID)
	if err != nil {
		return nil, err
	}
	if _, err := v.agent(in.AgentID); err != nil {
		return nil, err
	}
	if pool.Members[in.AgentID] == add {
		return nil, refuse(CodeConflict, nil, "agent %q membership of pool %q is already %v", in.AgentID, in.PoolID, add)
	}
	typ := event.PoolMemberAdded
	if !add {
		typ = event.PoolMemberRemoved
	}
	p := &plan{}
	p.add(typ, event.PoolMember{PoolID: in.PoolID, AgentID: in.AgentID}, nil)
	return p, nil
}

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
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now) })
}

// poolMoveRule moves credits in (allocate, refund within what members
// consumed) or out of an open pool (consume by a member, transfer to another
// open pool), never overdrawing it.
func poolMoveRule(v View, in PoolInput, typ event.Type, _ time.Time) (*plan, error) {
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
		if pool.BalanceMilli < in.AmountMilli {
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

// ClosePool closes a pool and refunds its remainder to in.AgentID.
func (e *Engine) ClosePool(ctx context.Context, req Request, in PoolInput) (Result, error) {
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return closePoolRule(v, in, now) })
}

// closePoolRule closes an open pool and pays its remainder, below the
// approval threshold, to an existing agent.
func closePoolRule(v View, in PoolInput, _ time.Time) (*plan, error) {
	pool, err := openPool(v, in.PoolID)
	if err != nil {
		return nil, err
	}
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

// Pool returns one pool.
func (e *Engine) Pool(id string) (projection.Pool, error) {
	var p projection.Pool
	var ok bool
	if err := e.read(func(st *projection.State) { p, ok = st.PoolView(id) }); err != nil {
		return p, err
	}
	if !ok {
		return p, e.unknown("pool", id)
	}
	return p, nil
}
