package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/keyindex"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// keyed is event seq: a second after t0 per seq, event id "ev<seq>" (or
// "ev<seq><idSuffix>" for a foreign journal).
func keyed(seq uint64, key, hash string) *event.Envelope {
	ev := &event.Envelope{Seq: seq, EventID: fmt.Sprint("ev", seq), IdempotencyKey: key, Timestamp: t0.Add(time.Duration(seq) * time.Second)}
	if hash != "" {
		ev.Metadata = &event.Metadata{RequestHash: hash}
	}
	return ev
}

// stream is n keyed transactions k1…kn, seq 1…n.
func stream(n int) []*event.Envelope {
	evs := make([]*event.Envelope, n)
	for i := range evs {
		evs[i] = keyed(uint64(i+1), fmt.Sprint("k", i+1), fmt.Sprint("h", i+1))
	}
	return evs
}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func memIndex(memKeys int, clock *testClock) *keyIndex {
	return newKeyIndex(keyIndexConfig{retention: time.Hour, memKeys: memKeys, now: clock.now})
}

func diskIndex(t *testing.T, path string, memKeys int, clock *testClock) *keyIndex {
	t.Helper()
	d, meta, err := keyindex.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	x := newKeyIndex(keyIndexConfig{retention: time.Hour, memKeys: memKeys, spillBatch: 2, openBatch: 3, disk: d, meta: meta, now: clock.now})
	t.Cleanup(func() { _ = x.close() })
	return x
}

// replay feeds evs as the engine's open replay does.
func replay(x *keyIndex, evs []*event.Envelope) bool {
	x.beginOpen()
	for _, ev := range evs {
		x.remember(ev, nil)
		x.maintain()
	}
	return x.endOpen()
}

func rebuildFrom(t *testing.T, x *keyIndex, evs []*event.Envelope) {
	t.Helper()
	err := x.rebuild(func(fn func(*event.Envelope) bool) error {
		for _, ev := range evs {
			if !fn(ev) {
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type want struct {
	key    string
	found  bool
	hash   string
	seq    uint64
	events int // in memory: events held; on disk (events nil): n
}

func check(t *testing.T, x *keyIndex, ws ...want) {
	t.Helper()
	for _, w := range ws {
		k, ok := x.lookup(w.key)
		if ok != w.found {
			t.Fatalf("lookup(%q) found = %v, want %v", w.key, ok, w.found)
		}
		if !ok {
			continue
		}
		if k.err != nil {
			t.Fatalf("lookup(%q): %v", w.key, k.err)
		}
		n := len(k.events)
		if k.events == nil {
			n = k.n
		}
		if k.requestHash != w.hash || n != w.events || (w.seq != 0 && k.seq != w.seq) {
			t.Fatalf("lookup(%q) = hash %q seq %d with %d events, want %q seq %d with %d", w.key, k.requestHash, k.seq, n, w.hash, w.seq, w.events)
		}
		select {
		case <-k.done:
		default:
			t.Fatalf("lookup(%q): a durable transaction is not done", w.key)
		}
	}
}

// The in-memory index: what a replayed stream leaves in it, and what a
// lookup then answers.
func TestKeyIndexRemembersByKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		replay []*event.Envelope
		want   want
		inMem  int
	}{
		{name: "a client key is found with its request hash",
			replay: []*event.Envelope{keyed(1, "k1", "h1")}, want: want{key: "k1", found: true, hash: "h1", seq: 1, events: 1}, inMem: 1},
		{name: "a server key is not indexed",
			replay: []*event.Envelope{keyed(1, "srv-x", "")}, want: want{key: "srv-x"}},
		{name: "derived events join their primary's transaction",
			replay: []*event.Envelope{keyed(1, "k1", "h1"), keyed(2, "k1#1", ""), keyed(3, "k1#2", "")},
			want:   want{key: "k1", found: true, hash: "h1", seq: 1, events: 3}, inMem: 1},
		{name: "a derived event of a server key is dropped",
			replay: []*event.Envelope{keyed(1, "srv-x", ""), keyed(2, "srv-x#1", "")}, want: want{key: "srv-x"}},
		{name: "a key used again (after it expired) answers its newest transaction",
			replay: []*event.Envelope{keyed(1, "k1", "h1"), keyed(2, "k1", "h2")}, want: want{key: "k1", found: true, hash: "h2", seq: 2, events: 1}, inMem: 1},
		{name: "with no disk, memory keeps every unexpired key beyond its bound",
			replay: stream(50), want: want{key: "k1", found: true, hash: "h1", seq: 1, events: 1}, inMem: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &testClock{t0.Add(time.Minute)}
			x := memIndex(4, clock)
			for _, ev := range tc.replay {
				x.remember(ev, nil)
				x.maintain()
			}
			check(t, x, tc.want)
			if x.len() != tc.inMem {
				t.Fatalf("%d keys in memory, want %d", x.len(), tc.inMem)
			}
		})
	}
}

// Keys expire by their primary event's time against the clock, not by
// how many keys came after them.
func TestKeyIndexExpiresByTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		disk  bool
		age   time.Duration // clock minus the event's time
		found bool
	}{
		{name: "in memory, just within the retention", age: time.Hour - time.Nanosecond, found: true},
		{name: "in memory, exactly the retention", age: time.Hour, found: true},
		{name: "in memory, past the retention", age: time.Hour + time.Nanosecond},
		{name: "on disk, within the retention", disk: true, age: 59 * time.Minute, found: true},
		{name: "on disk, past the retention", disk: true, age: 61 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &testClock{t0}
			var x *keyIndex
			if tc.disk {
				x = diskIndex(t, filepath.Join(t.TempDir(), "keys"), 1, clock)
			} else {
				x = memIndex(1, clock)
			}
			evs := stream(10)
			for _, ev := range evs {
				x.remember(ev, nil)
				x.maintain()
			}
			x.settle(true)
			x.maintain()
			x.settle(true)
			if _, inMem := x.mem["k1"]; inMem == tc.disk {
				t.Fatalf("k1 in memory = %v, want %v", inMem, !tc.disk)
			}
			clock.t = evs[0].Timestamp.Add(tc.age)
			w := want{key: "k1", found: tc.found, hash: "h1", seq: 1, events: 1}
			check(t, x, w)
		})
	}
}

// An in-flight transaction is indexed with its own entry (not done until
// the commit resolves it), so a concurrent duplicate waits for it; it is
// never spilled or expired while in flight.
func TestKeyIndexHoldsAnInFlightTransaction(t *testing.T) {
	clock := &testClock{t0}
	x := diskIndex(t, filepath.Join(t.TempDir(), "keys"), 1, clock)
	entry := &keyEntry{requestHash: "h", done: make(chan struct{})}
	x.remember(keyed(1, "k", "h"), entry)
	for _, ev := range stream(20)[1:] {
		x.remember(ev, nil)
	}
	clock.t = t0.Add(48 * time.Hour)
	x.maintain()
	k, ok := x.lookup("k")
	if !ok || k != entry {
		t.Fatalf("lookup of an in-flight key = %v, %v; want its entry", k, ok)
	}
	select {
	case <-k.done:
		t.Fatal("an in-flight transaction reads as done")
	default:
	}
	if x.len() != 20 || x.covered.Seq != 0 {
		t.Fatalf("%d keys in memory, disk covers seq %d; want all 20 held behind the in-flight one, nothing spilled", x.len(), x.covered.Seq)
	}
	close(entry.done)
	clock.t = t0
	x.maintain()
	x.settle(true)
	if x.covered.Seq == 0 {
		t.Fatal("nothing spilled once the in-flight transaction was durable")
	}
}

// Memory holds at most memKeys durable keys plus a spill batch; the rest
// is on disk, and survives a reopen whose replay matches the index.
func TestKeyIndexSpillsAndReloads(t *testing.T) {
	clock := &testClock{t0.Add(time.Minute)}
	path := filepath.Join(t.TempDir(), "keys")
	evs := append(stream(30), keyed(31, "k31", "h31"), keyed(32, "k31#1", ""), keyed(33, "k31#2", ""))
	evs[30].TxSize = 3
	x := diskIndex(t, path, 4, clock)
	if !replay(x, evs) {
		t.Fatal("a fresh index does not verify")
	}
	if x.len() > 4+3 {
		t.Fatalf("%d keys in memory, want at most memKeys + a batch", x.len())
	}
	check(t, x, want{key: "k1", found: true, hash: "h1", seq: 1, events: 1},
		want{key: "k31", found: true, hash: "h31", seq: 31, events: 3}, want{key: "k99"})
	if k, _ := x.lookup("k1"); k.events != nil {
		t.Fatal("k1 is still in memory; want it spilled")
	}
	covered := x.covered
	if err := x.close(); err != nil {
		t.Fatal(err)
	}

	y := diskIndex(t, path, 4, clock)
	if y.covered != covered {
		t.Fatalf("reopened index covers %+v, want %+v", y.covered, covered)
	}
	if !replay(y, evs) {
		t.Fatal("the index does not verify against the journal it was built from")
	}
	check(t, y, want{key: "k1", found: true, hash: "h1", seq: 1, events: 1},
		want{key: "k30", found: true, hash: "h30", seq: 30, events: 1},
		want{key: "k31", found: true, hash: "h31", seq: 31, events: 3})
}

// The index is a cache of the journal: one that is missing, corrupt, or
// does not match the journal's replay is rebuilt from the journal.
func TestKeyIndexRebuildsAStaleOrCorruptIndex(t *testing.T) {
	evs := stream(30)
	foreign := stream(30)
	for _, ev := range foreign {
		ev.EventID += "-other"
	}
	for _, tc := range []struct {
		name     string
		damage   func(t *testing.T, path string)
		journal  []*event.Envelope // what the replay sees now
		verifies bool
	}{
		{name: "missing: built by the replay", damage: func(t *testing.T, path string) { _ = os.Remove(path) },
			journal: evs, verifies: true},
		{name: "garbage: recreated, built by the replay", journal: evs, verifies: true, damage: func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("not a bbolt file, just garbage bytes"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a flipped byte in the meta page: recreated", journal: evs, verifies: true, damage: func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[4096+40] ^= 0xff
			b[40] ^= 0xff
			_ = os.WriteFile(path, b, 0o644)
		}},
		{name: "another journal's index: rebuilt", journal: foreign},
		{name: "the journal lost its tail: rebuilt", journal: evs[:10]},
		{name: "a seq the index covers was left out of the replay: its key is dropped", verifies: true,
			journal: append(append([]*event.Envelope{}, evs[:4]...), evs[5:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &testClock{t0.Add(time.Minute)}
			path := filepath.Join(t.TempDir(), "keys")
			x := diskIndex(t, path, 4, clock)
			if !replay(x, evs) {
				t.Fatal("fresh index does not verify")
			}
			if x.covered.Seq < 20 {
				t.Fatalf("index covers seq %d only", x.covered.Seq)
			}
			_ = x.close()
			if tc.damage != nil {
				tc.damage(t, path)
			}
			y := diskIndex(t, path, 4, clock)
			if got := replay(y, tc.journal); got != tc.verifies {
				t.Fatalf("replay verifies = %v, want %v", got, tc.verifies)
			}
			if !tc.verifies {
				rebuildFrom(t, y, tc.journal)
			}
			last := tc.journal[len(tc.journal)-1]
			check(t, y, want{key: tc.journal[0].IdempotencyKey, found: true, hash: "h1", seq: 1, events: 1},
				want{key: last.IdempotencyKey, found: true, hash: last.Metadata.RequestHash, seq: last.Seq, events: 1})
			if k, ok := y.lookup("k1"); ok && k.eventID != tc.journal[0].EventID {
				t.Fatalf("k1 names event %s, want the journal's %s", k.eventID, tc.journal[0].EventID)
			}
			kept := map[uint64]bool{}
			for _, ev := range tc.journal {
				kept[ev.Seq] = true
			}
			for _, ev := range evs {
				if !kept[ev.Seq] {
					check(t, y, want{key: ev.IdempotencyKey}) // not in the journal: not in the index
				}
			}
			_ = y.close()
			z := diskIndex(t, path, 4, clock)
			if !replay(z, tc.journal) {
				t.Fatal("the rebuilt index does not verify on the next open")
			}
		})
	}
}

// Expired keys leave the disk too, so the file is bounded by the
// retention, not by the journal's length.
func TestKeyIndexPurgesExpiredKeysFromDisk(t *testing.T) {
	clock := &testClock{t0}
	x := diskIndex(t, filepath.Join(t.TempDir(), "keys"), 1, clock)
	for _, ev := range stream(20) {
		x.remember(ev, nil)
		x.maintain()
		x.settle(true)
	}
	before := x.disk.Len()
	clock.t = t0.Add(2 * time.Hour)
	for i := 21; i <= 30; i++ {
		ev := keyed(uint64(i), fmt.Sprint("k", i), "h")
		ev.Timestamp = clock.t
		x.remember(ev, nil)
		x.maintain()
		x.settle(true)
	}
	if after := x.disk.Len(); before == 0 || after >= before {
		t.Fatalf("disk holds %d keys before, %d after the first 20 expired; want fewer", before, after)
	}
}

// On a shared store memory is bounded by count, and a key that left it is
// the store's to answer (partial); keys never expire on lookup there,
// since the store would refuse to write them again.
func TestKeyIndexOnASharedStore(t *testing.T) {
	clock := &testClock{t0}
	x := newKeyIndex(keyIndexConfig{retention: time.Hour, memKeys: 4, shared: true, now: clock.now})
	for _, ev := range stream(3) {
		x.remember(ev, nil)
		x.maintain()
	}
	if x.partial {
		t.Fatal("partial before any key left memory")
	}
	for _, ev := range stream(10)[3:] {
		x.remember(ev, nil)
		x.maintain()
	}
	if !x.partial || x.len() != 4 {
		t.Fatalf("partial = %v with %d keys in memory; want true with 4", x.partial, x.len())
	}
	clock.t = t0.Add(48 * time.Hour)
	check(t, x, want{key: "k10", found: true, hash: "h10", seq: 10, events: 1}, want{key: "k1"})
}

// A live spill writes in the background: the keys it writes stay
// findable in memory until it is done, then on disk; close waits for it.
func TestKeyIndexKeepsKeysFindableWhileTheySpill(t *testing.T) {
	clock := &testClock{t0.Add(time.Minute)}
	path := filepath.Join(t.TempDir(), "keys")
	x := diskIndex(t, path, 1, clock)
	for _, ev := range stream(10) {
		x.remember(ev, nil)
	}
	x.maintain()
	if x.spill == nil {
		t.Fatal("no spill started with 10 keys over a bound of 1")
	}
	check(t, x, want{key: "k1", found: true, hash: "h1", seq: 1, events: 1}) // in memory, being written
	x.settle(true)
	if _, inMem := x.mem["k1"]; inMem {
		t.Fatal("k1 still in memory after its spill")
	}
	check(t, x, want{key: "k1", found: true, hash: "h1", seq: 1, events: 1}) // on disk
	x.remember(keyed(11, "k11", "h11"), nil)
	x.maintain()
	if err := x.close(); err != nil {
		t.Fatal(err)
	}
	y := diskIndex(t, path, 1, clock)
	if y.covered.Seq < 2 {
		t.Fatalf("reopened index covers seq %d; want what was spilled before close", y.covered.Seq)
	}
}
