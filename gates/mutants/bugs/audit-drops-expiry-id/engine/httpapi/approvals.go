//go:build mutant

// Seeded bug audit-drops-expiry-id (gate C): the approval audit lists an expired request, but its decision_event_ids leave the approval.expired event out (only the votes, approvals and rejections are named)

package httpapi

import (
	"net/http"

	"github.com/creditgate/creditgate/engine/event"
)

// audit lists decided requests with every decision event id, newest first.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	limit, aerr := pathInt(r, "limit", 100, 1, 100_000)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	all, err := s.eng.AuditApprovals(limit)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := []map[string]any{}
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		a := all[i]
		ids := []string{}
		for _, v := range a.Votes {
			if v.EventType != event.ApprovalExpired {
				ids = append(ids, v.EventID)
			}
		}
		v := approvalView(a)
		v["decision_event_ids"] = ids
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": out, "count": len(out)})
}
