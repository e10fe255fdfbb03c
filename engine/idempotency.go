package engine

import (
	"context"
	"fmt"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/keyindex"
	"github.com/creditgate/creditgate/engine/store"
)

// Idempotency keys are retained by time (Config.IdempotencyRetention), in
// three tiers: in-flight and recent keys in memory (keyIndex), older ones
// in the on-disk index next to the journal (engine/keyindex, a cache the
// journal rebuilds), or — on a shared store — in the store itself, asked
// through store.KeyLooker by its unique index. A retry found on disk or in
// the store answers the original events, re-read from the store.

// keyIndexConfig is the key index's configuration for this engine.
func (e *Engine) keyIndexConfig(disk *keyindex.Disk, meta keyindex.Meta) keyIndexConfig {
	shared := e.cfg.Store != nil && e.cfg.Store.Shared()
	return keyIndexConfig{
		retention: e.cfg.IdempotencyRetention, memKeys: e.cfg.IdempotencyMemKeys,
		disk: disk, meta: meta, shared: shared, now: e.clock.Now, log: e.log,
	}
}

// openKeyIndex opens the on-disk key index of the engine's own journal and
// starts verifying it against the replay. An index that cannot be opened
// costs memory, never correctness: every retained key then stays in memory.
func (e *Engine) openKeyIndex() {
	path := e.cfg.IdempotencyIndexPath
	if path == "" {
		path = e.cfg.Journal.Path + ".keys"
	}
	disk, meta, err := keyindex.Open(path)
	if err != nil {
		e.log.Error("idempotency index cannot be opened; keeping every retained key in memory", "path", path, "err", err)
	} else {
		e.log.Info("idempotency index opened", "path", path, "covers_seq", meta.Seq)
	}
	e.keys = newKeyIndex(e.keyIndexConfig(disk, meta))
	e.keys.beginOpen()
}

// keyEvents returns the events of a key's transaction: those the entry
// holds, or, for an entry read from the disk index, the n events from its
// primary seq re-read from the store (checked against the index).
func (e *Engine) keyEvents(key string, k *keyEntry) ([]*event.Envelope, error) {
	if k.events != nil {
		return k.events, nil
	}
	evs := make([]*event.Envelope, 0, k.n)
	err := e.iterate(k.seq-1, func(_ []byte, ev *event.Envelope) bool {
		c := *ev
		evs = append(evs, &c)
		return len(evs) < k.n
	})
	if err != nil {
		return nil, err
	}
	if len(evs) != k.n || evs[0].Seq != k.seq || evs[0].EventID != k.eventID || evs[0].IdempotencyKey != key {
		return nil, fmt.Errorf("engine: idempotency index names seq %d (%s) for key %q, which the store does not hold as such", k.seq, k.eventID, key)
	}
	return evs, nil
}

// prefetchKeysLocked asks a shared store for the batch's keys that memory
// does not hold, in one query by its unique index, and remembers what it
// finds, so the decisions see every key the store holds (the batch runs
// under the store's append lock, after Begin folded everyone's events).
// Nothing is asked while memory still holds every key of the stream.
func (e *Engine) prefetchKeysLocked(batch []*command) error {
	kl, ok := e.store.(store.KeyLooker)
	if !ok || !e.keys.partial {
		return nil
	}
	var keys []string
	for _, c := range batch {
		if k := c.req.IdempotencyKey; k != "" {
			if _, ok := e.keys.lookup(k); !ok {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(e.life, readDurableWait)
	defer cancel()
	found, err := kl.LookupKeys(ctx, keys)
	if err != nil {
		return fmt.Errorf("%w: idempotency key lookup: %v", ErrStoreUnavailable, err)
	}
	for _, lines := range found {
		evs := make([]*event.Envelope, len(lines))
		for i, l := range lines {
			ev, err := event.Decode(l)
			if err != nil {
				return fmt.Errorf("engine: idempotency key lookup: %w", err)
			}
			evs[i] = &ev
		}
		p := evs[0]
		if p.Metadata == nil || p.Metadata.RequestHash == "" {
			continue // a server key: no client may reuse it (it is not in the alphabet)
		}
		e.keys.remember(p, &keyEntry{requestHash: p.Metadata.RequestHash, done: closedChan, events: evs})
	}
	return nil
}
