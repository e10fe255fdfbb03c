//go:build mutant

// Seeded bug h5-replayed-key-loses-hash (blind hunt 5): an idempotency key
// rebuilt from the journal (replay at start, or an index rebuild) is indexed
// without the request hash its event carries (metadata.request_hash), so
// after a restart a retry with the same key and the SAME request is refused
// 409 idempotency_key_conflict instead of answering the original result
// (SPEC §3: "A retry with the same key and the same request returns the
// original result ... Keys survive restarts"). Nothing is written twice, and
// a retry with a different request is still a conflict, so only a same-body
// retry after a restart shows it.

package engine

import (
	"strings"

	"github.com/creditgate/creditgate/engine/event"
)

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
		if base, _, ok := strings.Cut(ev.IdempotencyKey, "#"); ok {
			if k, found := x.mem[base]; found && entry == nil && k.events != nil {
				k.events = append(k.events, cloneEnvelope(ev))
			}
		}
		return
	}
	if entry == nil {
		entry = &keyEntry{done: closedChan, events: []*event.Envelope{cloneEnvelope(ev)}}
	}
	entry.seq, entry.eventID, entry.at, entry.n = ev.Seq, ev.EventID, ev.Timestamp, max(ev.TxSize, 1)
	x.mem[ev.IdempotencyKey] = entry
	x.fifo = append(x.fifo, keySlot{key: ev.IdempotencyKey, seq: ev.Seq, eventID: ev.EventID})
}
