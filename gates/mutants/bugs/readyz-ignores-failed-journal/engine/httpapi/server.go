//go:build mutant

// Seeded bug readyz-ignores-failed-journal (gate D): GET /readyz checks
// only the event store's reachability, not a failed journal, so a backend
// whose journal failed (every write answered 503) stays "ready" and keeps
// receiving traffic.

package httpapi

import "net/http"

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	h := s.eng.Health()
	// Not ready while commands would fail: the event store cannot be reached.
	if h.Journal == "store_unavailable" {
		writeJSON(w, http.StatusServiceUnavailable, healthBody(h))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
