//go:build mutant

// Seeded bug history-mission-id-null (gate B, check B2): GET /history
// answers mission_id null on every entry (the field was left out of the
// entry it renders), so a client cannot tell which mission an entry was for.

package httpapi

import (
	"net/http"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/money"
)

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	limit, aerr := pathInt(r, "limit", 50, 1, engine.MaxHistoryLimit)
	if aerr == nil {
		var off int
		off, aerr = pathInt(r, "offset", 0, 0, 1<<30)
		if aerr == nil {
			entries, total, err := s.eng.HistoryPage(id, off, limit)
			if err != nil {
				s.writeEngineError(w, r, err)
				return
			}
			out := make([]map[string]any, len(entries))
			for i, e := range entries {
				// entity_id/entity_type are the original's names for whose
				// ledger this is; amount is signed (consumes negative).
				out[i] = map[string]any{"event_id": e.EventID, "event_type": e.EventType, "seq": e.Seq,
					"timestamp": e.Timestamp.Format(time.RFC3339Nano), "entity_id": id, "entity_type": "agent",
					"amount": money.Credits(e.AmountMilli), "balance_after": money.Credits(e.BalanceAfterMilli),
					"reason": e.Reason, "mission_id": nil}
			}
			writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "history": out, "total_entries": total,
				"count": len(out), "offset": off, "limit": limit})
			return
		}
	}
	s.writeError(w, aerr)
}
