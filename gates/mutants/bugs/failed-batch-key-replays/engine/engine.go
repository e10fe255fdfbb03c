//go:build mutant

// Seeded bug failed-batch-key-replays (gate D): a command's key entry is resolved before a failed commit replaces its outcome: a concurrent retry waiting on the key is answered a replay of events the store never committed

package engine

import (
	"github.com/creditgate/creditgate/engine/store"
)

// commitBatchLocked runs one transaction: begin (a shared store hands over
// what other instances wrote), then per command the key lookup, the rule,
// seal and fold, then one commit of every command's records; every
// outcome is resolved only after the commit, so no client is answered from
// state that is not durable. A failed commit fails exactly this batch.
func (e *Engine) commitBatchLocked(batch []*command) []*command {
	resolveAll := func(err error) {
		for _, c := range batch {
			c.done <- outcome{err: err}
		}
	}
	if err := e.usableLocked(); err != nil {
		resolveAll(err)
		return batch
	}
	tx, err := e.beginLocked(e.life)
	if err != nil {
		resolveAll(err)
		return batch
	}
	// What queued while Begin waited for a shared store's lock joins this
	// transaction.
	batch = e.queue.drain(batch)
	if err := e.prefetchKeysLocked(batch); err != nil {
		tx.Rollback()
		resolveAll(err)
		return batch
	}
	outs := make([]outcome, len(batch))
	var recs []store.Record
	for i, c := range batch {
		outs[i] = e.decideLocked(c, &recs)
	}
	var werr error
	if len(recs) == 0 {
		tx.Rollback()
	} else {
		werr = e.commitLocked(tx, recs)
	}
	for i, c := range batch {
		o := outs[i]
		if o.key != nil {
			o.key.err = o.err
			close(o.key.done)
			o.key = nil
		}
		if werr != nil && o.wait == nil && (o.err == nil || isRuleError(o.err)) {
			// A refusal saw the batch's earlier, now failed, events too.
			o = outcome{key: o.key, err: e.batchError(werr, c)}
		}
		c.done <- o
	}
	// Answered first: a spill to the disk index must not delay them.
	e.keys.maintain()
	return batch
}
