//go:build mutant

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
