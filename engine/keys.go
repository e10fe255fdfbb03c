package engine

import (
	"strings"

	"github.com/creditgate/creditgate/engine/event"
)

// keyEntry is one client idempotency key's transaction. done is closed once
// the transaction is durable (or failed); waiters then read events/err.
type keyEntry struct {
	requestHash string
	done        chan struct{}
	events      []*event.Envelope
	err         error
}

// keyIndex maps client idempotency keys to their transactions: the newest
// `window` keys, in a ring (older keys are forgotten; a shared store's
// unique constraint still refuses them). Rebuilt from the stream on open
// and reload. Not safe for concurrent use: the engine guards it with e.mu.
type keyIndex struct {
	byKey map[string]*keyEntry
	ring  []string // keys in the order they were first written
	next  int
}

func newKeyIndex(window int) *keyIndex {
	return &keyIndex{byKey: map[string]*keyEntry{}, ring: make([]string, max(window, 1))}
}

// lookup returns the transaction of a client key.
func (x *keyIndex) lookup(key string) (*keyEntry, bool) {
	k, ok := x.byKey[key]
	return k, ok
}

func (x *keyIndex) len() int { return len(x.byKey) }

// remember indexes a durable (entry == nil: replayed, done) or in-flight
// (entry != nil) transaction under the client key of its primary event.
// An event without a request hash carries a server key: it is not indexed,
// except a derived event "<key>#<n>" of a replayed transaction, which is
// appended to its primary's entry (in-flight entries hold their events).
func (x *keyIndex) remember(ev *event.Envelope, entry *keyEntry) {
	if ev.Metadata == nil || ev.Metadata.RequestHash == "" {
		if base, _, ok := strings.Cut(ev.IdempotencyKey, "#"); ok {
			if k, found := x.byKey[base]; found && entry == nil {
				k.events = append(k.events, cloneEnvelope(ev))
			}
		}
		return
	}
	if entry == nil {
		entry = &keyEntry{requestHash: ev.Metadata.RequestHash, done: closedChan, events: []*event.Envelope{cloneEnvelope(ev)}}
	}
	if old := x.ring[x.next]; old != "" {
		delete(x.byKey, old)
	}
	x.ring[x.next] = ev.IdempotencyKey
	x.next = (x.next + 1) % len(x.ring)
	x.byKey[ev.IdempotencyKey] = entry
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
