//go:build mutant

// Seeded bug readyz-ignores-store-down (gate D): GET /readyz answers 200 ready while the PostgreSQL store is unreachable and every command answers 503 (only a failed journal makes it unready)

package httpapi

import (
	"net/http"
)

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	h := s.eng.Health()
	// Not ready while commands would fail: the journal failed.
	if h.Status == "failed" {
		writeJSON(w, http.StatusServiceUnavailable, healthBody(h))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
