//go:build mutant

// Seeded bug explore-replay-forgets-keys (gate B, check B47): replay does
// not rebuild the idempotency index, so a retry after the explorer's restart
// executes again (money moves twice).

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
