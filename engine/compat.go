package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/projection"
)

// Queries that serve the original system's response fields.

// HistoryPage is History plus the agent's total number of ledger entries
// (the original's total_entries), read just before the page.
func (e *Engine) HistoryPage(agentID string, offset, limit int) ([]projection.Entry, int64, error) {
	var total int64
	var ok bool
	if err := e.read(func(st *projection.State) {
		var a projection.AgentView
		if a, ok = st.Agent(agentID); ok {
			total = a.Entries
		}
	}); err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, e.unknown("agent", agentID) // 409 entity_quarantined as on every route
	}
	entries, err := e.History(agentID, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	// An entry applied between the two reads is in the page but not yet in
	// total: a total is never smaller than what the caller can see. An
	// empty page past the end says nothing about the total.
	if len(entries) > 0 {
		total = max(total, int64(offset+len(entries)))
	}
	return entries, total, nil
}

// ReplayedAt is when the start-up replay of the journal finished (UTC).
func (e *Engine) ReplayedAt() time.Time {
	return e.opened.Add(e.stats.replayDuration).UTC()
}
