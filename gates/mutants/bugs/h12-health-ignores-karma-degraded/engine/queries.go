//go:build mutant

// Seeded bug h12-health-ignores-karma-degraded (blind hunt 12, in our engine): health says
// degraded only while KARMA's breaker is open, not while KARMA is failing with the breaker still
// closed (GET /karma/status "degraded"). Breaks SPEC §5 ("Health shows KARMA degraded during a
// blackout"): every blackout of gate D sent enough consumes to open the breaker; D63 reads
// health after KARMA's first failed call.
package engine

import (
	"fmt"
	"time"

	"github.com/creditgate/creditgate/engine/karma"
)

// Health reports: failed when the journal failed; degraded when recovery
// repaired the journal or KARMA is not healthy; healthy otherwise.
func (e *Engine) Health() Health {
	h := Health{Status: "healthy", Journal: "ok", Recovery: "clean", Uptime: time.Since(e.opened).Round(time.Second).String()}
	e.mu.Lock()
	h.Seq = e.seq
	failed := e.failed
	e.mu.Unlock()
	if !e.recovery.Clean {
		h.Recovery = "repaired"
		h.Status = "degraded"
		h.Reasons = append(h.Reasons, "journal recovery repaired the file: see /api/credits/journal/verify")
	}
	if n := len(e.recovery.Lost); n > 0 {
		for _, l := range e.recovery.Lost {
			h.QuarantinedEntities = append(h.QuarantinedEntities, l.Kind+" "+l.ID)
		}
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d entities quarantined: their first event was lost, %d later events about them left out of the replay",
			n, e.recovery.DependentCount()))
	}
	h.Karma = e.KarmaStatus().State
	if h.Karma == karma.StateDown { // only an open breaker counts
		h.Status = "degraded"
		h.Reasons = append(h.Reasons, "KARMA is "+string(h.Karma)+": scores fall back")
	}
	if failed != nil {
		h.Status, h.Journal, h.JournalErr = "failed", "failed", failed.Error()
	}
	e.storeHealth(&h)
	return h
}
