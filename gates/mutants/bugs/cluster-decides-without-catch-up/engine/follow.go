//go:build mutant

// Seeded bug cluster-decides-without-catch-up (gate B, check CL1a): an
// instance runs the rule on its own projection without folding the events the
// other instances wrote (the balance check is done outside the database's
// up-to-date state).

package engine

import (
	"context"
	"errors"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// beginLocked starts a batch's append.
func (e *Engine) beginLocked(ctx context.Context) (store.Tx, error) {
	if e.storeDown.Load() {
		return nil, errStoreDown
	}
	if e.stale {
		if err := e.reloadLocked(); err != nil {
			return nil, err
		}
	}
	var ferr error
	tx, err := e.store.Begin(ctx, e.seq, func(ev *event.Envelope) error {
		ferr = nil
		_ = ev
		return ferr
	})
	if ferr != nil {
		return nil, ferr
	}
	if errors.Is(err, store.ErrStale) {
		// The store went backwards (it lost events this engine folded):
		// rebuild from what it holds rather than append past a gap.
		e.log.Warn("event store is behind this instance's state; reloading from the store", "err", err)
	}
	if err != nil {
		return nil, e.storeFailureLocked(err)
	}
	return tx, nil
}
