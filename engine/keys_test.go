package engine

import (
	"fmt"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
)

func keyed(seq uint64, key, hash string) *event.Envelope {
	ev := &event.Envelope{Seq: seq, EventID: fmt.Sprint("ev", seq), IdempotencyKey: key}
	if hash != "" {
		ev.Metadata = &event.Metadata{RequestHash: hash}
	}
	return ev
}

// The idempotency index: what a replayed stream leaves in it, and what a
// lookup then answers.
func TestKeyIndex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		window  int
		replay  []*event.Envelope
		key     string
		found   bool
		hash    string
		events  int // events of the found transaction
		indexed int
	}{
		{name: "a client key is found with its request hash", window: 4,
			replay: []*event.Envelope{keyed(1, "k1", "h1")}, key: "k1", found: true, hash: "h1", events: 1, indexed: 1},
		{name: "a server key is not indexed", window: 4,
			replay: []*event.Envelope{keyed(1, "srv-x", "")}, key: "srv-x", indexed: 0},
		{name: "derived events join their primary's transaction", window: 4,
			replay: []*event.Envelope{keyed(1, "k1", "h1"), keyed(2, "k1#1", ""), keyed(3, "k1#2", "")},
			key:    "k1", found: true, hash: "h1", events: 3, indexed: 1},
		{name: "a derived event of a server key is dropped", window: 4,
			replay: []*event.Envelope{keyed(1, "srv-x", ""), keyed(2, "srv-x#1", "")}, key: "srv-x", indexed: 0},
		{name: "the oldest key leaves a full window", window: 2,
			replay: []*event.Envelope{keyed(1, "k1", "h1"), keyed(2, "k2", "h2"), keyed(3, "k3", "h3")},
			key:    "k1", found: false, indexed: 2},
		{name: "the newest keys stay in a full window", window: 2,
			replay: []*event.Envelope{keyed(1, "k1", "h1"), keyed(2, "k2", "h2"), keyed(3, "k3", "h3")},
			key:    "k3", found: true, hash: "h3", events: 1, indexed: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newKeyIndex(tc.window)
			for _, ev := range tc.replay {
				x.remember(ev, nil)
			}
			k, ok := x.lookup(tc.key)
			if ok != tc.found {
				t.Fatalf("lookup(%q) found = %v, want %v", tc.key, ok, tc.found)
			}
			if ok {
				if k.requestHash != tc.hash || len(k.events) != tc.events {
					t.Fatalf("lookup(%q) = hash %q with %d events, want %q with %d", tc.key, k.requestHash, len(k.events), tc.hash, tc.events)
				}
				select {
				case <-k.done:
				default:
					t.Fatal("a replayed transaction is not done")
				}
			}
			if x.len() != tc.indexed {
				t.Fatalf("%d keys indexed, want %d", x.len(), tc.indexed)
			}
		})
	}
}

// An in-flight transaction is indexed with its own entry (not done until
// the commit resolves it), so a concurrent duplicate waits for it.
func TestKeyIndexHoldsAnInFlightTransaction(t *testing.T) {
	x := newKeyIndex(4)
	entry := &keyEntry{requestHash: "h", done: make(chan struct{})}
	x.remember(keyed(1, "k", "h"), entry)
	k, ok := x.lookup("k")
	if !ok || k != entry {
		t.Fatalf("lookup of an in-flight key = %v, %v; want its entry", k, ok)
	}
	select {
	case <-k.done:
		t.Fatal("an in-flight transaction reads as done")
	default:
	}
}
