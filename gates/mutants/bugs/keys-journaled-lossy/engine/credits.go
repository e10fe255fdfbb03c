//go:build mutant

// Seeded bug keys-journaled-lossy (gate A, check A27): idempotency keys are
// not checked against the alphabet: invalid UTF-8 is kept raw in memory but
// journaled as U+FFFD.

package engine

// ValidKey reports whether an idempotency key is 1..MaxKeyLen characters of
// KeyAlphabet.
func ValidKey(key string) bool {
	return key != "" && len(key) <= MaxKeyLen
}
