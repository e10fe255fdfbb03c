package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/projection"
	"github.com/creditgate/creditgate/engine/store"
)

// The store seam. The engine writes through a store.Store: the JSONL
// journal (journalStore, the default) or a shared store set in
// Config.Store (engine/pgstore). With a shared store several engines append
// to one stream, so:
//
//   - execute begins every command with store.Begin, which takes the
//     store's global append lock and first folds what other instances wrote
//     since e.seq: the idempotency lookup and the rule then see the global
//     state, and the command's seqs follow the store's last seq;
//   - the commit is awaited under e.mu; if its outcome is not a success the
//     folded state may hold events that are not in the store, so the engine
//     marks itself stale, answers ErrStoreUnavailable (503) and rebuilds all
//     read models from the store before serving again (reloadLocked);
//   - reads catch up synchronously first (catchUpLocked), and followLoop
//     catches up in the background every FollowInterval;
//   - after a store failure the engine answers 503 at once (storeDown)
//     instead of queueing every request behind e.mu for a timeout each;
//     followLoop probes the store without the lock and clears it.

// probeSeq is past any real seq: Iterate(probeSeq) is a round trip that
// returns nothing.
const probeSeq = 1 << 62

// FollowInterval is how often an engine on a shared store polls for events
// written by other instances when it is idle.
const FollowInterval = 100 * time.Millisecond

// journalStore adapts the JSONL journal to store.Store. The engine is its
// only writer, so Begin hands over nothing and takes no lock (e.mu orders
// appends), and Commit is the journal's group commit.
type journalStore struct{ j *journal.Journal }

func (s journalStore) Begin(context.Context, uint64, func(*event.Envelope) error) (store.Tx, error) {
	return journalTx{s.j}, nil
}

func (s journalStore) Iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	return s.j.Iterate(after, fn)
}

func (journalStore) Shared() bool   { return false }
func (s journalStore) Close() error { return s.j.Close() }

type journalTx struct{ j *journal.Journal }

func (t journalTx) Commit(lines [][]byte) <-chan error { return t.j.Submit(lines) }
func (journalTx) Rollback()                            {}

// JournalStore opens a JSONL journal as a store.Store (for the conformance
// suite and benchmarks; the engine opens its own from Config.Journal).
func JournalStore(cfg journal.Config) (store.Store, error) {
	j, _, err := journal.Open(cfg, func(*event.Envelope) error { return nil })
	if err != nil {
		return nil, err
	}
	return journalStore{j}, nil
}

func (e *Engine) shared() bool { return e.store != nil && e.store.Shared() }

func (e *Engine) journalStats() journal.Stats {
	if e.j == nil {
		return journal.Stats{}
	}
	return e.j.Stats()
}

// openShared finishes Open on cfg.Store: fold the whole stream, start the
// timers.
func (e *Engine) openShared(s store.Store) (*Engine, error) {
	e.store = s
	e.dur = newDurability(0) // every event the store hands over is committed
	start := time.Now()
	e.mu.Lock()
	err := e.reloadLocked()
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	e.recovery = journal.RecoveryReport{Path: "store", Events: e.seq, LastSeq: e.seq, Clean: true}
	e.stats.replayEvents = e.seq
	e.stats.replayDuration = time.Since(start)
	e.log.Info("event store replayed", "events", e.seq, "duration", e.stats.replayDuration, "shared", s.Shared())
	e.sweeping.Add(2)
	go e.sweepLoop()
	go e.followLoop()
	return e, nil
}

// reloadLocked rebuilds every read model from the store. A custom
// cfg.Checker is kept (it cannot be reset from here).
func (e *Engine) reloadLocked() error {
	e.st = projection.New(e.cfg.Projection)
	if e.cfg.Checker == nil {
		e.checker = anomaly.New(e.cfg.Anomaly)
	}
	e.eoc = eoc.New(e.cfg.EoC)
	e.keys = map[string]*keyEntry{}
	e.keyFIFO = make([]string, e.cfg.IdempotencyWindow)
	e.keyNext, e.seq = 0, 0
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
	e.dur.advance(ev.Seq) // read back from the store: committed
	return nil
}

// catchUpLocked brings a shared-store engine up to the store's last seq
// before a read: a read that starts after a write was acknowledged by any
// instance sees it. A no-op for the journal.
func (e *Engine) catchUpLocked() error {
	if !e.shared() {
		return nil
	}
	if e.storeDown.Load() {
		return errStoreDown
	}
	if e.stale {
		return e.reloadLocked()
	}
	//mutant:cluster-read-catch-up
	return e.followLocked()
}

// beginLocked starts a command's append.
func (e *Engine) beginLocked(ctx context.Context) (store.Tx, error) {
	if !e.shared() {
		return e.store.Begin(ctx, e.seq, nil)
	}
	if e.storeDown.Load() {
		return nil, errStoreDown
	}
	if e.stale {
		if err := e.reloadLocked(); err != nil {
			return nil, err
		}
	}
	var ferr error
	//mutant:cluster-catch-up
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
		e.stale = true
		return nil, fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	}
	if err != nil {
		e.storeDown.Store(true)
		return nil, fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	}
	return tx, nil
}

// commitLocked commits a sealed command. For a shared store the outcome is
// awaited here, under e.mu, so no other command can build on folded events
// whose commit failed: a failure makes the engine stale first.
func (e *Engine) commitLocked(tx store.Tx, lines [][]byte) <-chan error {
	done := tx.Commit(lines)
	if !e.shared() {
		return done
	}
	err := <-done
	res := make(chan error, 1)
	if err != nil {
		e.stale = true
		switch {
		case errors.Is(err, store.ErrDuplicateKey):
			err = refuse(CodeIdempotencyConflict, nil, "idempotency key was already used (it is older than the in-memory window)")
		default:
			e.storeDown.Store(true)
			err = fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
		}
	}
	res <- err
	return res
}

// followLoop keeps an idle shared-store engine close to the store, so the
// synchronous catch-up of a read or command has little to fold.
func (e *Engine) followLoop() {
	defer e.sweeping.Done()
	t := time.NewTicker(FollowInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
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

// storeHealth marks a shared-store engine degraded while it cannot reach
// its store.
func (e *Engine) storeHealth(h *Health) {
	if !e.shared() {
		return
	}
	e.mu.Lock()
	stale := e.stale || e.storeDown.Load()
	e.mu.Unlock()
	if stale {
		h.Status = "degraded"
		h.Journal = "store_unavailable"
		h.Reasons = append(h.Reasons, "the event store is unreachable: commands and reads answer 503 until it is back")
	}
}

// iterate reads the store; a shared store's read failure is a 503, never a
// 500.
func (e *Engine) iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	err := e.store.Iterate(after, fn)
	if err != nil && e.shared() && !errors.Is(err, ErrStoreUnavailable) {
		err = fmt.Errorf("%w: %v", ErrStoreUnavailable, err)
	}
	return err
}
