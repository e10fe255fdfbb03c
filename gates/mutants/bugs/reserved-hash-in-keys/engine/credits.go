//go:build mutant

// Seeded bug reserved-hash-in-keys (gate A, check A25): '#', reserved for
// the engine's derived keys, is admitted in a client's idempotency key.

package engine

func idByte(c byte, slash bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == ':', c == '@', c == '+', c == '=', c == '-':
		return true
	}
	return slash && (c == '/' || c == '#')
}
