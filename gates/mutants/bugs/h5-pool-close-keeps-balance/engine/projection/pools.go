//go:build mutant

// Seeded bug h5-pool-close-keeps-balance (blind hunt 5): the pool.closed fold
// credits the remainder to the refund_to agent but does not take it out of
// the pool (the "closed pools are dead anyway" shortcut), so after a close
// with a remainder GET /pools/{id} still shows the remainder as the closed
// pool's balance: the credits exist twice, in the pool and in the agent
// (SPEC §4: a pool's balance is the sum of its signed deltas; §1 exact
// money; §5 close refunds the remainder to an agent). The journal is right
// and live and replay fold alike (the digest survives a restart); only a
// pool balance read after a close with a non-zero remainder shows it.

package projection

import (
	"fmt"

	"github.com/creditgate/creditgate/engine/event"
)

func (s *State) applyPool(e *event.Envelope) error {
	switch e.EventType {
	case event.PoolCreated:
		p, err := decode[event.Pool](e)
		if err != nil {
			return err
		}
		if _, ok := s.pools[p.PoolID]; ok {
			return fmt.Errorf("pool %q created twice", p.PoolID)
		}
		s.pools[p.PoolID] = &Pool{ID: p.PoolID, Name: p.Name, Members: map[string]bool{}}
		return nil
	case event.PoolMemberAdded, event.PoolMemberRemoved:
		p, err := decode[event.PoolMember](e)
		if err != nil {
			return err
		}
		pool, err := s.pool(p.PoolID)
		if err != nil {
			return err
		}
		if e.EventType == event.PoolMemberAdded {
			pool.Members[p.AgentID] = true
		} else {
			delete(pool.Members, p.AgentID)
		}
		return nil
	case event.PoolClosed:
		p, err := decode[event.Pool](e)
		if err != nil {
			return err
		}
		pool, err := s.pool(p.PoolID)
		if err != nil {
			return err
		}
		if p.RemainderMilli > 0 {
			if err := s.needAgent(p.RefundTo); err != nil {
				return err
			}
		}
		pool.Closed = true
		if p.RemainderMilli > 0 {
			return s.moveAgent(e, p.RefundTo, p.RemainderMilli, reasonPoolClosed(p.PoolID), "")
		}
		return nil
	}
	p, err := decode[event.PoolMove](e)
	if err != nil {
		return err
	}
	pool, err := s.pool(p.PoolID)
	if err != nil {
		return err
	}
	switch e.EventType {
	case event.PoolAllocated:
		pool.BalanceMilli += p.AmountMilli
	case event.PoolRefunded:
		pool.BalanceMilli += p.AmountMilli
		pool.RefundedMilli += p.AmountMilli
	case event.PoolConsumed:
		pool.BalanceMilli -= p.AmountMilli
		pool.ConsumedMilli += p.AmountMilli
	case event.PoolTransferred:
		to, err := s.pool(p.ToPoolID)
		if err != nil {
			return err
		}
		pool.BalanceMilli -= p.AmountMilli
		to.BalanceMilli += p.AmountMilli
	}
	return nil
}
