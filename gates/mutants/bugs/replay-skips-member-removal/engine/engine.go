//go:build mutant

// Seeded bug replay-skips-member-removal (D59's class, written with the check): an optimisation of the start replays only
// the events that move money or create entities, and pool.member_removed does neither, so after a
// restart a removed member is a member again. Live the pool is right (B39); after a kill -9 its view
// lists the member again and the member may consume from the pool. Breaks SPEC §4 (projections are
// folds of the journal: state after replay equals state before). A client sees: pool p with members
// a, b; remove b; GET /pools/p lists a; kill -9, restart; GET /pools/p lists a and b.

package engine

import "github.com/creditgate/creditgate/engine/event"

func (e *Engine) replay(ev *event.Envelope) error {
	if ev.EventType != event.PoolMemberRemoved {
		if err := e.models.apply(ev); err != nil {
			return err
		}
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}
