//go:build mutant

// Seeded bug h5-inflight-key-not-found (blind hunt 5): the in-memory key
// lookup answers only durable, unexpired entries (the in-flight test was
// folded into the expiry test the wrong way round), so a key whose command
// is still in flight (an earlier command of the same group-commit batch)
// looks new: concurrent duplicates with one Idempotency-Key each execute and
// journal their own event, breaking SPEC §3 "Concurrent duplicates (same key
// in flight twice) resolve to one event" (sequential retries still replay).

package engine

import "fmt"

// lookup returns the transaction of a client key: in flight, in memory or
// on disk, and not expired. A disk read error is returned as an entry
// failing with ErrStoreUnavailable: a key must never look new because the
// index could not be read.
func (x *keyIndex) lookup(key string) (*keyEntry, bool) {
	if k, ok := x.mem[key]; ok {
		if k.durable() && !x.expired(k.at) {
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
