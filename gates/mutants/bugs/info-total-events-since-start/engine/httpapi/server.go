//go:build mutant

// Seeded bug info-total-events-since-start (gate A): GET /api/credits/info reports config.event_sourcing_metrics.total_events as the events this process committed since it started, not the events the journal holds (0 after a restart)

package httpapi

import (
	"net/http"
)

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "creditd", "version": s.version, "storage": st.Storage, "seq": st.Seq,
		"fsync_enabled": st.FsyncEnabled, "auth": len(s.tokens) > 0,
		"features": []string{"approvals", "synergie", "karma", "anomaly_detection", "edge_of_chaos", "pools", "missions"},
		// The original's config section: every state change here is an event.
		"config": map[string]any{"event_sourcing_enabled": true, "event_sourcing_metrics": map[string]any{
			"total_events": st.Published, "file_path": st.StoreLocation, "fsync_enabled": st.FsyncEnabled}},
	})
}
