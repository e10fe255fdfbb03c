//go:build mutant

// Seeded bug h6-pg-lost-commit-stays-folded (blind hunt 6): a commit that fails as unavailable
// (PostgreSQL goes away or the connection breaks between Begin and COMMIT) no longer marks the folded
// state stale. The engine folds a batch before committing it, so the instance keeps the events of a
// write it answered 503: when the store is reachable again its catch-up starts after the phantom
// seqs, and reads serve money that never reached the store (SPEC §6/§8: a write answered 5xx must
// not have changed state; reads after any instance's acknowledged write see the store's state).
// Single instance: GET /balance shows the 503'd consume until this instance's next write, which
// itself fails 503 (the store no longer holds its last seq) and reloads. With a second instance
// writing meanwhile, the phantom takes the seqs the other instance committed, so this instance's
// balances and /digest diverge from the store and the other instances for good (until restart). Only
// when a failure hits a commit in flight; a store already down at Begin is fine.
package engine

import (
	"errors"
	"fmt"

	"github.com/creditgate/creditgate/engine/store"
)

// storeFailureLocked classifies a store error. Stale: the folded state may
// hold events that are not in the store, so reload before serving again
// (503 meanwhile). A duplicate key: the same, but the command that carried
// it is refused (see batchError). Unavailable: the store is unreachable,
// so answer 503 at once until followLoop's probe reaches it again and its
// catch-up folds what was missed. Anything else is the store's sticky
// failure (the journal's write or sync error).
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
