//go:build mutant

// Seeded bug explore-funded-pool-member-stays (round 3, pool sweep): a
// member of a pool that holds credits cannot be removed (409 conflict), a
// rule of its own the SPEC does not have. Breaks SPEC §5 (pools: members
// are added and removed). Seed 42's walks removed no member at all (each
// removal named an agent that was not one); the explorer's pool sweep
// removes a member of a funded pool every run.

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

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
	if !add && pool.BalanceMilli > 0 {
		return nil, refuse(CodeConflict, nil, "pool %q holds credits: its members stay until it is emptied", in.PoolID)
	}
	typ := event.PoolMemberAdded
	if !add {
		typ = event.PoolMemberRemoved
	}
	p := &plan{}
	p.add(typ, event.PoolMember{PoolID: in.PoolID, AgentID: in.AgentID}, nil)
	return p, nil
}
