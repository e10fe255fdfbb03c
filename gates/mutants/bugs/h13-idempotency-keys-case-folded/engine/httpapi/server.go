//go:build mutant

// Seeded bug h13-idempotency-keys-case-folded (blind hunt 13, in our engine):
// idempotency keys are lower-cased ("keys are usually UUIDs, which clients
// spell in either case"), so two keys differing only in letter case are one:
// the second command is answered as a replay of the first and never runs.
// Breaks SPEC §3 (a retry is the same key; a different request under it is
// 409). No workload sent keys differing in case only; A31 does.
package httpapi

import (
	"net/http"
	"strings"
)

func requestKey(r *http.Request, bodyKey string) (string, *apiError) {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && bodyKey != "" && key != bodyKey {
		return "", &apiError{http.StatusUnprocessableEntity, "invalid", "Idempotency-Key header and idempotency_key field differ"}
	}
	if key == "" {
		key = bodyKey
	}
	return strings.ToLower(key), nil
}
