//go:build mutant

// Seeded bug unavailable-keeps-folded-state (gate D): an unavailable store (connection lost mid-commit) only marks the store down, not the state stale: the events of the failed batch stay folded and reads serve balances that were never committed

package engine

import (
	"errors"
	"fmt"

	"github.com/creditgate/creditgate/engine/store"
)

// storeFailureLocked classifies a store error. Unavailable or stale: the
// folded state may hold events that are not in the store, so reload before
// serving again (503 meanwhile). A duplicate key: the same, but the command
// that carried it is refused (see batchError). Anything else is the
// store's sticky failure (the journal's write or sync error).
func (e *Engine) storeFailureLocked(err error) error {
	switch {
	case errors.Is(err, store.ErrDuplicateKey):
		e.stale = true
		return err
	case errors.Is(err, store.ErrStale):
		e.stale = true
		return fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	case errors.Is(err, store.ErrUnavailable):
		e.storeDown.Store(true)
		return fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	default:
		return e.failLocked(err)
	}
}
