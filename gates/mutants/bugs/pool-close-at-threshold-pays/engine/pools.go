//go:build mutant

// Seeded bug pool-close-at-threshold-pays (gate C, check C28): closing a
// pool refuses a remainder above the approval threshold but pays one of
// exactly the threshold to an agent without approval (> instead of >=).

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

func closePoolRule(v View, in PoolInput, _ time.Time) (*plan, error) {
	pool, err := openPool(v, in.PoolID)
	if err != nil {
		return nil, err
	}
	// Paying the remainder to an agent creates credits for it like an
	// add: at or above the approval threshold it would bypass the human
	// gate (allocations below the threshold, gathered by transfers).
	if pool.BalanceMilli > v.Settings.Approval.ThresholdMilli {
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
