//go:build mutant

// Seeded bug h8-replayed-key-drops-derived (blind hunt 8): when the start replays the journal, a
// transaction's derived events ("<key>#<n>") are no longer attached to its key, so a keyed retry
// after a restart answers only the primary event: the same event_id, but the rest of the original
// result is gone (a registration's initial_credits 0, a mission start without its consume). Breaks
// SPEC §3 (a retry returns the original result, keys survive restarts). A client sees: POST /agents
// with a key (initial_credits 80), restart, the same request → 200 replayed, initial_credits 0.

package engine

import "github.com/creditgate/creditgate/engine/event"

func (x *keyIndex) attachDerived(ev *event.Envelope, entry *keyEntry) {
	// A server key or a derived event: no client may reuse it.
}
