//go:build mutant

package engine

// ValidKey reports whether an idempotency key is 1..MaxKeyLen characters of
// KeyAlphabet.
func ValidKey(key string) bool {
	return key != "" && len(key) <= MaxKeyLen
}
