//go:build mutant

// Seeded bug replay-forgets-pool-name (gate B, check B23): replay does not
// restore a pool's name: balances, ledgers and approvals all match after a
// restart, only the full-state digest can see it.

package engine

import (
	"encoding/json"

	"github.com/creditgate/creditgate/engine/event"
)

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	if ev.EventType == event.PoolCreated {
		var m map[string]any
		_ = json.Unmarshal(ev.Payload, &m)
		m["forgotten_name"] = m["name"]
		delete(m, "name")
		ev.Payload, _ = json.Marshal(m)
	}
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}
