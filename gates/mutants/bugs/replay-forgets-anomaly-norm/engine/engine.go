//go:build mutant

// Seeded bug replay-forgets-anomaly-norm (gate B, check B25): replay does
// not feed consumes to the anomaly detector, so after a restart every agent's
// norm is empty and the first anomaly goes unflagged.

package engine

import "github.com/creditgate/creditgate/engine/event"

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	saved := e.models.checker
	e.models.checker = replayBlind{saved}
	defer func() { e.models.checker = saved }()
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}
