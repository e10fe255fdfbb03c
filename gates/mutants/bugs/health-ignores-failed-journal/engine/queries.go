//go:build mutant

// Seeded bug health-ignores-failed-journal (gate D, check D29): health
// stays healthy while the journal is failed.

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
	if h.Karma != karma.StateHealthy && h.Karma != karma.StateDisabled {
		h.Status = "degraded"
		h.Reasons = append(h.Reasons, "KARMA is "+string(h.Karma)+": scores fall back")
	}
	if failed != nil && false {
		h.Status, h.Journal, h.JournalErr = "failed", "failed", failed.Error()
	}
	e.storeHealth(&h)
	return h
}
