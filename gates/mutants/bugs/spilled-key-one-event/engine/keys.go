//go:build mutant

// Seeded bug spilled-key-one-event (gate A): a key spilled to the on-disk index records one event, not its command's count: a retry of an older multi-event command (mission start, collaboration) answers only its first event

package engine

import (
	"github.com/creditgate/creditgate/engine/keyindex"
)

// maintain keeps memory within its bound: it drops failed and expired
// transactions and spills the oldest durable keys to disk (or, shared,
// leaves them to the store), oldest first, stopping at the first one still
// in flight. The engine calls it after each batch is answered and during
// replay.
func (x *keyIndex) maintain() {
	batch := x.cfg.spillBatch
	if x.opening {
		batch = x.cfg.openBatch
	}
	if !x.settle(false) {
		return // one spill at a time; what it covers is not known yet
	}
	// Without a disk (and not shared) memory is all there is: only
	// expired keys leave it.
	full := x.disk != nil && len(x.mem) > x.cfg.memKeys+batch
	cutoff := x.cfg.now().Add(-x.cfg.retention)
	if !full && !x.frontExpiredOrOver(cutoff) {
		return
	}
	covered := x.covered
	var out []keyindex.Entry
loop:
	for x.head < len(x.fifo) {
		s := x.fifo[x.head]
		k := x.mem[s.key]
		if k == nil || k.seq != s.seq {
			x.head++ // replaced by a later use of the key, or already dropped
			continue
		}
		if !k.finished() {
			break // in flight, and so is everything after it
		}
		switch {
		case k.err != nil:
			delete(x.mem, s.key) // never durable: nothing to keep
		case x.cfg.shared && (k.at.Before(cutoff) || len(x.mem) > x.cfg.memKeys):
			delete(x.mem, s.key)
			x.partial = true
		case x.cfg.shared:
			break loop
		case k.at.Before(cutoff):
			delete(x.mem, s.key)
			covered = keyindex.Meta{Seq: s.seq, EventID: s.eventID}
		case full && len(out) < batch:
			out = append(out, keyindex.Entry{Key: s.key, Record: keyindex.Record{
				Hash: k.requestHash, Seq: k.seq, EventID: k.eventID, At: k.at, Events: 1}})
			covered = keyindex.Meta{Seq: s.seq, EventID: s.eventID}
		default:
			break loop
		}
		x.head++
	}
	switch {
	case len(out) == 0:
		x.covered = covered
	case x.opening:
		// A replay: nobody waits for an answer, write in line, unsynced
		// (trusted only once endOpen syncs).
		err := x.disk.Put(out, keyindex.Meta{})
		if err == nil {
			x.purge(x.disk, cutoff, 2*batch)
		}
		x.spilled(out, covered, err)
	default:
		// Live: write in the background, so the committer never waits for
		// a disk transaction; the keys stay in memory until it is done.
		done := make(chan error, 1)
		x.spill = &spill{out: out, covered: covered, done: done}
		go func(d *keyindex.Disk) {
			err := d.Put(out, covered)
			if err == nil {
				x.purge(d, cutoff, 2*batch)
			}
			done <- err
		}(x.disk)
	}
	if x.head > 1024 && x.head > len(x.fifo)/2 {
		x.fifo = append(x.fifo[:0], x.fifo[x.head:]...)
		x.head = 0
	}
}
