//go:build mutant

// Seeded bug read-waits-one-commit (gate D): a read waits for the commit in flight when it arrives, then serves whatever is folded: a batch the committer decided meanwhile, not yet durable, is read

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/projection"
)

// read runs f under the lock once the engine can serve state: no commit
// in flight (its folded events are not durable yet), caught up with the
// store.
func (e *Engine) read(f func(st *projection.State)) error {
	deadline := time.NewTimer(readDurableWait)
	defer deadline.Stop()
	e.mu.Lock()
	if e.inflight != nil {
		wait := e.inflight
		e.mu.Unlock()
		select {
		case <-wait:
		case <-deadline.C:
			return errCommitStalled
		}
		e.mu.Lock()
	}
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return err
	}
	if err := e.catchUpLocked(); err != nil {
		return err
	}
	f(e.models.st)
	return nil
}
