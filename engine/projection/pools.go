package projection

import (
	"fmt"

	"github.com/creditgate/creditgate/engine/event"
)

// Pool is a shared credit pool with members.
type Pool struct {
	ID           string          `json:"pool_id"`
	Name         string          `json:"name"`
	BalanceMilli int64           `json:"balance_milli"`
	Members      map[string]bool `json:"members"`
	Closed       bool            `json:"closed"`
	// ConsumedMilli and RefundedMilli total the pool's consumptions and
	// refunds: a pool refund may not exceed their difference.
	ConsumedMilli int64 `json:"consumed_milli"`
	RefundedMilli int64 `json:"refunded_milli"`
}

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
		pool.BalanceMilli -= p.RemainderMilli
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

func (s *State) pool(id string) (*Pool, error) {
	p, ok := s.pools[id]
	if !ok {
		return nil, missing("pool", id)
	}
	return p, nil
}

// PoolView returns a copy of a pool.
func (s *State) PoolView(id string) (Pool, bool) {
	p, ok := s.pools[id]
	if !ok {
		return Pool{}, false
	}
	c := *p
	c.Members = make(map[string]bool, len(p.Members))
	for m := range p.Members {
		c.Members[m] = true
	}
	return c, true
}
