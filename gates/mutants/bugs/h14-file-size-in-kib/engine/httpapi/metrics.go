//go:build mutant

// Seeded bug h14-file-size-in-kib (blind hunt 14, in our engine): GET
// /metrics' journal.file_size_mb carries the journal's size in KiB. Breaks
// SPEC §6 (journal.file_size_mb).

package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
)

func (s *Server) jsonMetrics(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.metrics.mu.Lock()
	reqs := map[string]map[string]int64{}
	for k, rs := range s.metrics.routes {
		m := map[string]int64{}
		for code, n := range rs.byStatus {
			m[fmt.Sprint(code)] = n
		}
		reqs[k] = m
	}
	s.metrics.mu.Unlock()
	rec := s.eng.Recovery()
	fileMB := 0.0
	if fi, err := os.Stat(st.StoreLocation); err == nil && st.Storage == "jsonl-journal" {
		fileMB = math.Round(float64(fi.Size())/(1<<10)*1000) / 1000 // BUG: KiB
	}
	integrity := integrityErrors(len(rec.Quarantined), rec.TornTail != nil)
	// The projection fold is the only subscriber and takes every event
	// type; an error in it fails the engine (health "failed").
	subscriberErrors := 0
	if s.eng.Health().Status == "failed" {
		subscriberErrors = 1
	}
	// Each section carries the original's fields first, then ours.
	writeJSON(w, http.StatusOK, map[string]any{
		"journal": map[string]any{"total_events": st.TotalEvents, "file_size_mb": fileMB,
			"idempotency_violations": s.metrics.keyConflicts.Load(), "file_path": st.StoreLocation, "storage": st.Storage,
			"seq": st.Seq, "fsync_enabled": st.FsyncEnabled, "stats": st.Journal},
		"event_bus": map[string]any{"total_published": st.Published, "total_subscriber_errors": subscriberErrors,
			"subscribers_by_type": map[string]int{"*": 1},
			"commands":            st.Commands, "idempotent_replays": st.IdempotentReplays, "idempotency_keys": st.IdempotencyKeys},
		"replay": map[string]any{"total_events": st.ReplayEvents, "replay_duration_seconds": st.ReplaySeconds,
			// The original's types: Unix seconds (a number) and the
			// snapshot id (a string, null: no snapshots are used).
			"last_replay_timestamp": unixSeconds(s.eng.ReplayedAt()), "integrity_errors_count": integrity,
			"snapshot_used": nil, "events_skipped_by_snapshot": 0, "snapshot_restore_duration_seconds": 0.0,
			"events": st.ReplayEvents, "seconds": st.ReplaySeconds},
		"anomaly":  map[string]any{"flagged": st.Anomalies, "detector_failures": st.DetectorFailures},
		"requests": reqs,
		"runtime":  map[string]any{"heap_alloc_bytes": ms.HeapAlloc, "goroutines": runtime.NumGoroutine()},
	})
}
