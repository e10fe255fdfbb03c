//go:build mutant

// Seeded bug replay-forgets-keys (gate A, check A15): replay does not
// rebuild the idempotency index, so a retry after a restart writes again.

package engine

import "github.com/creditgate/creditgate/engine/event"

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	return nil
}
