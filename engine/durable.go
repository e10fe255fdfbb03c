package engine

import (
	"context"
	"sync"
	"time"
)

// readDurableWait bounds how long a read waits for the state it saw to
// become durable; a journal that does not sync within it answers 503.
const readDurableWait = 10 * time.Second

// durability tracks the highest seq known to be on disk. Commands fold
// their events into the read models before the group commit syncs them
// (so the lock is not held across an fsync); everything that answers a
// client from that state — reads, refusals, key conflicts — first waits
// until the seq it saw is durable. Otherwise a kill -9 between the fold and
// the sync would lose events that a client was already told about (a dirty
// read: "already decided by X", a balance, a conflict on a key that then
// never existed).
//
// The journal resolves group commits in seq order with one writer, so a
// resolved submit makes every lower seq durable too.
type durability struct {
	mu     sync.Mutex
	seq    uint64
	failed bool
	moved  chan struct{} // closed and replaced whenever seq or failed changes
}

func newDurability(seq uint64) *durability {
	return &durability{seq: seq, moved: make(chan struct{})}
}

// advance records that every event up to seq is on disk.
func (d *durability) advance(seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seq > d.seq {
		d.seq = seq
		close(d.moved)
		d.moved = make(chan struct{})
	}
}

// fail wakes every waiter: nothing more becomes durable until restart.
func (d *durability) fail() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.failed {
		d.failed = true
		close(d.moved)
		d.moved = make(chan struct{})
	}
}

// durable returns the highest durable seq.
func (d *durability) durable() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seq
}

// wait blocks until seq is durable. It returns false when the journal
// failed first; ctx errors are returned as they are.
func (d *durability) wait(ctx context.Context, seq uint64) (bool, error) {
	for {
		d.mu.Lock()
		if d.seq >= seq {
			d.mu.Unlock()
			return true, nil
		}
		if d.failed {
			d.mu.Unlock()
			return false, nil
		}
		moved := d.moved
		d.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// settle waits until the state at seq is durable; the error is what the
// caller answers instead when it is not (journal failed, or ctx ended).
func (e *Engine) settle(ctx context.Context, seq uint64) error {
	ok, err := e.dur.wait(ctx, seq)
	if err != nil {
		return err
	}
	if !ok {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.failed != nil {
			return e.failed
		}
		return ErrJournalFailed
	}
	return nil
}
