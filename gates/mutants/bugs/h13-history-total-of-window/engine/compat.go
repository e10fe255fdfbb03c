//go:build mutant

// Seeded bug h13-history-total-of-window (blind hunt 13, on the independent
// backend and here): GET /history's total_entries counts the entries of the
// in-memory ledger window, not the agent's whole ledger. Breaks SPEC §6
// (history … total_entries) and §4 (the ledger is every entry). Paging past
// the window still works, so only the total is wrong; B37 now compares it
// with the fold on every page.
package engine

import (
	"math"

	"github.com/creditgate/creditgate/engine/projection"
)

func (e *Engine) HistoryPage(agentID string, offset, limit int) ([]projection.Entry, int64, error) {
	var total int64
	var ok bool
	if err := e.read(func(st *projection.State) {
		if _, ok = st.Agent(agentID); ok {
			window, _ := st.Ledger(agentID, 0, math.MaxInt32)
			total = int64(len(window))
		}
	}); err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, e.unknown("agent", agentID)
	}
	entries, err := e.History(agentID, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(entries) > 0 {
		total = max(total, int64(offset+len(entries)))
	}
	return entries, total, nil
}
