//go:build mutant

// Seeded bug h6-health-status-not-ok (blind hunt 6): GET /health (and /api/health) answers 200 with
// status "degraded" instead of "ok" whenever the engine is degraded (KARMA degraded or down, a
// repaired or quarantined journal after recovery, the shared store unreachable), breaking SPEC §6's
// first table (GET /health: status "ok", success with 200; only the journal-failed 503 says
// otherwise). Healthy engines still say "ok", and state/karma fields are unchanged. A client sees:
// start creditd with CREDITD_KARMA_URL at a dead port (or KARMA stub down), consume 3–4 times
// (karma_source fallback, /karma/status state down), then GET /api/credits/health → 200
// {"status":"degraded","state":"degraded","karma":"down"}; the original shape wants status "ok". After
// a torn-tail recovery it says "degraded" for the life of the process.

package httpapi

import (
	"time"

	"github.com/creditgate/creditgate/engine"
)

// healthBody is the original's health shape — status "ok" and a timestamp
// — plus ours: state (healthy | degraded | failed) and why. status is
// "ok" while healthy, else the state ("failed", with 503, only when the
// journal failed).
func healthBody(h engine.Health) map[string]any {
	status := "ok"
	if h.Status != "healthy" {
		status = h.Status
	}
	body := map[string]any{"status": status, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"state": h.Status, "journal": h.Journal, "recovery": h.Recovery, "karma": h.Karma, "seq": h.Seq, "uptime": h.Uptime}
	if h.JournalErr != "" {
		body["journal_error"] = h.JournalErr
	}
	if len(h.Reasons) > 0 {
		body["reasons"] = h.Reasons
	}
	return body
}
