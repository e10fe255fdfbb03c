//go:build mutant

// Seeded bug h6-deep-history-ring-unrotated (blind hunt 6): a ledger page beyond the in-memory window
// (SPEC §4: keep the newest N entries per entity in memory, read older pages from the journal) keeps
// the journal's newest offset+limit entries in a circular buffer but reads it back as if it were in
// order. As long as the agent has at most offset+limit entries nothing changes; once it has more (and
// the count is not a multiple of offset+limit), GET /api/credits/history/{agent_id}?offset=O&limit=L
// with O+L above the window (default 200) returns a rotated page: wrong entries, not newest first,
// event_ids and balance_after values that are not the ledger's O..O+L-1 newest entries, while the
// same entries read from memory (pages inside the window) are right.
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
	var seen int // entries of the agent read so far
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
			ring[seen%want] = en // overwrite the oldest: no O(want) shift per entry
		}
		seen++
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
	for i := len(ring) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, ring[i])
	}
	return out, nil
}
