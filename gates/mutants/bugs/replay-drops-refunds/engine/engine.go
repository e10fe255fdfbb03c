//go:build mutant

// Seeded bug replay-drops-refunds (gate B, check B23): replay skips
// credit.refunded, so the state drifts after a restart.

package engine

import "github.com/creditgate/creditgate/engine/event"

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	if ev.EventType == event.CreditRefunded {
		e.seq = ev.Seq
		return e.models.st.SkipForMutant(ev)
	}
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}
