package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/store"
)

// The store seam. The engine writes through a store.Store: the JSONL
// journal (journal.Store, the default) or Config.Store (engine/pgstore,
// shared by several instances). The engine does not ask which: the store
// owns its mode.
//
//   - the committer begins every batch with store.Begin, which for a shared
//     store takes the global append lock and first hands over what other
//     instances wrote since e.seq (the journal hands over nothing): the key
//     lookups and rules then see the global state, and the batch's seqs
//     follow the store's last seq;
//   - the commit is awaited under e.mu, so no command builds on folded
//     events whose commit failed. A failure is classified (storeFailure):
//     unavailable or stale → the folded state may hold uncommitted events,
//     so the engine answers ErrStoreUnavailable (503) and rebuilds every
//     read model from the store before serving again (reloadLocked); a
//     duplicate key → refusal; anything else (the journal's write error) is
//     sticky;
//   - reads catch up first (catchUpLocked), and followLoop catches up in the
//     background every FollowInterval (for the journal both read nothing);
//   - after a store failure the engine answers 503 at once (storeDown)
//     instead of queueing every request behind e.mu for a timeout each;
//     followLoop probes the store without the lock and clears it.

// probeSeq is past any real seq: Iterate(probeSeq) is a round trip that
// returns nothing.
const probeSeq = 1 << 62

// FollowInterval is how often an engine polls its store for events written
// by other instances when it is idle.
const FollowInterval = 100 * time.Millisecond

// JournalStore opens a JSONL journal as a store.Store (for the conformance
// suite and benchmarks; the engine opens its own from Config.Journal).
func JournalStore(cfg journal.Config) (store.Store, error) {
	return journal.OpenStore(cfg)
}

func (e *Engine) journalStats() journal.Stats {
	if e.j == nil {
		return journal.Stats{}
	}
	return e.j.Stats()
}

// reloadLocked rebuilds every read model from the store. A custom
// cfg.Checker is kept (it cannot be reset from here).
func (e *Engine) reloadLocked() error {
	e.models = newModels(e.cfg)
	e.keys.reset()
	e.seq = 0
	e.stale = true
	if err := e.followLocked(); err != nil {
		return err
	}
	e.stale = false
	return nil
}

// followLocked folds every event after e.seq the store holds.
func (e *Engine) followLocked() error {
	var ferr error
	err := e.store.Iterate(e.seq, func(_ []byte, ev *event.Envelope) bool {
		ferr = e.foldForeign(ev)
		return ferr == nil
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		e.storeDown.Store(true)
		return fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	}
	return nil
}

// errStoreDown answers while the store is known to be unreachable.
var errStoreDown = fmt.Errorf("%w: the last attempt failed; retrying in the background", ErrStoreUnavailable)

// foldForeign folds one event written by another instance (or, on reload,
// by anyone). It must be the next seq.
func (e *Engine) foldForeign(ev *event.Envelope) error {
	if ev.Seq != e.seq+1 {
		e.stale = true
		return fmt.Errorf("%w: store handed seq %d after %d", ErrStoreUnavailable, ev.Seq, e.seq)
	}
	if err := e.replay(ev); err != nil {
		e.stale = true
		return fmt.Errorf("%w: fold seq %d: %v", ErrStoreUnavailable, ev.Seq, err)
	}
	return nil
}

// catchUpLocked brings the engine up to the store's last seq before a
// read: a read that starts after a write was acknowledged by any instance
// sees it.
func (e *Engine) catchUpLocked() error {
	if e.inflight != nil {
		// This instance holds the append lock: nobody else commits.
		return nil
	}
	if e.storeDown.Load() {
		return errStoreDown
	}
	if e.stale {
		return e.reloadLocked()
	}
	return e.followLocked()
}

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
		ferr = e.foldForeign(ev)
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
	e.stats.published.Add(int64(len(recs)))
	return nil
}

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
		e.stale = true
		e.storeDown.Store(true)
		return fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	default:
		return e.failLocked(err)
	}
}

// batchError is what a command of a failed batch answers. A duplicate key
// refuses the command that carried it; the others of the batch did nothing
// wrong and may retry with their keys (503).
func (e *Engine) batchError(err error, c *command) error {
	if !errors.Is(err, store.ErrDuplicateKey) {
		return err
	}
	var dk *store.DuplicateKeyError
	if errors.As(err, &dk) && dk.Key != "" {
		base, _, _ := strings.Cut(dk.Key, "#")
		if base != c.req.IdempotencyKey {
			return fmt.Errorf("%w: another command of the same transaction reused a stored key; retry", ErrStoreUnavailable)
		}
	}
	return refuse(CodeIdempotencyConflict, nil, "idempotency key was already used (the store holds it)")
}

// followLoop keeps an idle engine close to its store, so the synchronous
// catch-up of a read or command has little to fold.
func (e *Engine) followLoop() {
	defer e.sweeping.Done()
	t := time.NewTicker(FollowInterval)
	defer t.Stop()
	for {
		select {
		case <-e.life.Done():
			return
		case <-t.C:
			if e.storeDown.Load() {
				// Probe without e.mu: an unreachable store may take the
				// whole OpTimeout to fail, and requests must not wait on it.
				if err := e.store.Iterate(probeSeq, func([]byte, *event.Envelope) bool { return false }); err != nil {
					continue
				}
				e.storeDown.Store(false)
			}
			e.mu.Lock()
			if e.usableLocked() == nil {
				if err := e.catchUpLocked(); err != nil {
					e.log.Debug("event store catch-up failed", "err", err)
				}
			}
			e.mu.Unlock()
		}
	}
}

// storeHealth marks the engine degraded while it cannot reach its store.
func (e *Engine) storeHealth(h *Health) {
	e.mu.Lock()
	stale := e.stale || e.storeDown.Load()
	e.mu.Unlock()
	if stale {
		h.Status = "degraded"
		h.Journal = "store_unavailable"
		h.Reasons = append(h.Reasons, "the event store is unreachable: commands and reads answer 503 until it is back")
	}
}

// iterate reads the store; an unreachable store is a 503, never a 500.
func (e *Engine) iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	err := e.store.Iterate(after, fn)
	if errors.Is(err, store.ErrUnavailable) {
		err = fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	}
	return err
}
