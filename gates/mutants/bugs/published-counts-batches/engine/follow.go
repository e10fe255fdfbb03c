//go:build mutant

// Seeded bug published-counts-batches (gate A): event_bus.total_published counts committed batches, not events: a command of several events (agent + allocation, approval + execution) is counted once

package engine

import (
	"github.com/creditgate/creditgate/engine/store"
)

// commitLocked commits a batch's records and classifies the outcome
// before the committer decides anything else, so no later command builds
// on folded events whose commit failed. e.mu is released while the store
// commits (reads and health must not hang on a stalled sync); inflight
// keeps readers off the folded, not yet durable state meanwhile.
func (e *Engine) commitLocked(tx store.Tx, recs []store.Record) error {
	e.inflight = make(chan struct{})
	e.mu.Unlock()
	err := <-tx.Commit(recs)
	e.mu.Lock()
	defer func() {
		close(e.inflight)
		e.inflight = nil
	}()
	if err != nil {
		return e.storeFailureLocked(err)
	}
	e.stats.published.Add(1)
	return nil
}
