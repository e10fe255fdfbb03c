//go:build mutant

// Seeded bug h7-disk-key-no-conflict (blind hunt 7): a key whose entry was read back from the
// on-disk key index (its events not loaded yet, events == nil) is never checked for a different
// request, so an old key reused with another body is answered as a replay of the original instead of
// 409 idempotency_key_conflict. Breaks SPEC §3 (the same key with a different request is a conflict).
// Shows only for keys older than the in-memory window (CREDITD_IDEMPOTENCY_MEMORY_KEYS, 2,048 by
// default). A client sees: consume k-0 amount 1; 3,000 more keyed consumes; consume k-0 amount 2 →
// 200 Idempotent-Replayed (should be 409).

package engine

func (k *keyEntry) conflicts(req Request) bool {
	return k.events != nil && k.requestHash != req.RequestHash
}
