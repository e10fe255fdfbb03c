package engine

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/keyindex"
)

// keyEntry is one client idempotency key's transaction. done is closed once
// the transaction is durable (or failed); waiters then read events/err.
type keyEntry struct {
	requestHash string
	done        chan struct{}
	// events: the transaction, primary first. nil for an entry read from
	// the on-disk index: its events are re-read from the store (seq …
	// seq+n-1, see Engine.keyEvents).
	events []*event.Envelope
	err    error

	seq     uint64    // the primary event's seq
	eventID string    // the primary event's id
	at      time.Time // the primary event's time: the key expires retention after it
	n       int       // events of the transaction
}

// conflicts reports whether req reuses the key with another request
// (SPEC §3: 409 idempotency_key_conflict), whether the key's events are in
// memory or still on disk.
func (k *keyEntry) conflicts(req Request) bool { return k.requestHash != req.RequestHash }

func (k *keyEntry) durable() bool {
	select {
	case <-k.done:
		return k.err == nil
	default:
		return false
	}
}

func (k *keyEntry) finished() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// keyIndexConfig configures a keyIndex.
type keyIndexConfig struct {
	// retention: a durable key is honoured this long after its primary
	// event's time (by now); an older one is forgotten.
	retention time.Duration
	// memKeys bounds the durable keys held in memory; older ones spill to
	// disk (journal) or are left to the store (shared).
	memKeys int
	// disk is the on-disk index (nil: none) and meta what it covers.
	disk *keyindex.Disk
	meta keyindex.Meta
	// shared: the store keeps every key for ever (a unique index) and
	// answers what memory does not hold (store.KeyLooker): keys are not
	// expired on lookup — the store would refuse to write them again.
	shared bool
	// spillBatch and openBatch: keys per disk transaction, live and while
	// a replay runs (0 = spillBatchLive, spillBatchOpen; live batches are
	// at most memKeys, at least 64).
	spillBatch, openBatch int
	now                   func() time.Time
	log                   *slog.Logger
}

// Spill batch sizes: one disk transaction per batch. Opening (a replay)
// writes bigger batches without fsync and syncs once at the end.
const (
	spillBatchLive = 4096
	spillBatchOpen = 1 << 16
)

// keyIndex maps client idempotency keys to their transactions for the
// retention time. In-flight and recent keys are in memory (at most memKeys
// durable ones plus one spill batch); older durable keys spill, oldest
// first, to the on-disk index (journal) — or, on a shared store, are
// dropped from memory and looked up in the store (partial). Keys expire by
// their primary event's time, not by count.
//
// Invariant: every durable, unexpired key whose primary seq is at most
// covered.Seq is on disk; those above it are in memory. A replay therefore
// skips what the disk covers, and an index that does not match the journal
// (covered.Seq not replayed with covered.EventID, or a seq at or below it
// left out of the replay) is rebuilt (see endOpen).
//
// Not safe for concurrent use: the engine guards it with e.mu.
type keyIndex struct {
	cfg     keyIndexConfig
	mem     map[string]*keyEntry
	fifo    []keySlot // memory keys in the order they were remembered (seq order)
	head    int
	disk    *keyindex.Disk
	covered keyindex.Meta
	spill   *spill // a batch being written to disk in the background, or nil
	partial bool   // shared: a key left memory, so a miss must ask the store

	opening bool // a replay or rebuild is running: big spill batches, no fsync per batch
	// The open replay verifies the disk index against the journal.
	verifying bool
	verify    keyindex.Meta // what the disk claimed to cover when opened
	verified  bool          // the replay saw verify.Seq with verify.EventID
	lastSeen  uint64
	gaps      [][2]uint64 // seq ranges the open replay did not see
}

type keySlot struct {
	key     string
	seq     uint64
	eventID string
}

func newKeyIndex(cfg keyIndexConfig) *keyIndex {
	if cfg.now == nil {
		cfg.now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	cfg.memKeys = max(cfg.memKeys, 1)
	if cfg.spillBatch <= 0 {
		cfg.spillBatch = min(spillBatchLive, max(cfg.memKeys, 64))
	}
	if cfg.openBatch <= 0 {
		cfg.openBatch = spillBatchOpen
	}
	x := &keyIndex{cfg: cfg, mem: map[string]*keyEntry{}, disk: cfg.disk}
	if x.disk != nil {
		x.covered = cfg.meta
	}
	return x
}

// lookup returns the transaction of a client key: in flight, in memory or
// on disk, and not expired. A disk read error is returned as an entry
// failing with ErrStoreUnavailable: a key must never look new because the
// index could not be read.
func (x *keyIndex) lookup(key string) (*keyEntry, bool) {
	if k, ok := x.mem[key]; ok {
		if !k.durable() || !x.expired(k.at) {
			return k, true
		}
		return nil, false
	}
	if x.disk == nil {
		return nil, false
	}
	r, ok, err := x.disk.Get(key)
	if err != nil {
		return &keyEntry{done: closedChan, err: fmt.Errorf("%w: idempotency index: %v", ErrStoreUnavailable, err)}, true
	}
	if !ok || x.expired(r.At) {
		return nil, false
	}
	return &keyEntry{requestHash: r.Hash, done: closedChan, seq: r.Seq, eventID: r.EventID, at: r.At, n: r.Events}, true
}

func (x *keyIndex) expired(at time.Time) bool {
	return !x.cfg.shared && at.Before(x.cfg.now().Add(-x.cfg.retention))
}

// len is the number of keys held in memory.
func (x *keyIndex) len() int { return len(x.mem) }

// attachDerived adds a derived event ("<key>#<n>", no request hash of its
// own) to its key's replayed transaction, so a retry after a restart
// answers the whole original result, not its primary event alone.
func (x *keyIndex) attachDerived(ev *event.Envelope, entry *keyEntry) {
	if base, _, ok := strings.Cut(ev.IdempotencyKey, "#"); ok {
		if k, found := x.mem[base]; found && entry == nil && k.events != nil {
			k.events = append(k.events, cloneEnvelope(ev))
		}
	}
}

// remember indexes a durable (entry == nil: replayed, done) or in-flight
// (entry != nil) transaction under the client key of its primary event.
// An event without a request hash carries a server key: it is not indexed,
// except a derived event "<key>#<n>" of a replayed transaction, which is
// appended to its primary's entry (in-flight entries hold their events).
// An event the disk index covers is skipped: its key is on disk.
func (x *keyIndex) remember(ev *event.Envelope, entry *keyEntry) {
	if x.verifying {
		if ev.Seq > x.lastSeen+1 {
			x.gaps = append(x.gaps, [2]uint64{x.lastSeen + 1, ev.Seq - 1})
		}
		x.lastSeen = max(x.lastSeen, ev.Seq)
		if ev.Seq == x.verify.Seq {
			x.verified = ev.EventID == x.verify.EventID
		}
	}
	if x.disk != nil && ev.Seq <= x.covered.Seq {
		return
	}
	if ev.Metadata == nil || ev.Metadata.RequestHash == "" {
		x.attachDerived(ev, entry)
		return
	}
	if entry == nil {
		entry = &keyEntry{requestHash: ev.Metadata.RequestHash, done: closedChan, events: []*event.Envelope{cloneEnvelope(ev)}}
	}
	entry.seq, entry.eventID, entry.at, entry.n = ev.Seq, ev.EventID, ev.Timestamp, max(ev.TxSize, 1)
	x.mem[ev.IdempotencyKey] = entry
	x.fifo = append(x.fifo, keySlot{key: ev.IdempotencyKey, seq: ev.Seq, eventID: ev.EventID})
}

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
				Hash: k.requestHash, Seq: k.seq, EventID: k.eventID, At: k.at, Events: k.n}})
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

// purge drops up to max expired keys from disk. It reads only cfg (safe
// from the spill goroutine); a failure is not a spill's failure: the keys
// are written, the expired ones are only kept a little longer.
func (x *keyIndex) purge(d *keyindex.Disk, cutoff time.Time, max int) {
	if n, err := d.Purge(cutoff, max); err != nil {
		x.cfg.log.Warn("idempotency index: purge of expired keys failed", "err", err)
	} else if n > 0 {
		x.cfg.log.Debug("idempotency index: expired keys purged", "keys", n)
	}
}

// spill is a batch of keys being written to disk in the background.
type spill struct {
	out     []keyindex.Entry
	covered keyindex.Meta
	done    chan error
}

// settle applies a finished background spill (waiting for it with wait)
// and reports whether none is in flight any more.
func (x *keyIndex) settle(wait bool) bool {
	if x.spill == nil {
		return true
	}
	var err error
	if wait {
		err = <-x.spill.done
	} else {
		select {
		case err = <-x.spill.done:
		default:
			return false
		}
	}
	sp := x.spill
	x.spill = nil
	x.spilled(sp.out, sp.covered, err)
	return true
}

// spilled ends a spill: the keys written leave memory and the disk covers
// up to covered; after a failed write the disk is dropped and the keys stay
// in memory (unbounded from now on) rather than being forgotten.
func (x *keyIndex) spilled(out []keyindex.Entry, covered keyindex.Meta, err error) {
	if err != nil {
		x.cfg.log.Error("idempotency index: disk write failed; keeping every key in memory from now on",
			"path", x.disk.Path(), "err", err)
		x.disk = nil
		for _, o := range out { // back in line, so they still expire
			if k := x.mem[o.Key]; k != nil && k.seq == o.Seq {
				x.fifo = append(x.fifo, keySlot{key: o.Key, seq: o.Seq, eventID: o.EventID})
			}
		}
		return
	}
	for _, o := range out {
		if k := x.mem[o.Key]; k != nil && k.seq == o.Seq {
			delete(x.mem, o.Key)
		}
	}
	if covered.Seq > x.covered.Seq {
		x.covered = covered
	}
}

// frontExpiredOrOver reports whether maintain has something to do besides
// spilling: the oldest key expired or failed, or (shared) memory is full.
func (x *keyIndex) frontExpiredOrOver(cutoff time.Time) bool {
	if x.cfg.shared && len(x.mem) > x.cfg.memKeys {
		return true
	}
	for ; x.head < len(x.fifo); x.head++ {
		s := x.fifo[x.head]
		k := x.mem[s.key]
		if k == nil || k.seq != s.seq {
			continue // replaced or dropped: nothing to keep in order
		}
		if !k.finished() {
			return false
		}
		return k.err != nil || k.at.Before(cutoff)
	}
	return false
}

// reset forgets what memory holds (a reload folds the store again); the
// disk keeps the durable keys it covers.
func (x *keyIndex) reset() {
	x.mem = map[string]*keyEntry{}
	x.fifo, x.head = nil, 0
	x.partial = false
}

// beginOpen marks the start of the open replay: the disk index is verified
// against it, and spills are not synced one by one.
func (x *keyIndex) beginOpen() {
	if x.disk == nil {
		return
	}
	x.opening, x.verifying, x.verify = true, true, x.covered
	x.verified, x.lastSeen, x.gaps = x.covered.Seq == 0, 0, nil
	x.disk.SetNoSync(true)
}

// endOpen ends the open replay. It reports false when the disk index did
// not match the journal (the event at the covered seq was not replayed
// with its event id): the caller must then call rebuild. Keys of seqs the
// replay left out (quarantined, lost, or left out as dependents of a lost
// line) are deleted from the index. Otherwise it syncs the index and
// records what it covers.
func (x *keyIndex) endOpen() bool {
	if x.disk == nil || !x.opening {
		return true
	}
	if x.verifying && !x.verified {
		return false
	}
	if x.verifying {
		for _, g := range x.gaps {
			if g[0] > x.verify.Seq {
				break
			}
			if n, err := x.disk.DeleteSeqs(g[0], min(g[1], x.verify.Seq)); err != nil {
				x.cfg.log.Warn("idempotency index: cannot drop keys the replay left out; rebuilding", "err", err)
				return false
			} else if n > 0 {
				x.cfg.log.Warn("idempotency index: dropped keys of events the replay left out", "from_seq", g[0], "to_seq", g[1], "keys", n)
			}
		}
	}
	x.opening, x.verifying = false, false
	x.disk.SetNoSync(false)
	if err := x.disk.Put(nil, x.covered); err != nil {
		x.cfg.log.Error("idempotency index: sync failed; keeping every key in memory from now on", "err", err)
		x.disk = nil
	}
	return true
}

// rebuild empties memory and disk and indexes the stream again, skipping
// the seqs the open replay left out (recovery's quarantine and
// dependents). iterate reads the store from seq 0.
func (x *keyIndex) rebuild(iterate func(fn func(ev *event.Envelope) bool) error) error {
	gaps := x.gaps
	x.reset()
	x.covered = keyindex.Meta{}
	x.opening, x.verifying, x.gaps = true, false, nil
	if err := x.disk.Reset(); err != nil {
		x.cfg.log.Error("idempotency index: cannot recreate the file; keeping every retained key in memory", "err", err)
		x.disk, x.opening = nil, false
	}
	err := iterate(func(ev *event.Envelope) bool {
		for _, g := range gaps {
			if ev.Seq >= g[0] && ev.Seq <= g[1] {
				return true
			}
		}
		x.remember(ev, nil)
		x.maintain()
		return true
	})
	if err != nil {
		return err
	}
	x.endOpen()
	return nil
}

// close waits for a background spill, then syncs and closes the disk index.
func (x *keyIndex) close() error {
	x.settle(true)
	if x.disk == nil {
		return nil
	}
	err := x.disk.Close()
	x.disk = nil
	return err
}

// cloneEnvelope copies a replayed envelope before the key index keeps it:
// journal.Open owns the envelope it passes to apply and reuses (zeroes) it
// after the call, e.g. for the held lines of a multi-event command. Payload,
// Metadata and CausationID are freshly decoded per line, so a shallow copy
// is enough.
func cloneEnvelope(ev *event.Envelope) *event.Envelope {
	c := *ev
	return &c
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
