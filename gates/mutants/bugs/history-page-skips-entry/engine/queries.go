//go:build mutant

// Seeded bug history-page-skips-entry (gate B, check B37): history pages
// read from the journal (beyond the in-memory window) skip one entry.

package engine

import (
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// historyFromJournal folds the agent's entries from the journal and returns
// the requested page. It keeps only offset+limit entries in memory.
func (e *Engine) historyFromJournal(agentID string, total int64, offset, limit int) ([]projection.Entry, error) {
	if err := e.scans.acquire(); err != nil { // bounded, cancelled at shutdown: deepscan.go
		return nil, err
	}
	defer e.scans.release()
	want := offset + limit
	ring := make([]projection.Entry, 0, want)
	var balance int64
	var cancelled bool
	err := e.iterate(0, func(_ []byte, ev *event.Envelope) bool {
		if cancelled = e.scans.cancelled(); cancelled {
			return false
		}
		id, delta, reason, mission, ok := projection.AgentDelta(ev)
		if !ok || id != agentID {
			return true
		}
		balance += delta
		en := projection.Entry{Seq: ev.Seq, EventID: ev.EventID, EventType: ev.EventType, Timestamp: ev.Timestamp,
			AmountMilli: delta, BalanceAfterMilli: balance, Reason: reason, MissionID: mission}
		if len(ring) < want {
			ring = append(ring, en)
		} else {
			copy(ring, ring[1:])
			ring[want-1] = en
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if cancelled {
		return nil, ErrClosed
	}
	// ring holds the oldest-to-newest tail; return newest first after offset.
	var out []projection.Entry
	for i := len(ring) - 2 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, ring[i])
	}
	return out, nil
}
