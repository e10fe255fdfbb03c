package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics counts requests per route and status and keeps a fixed-bucket
// latency histogram per route (bounded: one entry per registered pattern).
type metrics struct {
	mu     sync.Mutex
	routes map[string]*routeStats
	// keyConflicts counts requests refused because their idempotency key
	// was used before for a different request (the original's
	// idempotency_violations; the journal itself never holds a key twice).
	keyConflicts atomic.Int64
}

var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type routeStats struct {
	byStatus map[int]int64
	buckets  []int64
	sum      float64
	count    int64
}

func newMetrics() *metrics { return &metrics{routes: map[string]*routeStats{}} }

func (m *metrics) observe(method, pattern string, status int, d time.Duration) {
	if pattern == "" || pattern == "/" {
		pattern = "unmatched"
	}
	key := pattern
	if !strings.Contains(pattern, " ") {
		key = method + " " + pattern
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rs, ok := m.routes[key]
	if !ok {
		rs = &routeStats{byStatus: map[int]int64{}, buckets: make([]int64, len(latencyBuckets))}
		m.routes[key] = rs
	}
	rs.byStatus[status]++
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			rs.buckets[i]++
		}
	}
	rs.sum += sec
	rs.count++
}

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
		fileMB = math.Round(float64(fi.Size())/(1<<20)*1000) / 1000
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

// unixSeconds is t as Unix time in seconds with microseconds, as Python's
// time.time() gives it; nil for the zero time.
func unixSeconds(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMicro()) / 1e6
}

// promMetrics writes the Prometheus text format by hand: a handful of
// gauges and counters, so no client library is needed.
func (s *Server) promMetrics(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	g := func(name, help, typ string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	g("creditd_journal_seq", "Last journal sequence number.", "gauge", st.Seq)
	g("creditd_commands_total", "Commands acknowledged.", "counter", st.Commands)
	g("creditd_idempotent_replays_total", "Requests answered from an earlier transaction.", "counter", st.IdempotentReplays)
	g("creditd_anomalies_flagged_total", "Consumes flagged as anomalous.", "counter", st.Anomalies)
	g("creditd_anomaly_detector_failures_total", "Consumes whose detector failed.", "counter", st.DetectorFailures)
	g("creditd_journal_syncs_total", "fdatasync calls.", "counter", st.Journal.Syncs)
	g("creditd_journal_batches_total", "Group-commit batches written.", "counter", st.Journal.Batches)
	g("creditd_replay_events", "Events replayed at start.", "gauge", st.ReplayEvents)
	rec := s.eng.Recovery()
	g("creditd_recovery_quarantined_lines", "Damaged lines recovery quarantined at start.", "gauge", len(rec.Quarantined))
	g("creditd_recovery_seq_gaps", "Seq gaps recovery found at start.", "gauge", len(rec.Gaps))
	g("creditd_recovery_dependents", "Events left out of the replay because their entity's first event was lost.", "gauge", len(rec.Dependents))
	g("creditd_recovery_lost_entities", "Entities whose first event was lost (commands on them get 409 entity_quarantined).", "gauge", len(rec.Lost))
	g("creditd_fsync_enabled", "1 when appends are fsynced.", "gauge", map[bool]int{true: 1, false: 0}[st.FsyncEnabled])
	g("creditd_idempotency_keys", "Client idempotency keys remembered.", "gauge", st.IdempotencyKeys)
	g("go_goroutines", "Number of goroutines.", "gauge", runtime.NumGoroutine())
	g("go_memstats_heap_alloc_bytes", "Heap bytes allocated and in use.", "gauge", ms.HeapAlloc)
	g("go_memstats_heap_inuse_bytes", "Heap bytes in in-use spans.", "gauge", ms.HeapInuse)
	g("go_memstats_sys_bytes", "Bytes obtained from the OS.", "gauge", ms.Sys)
	if rss, fds, ok := procSelf(); ok {
		g("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", rss)
		g("process_open_fds", "Number of open file descriptors.", "gauge", fds)
	}
	s.metrics.mu.Lock()
	keys := make([]string, 0, len(s.metrics.routes))
	for k := range s.metrics.routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("# HELP creditd_http_requests_total HTTP requests by route and status.\n# TYPE creditd_http_requests_total counter\n")
	for _, k := range keys {
		rs := s.metrics.routes[k]
		codes := make([]int, 0, len(rs.byStatus))
		for c := range rs.byStatus {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			fmt.Fprintf(&b, "creditd_http_requests_total{route=%q,status=\"%d\"} %d\n", k, c, rs.byStatus[c])
		}
	}
	b.WriteString("# HELP creditd_http_request_duration_seconds HTTP request latency by route.\n# TYPE creditd_http_request_duration_seconds histogram\n")
	for _, k := range keys {
		rs := s.metrics.routes[k]
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "creditd_http_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", k, le, rs.buckets[i])
		}
		fmt.Fprintf(&b, "creditd_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", k, rs.count)
		fmt.Fprintf(&b, "creditd_http_request_duration_seconds_sum{route=%q} %g\n", k, rs.sum)
		fmt.Fprintf(&b, "creditd_http_request_duration_seconds_count{route=%q} %d\n", k, rs.count)
	}
	s.metrics.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

// procSelf reads RSS and the open fd count from /proc (Linux only).
func procSelf() (rss int64, fds int, ok bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0, false
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(data), &size, &resident); err != nil {
		return 0, 0, false
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, 0, false
	}
	return resident * int64(os.Getpagesize()), len(ents), true
}

// integrityErrors is replay.integrity_errors_count: every damaged line the
// last recovery found, the quarantined ones and a torn tail cut off.
func integrityErrors(quarantined int, torn bool) int {
	if torn {
		return quarantined + 1
	}
	return quarantined
}
