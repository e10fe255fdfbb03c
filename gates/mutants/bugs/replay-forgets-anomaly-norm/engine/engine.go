//go:build mutant

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
