//go:build mutant

// Seeded bug replay-forgets-eoc (gate B, check B35): replay skips the
// journaled eoc.regulated decisions, so after a restart GET /eoc reports the
// initial score and regulation.

package engine

import "github.com/creditgate/creditgate/engine/event"

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	if ev.EventType == event.EoCRegulated {
		e.seq = ev.Seq
		return e.models.st.Apply(ev)
	}
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}
