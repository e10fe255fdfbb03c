//go:build mutant

// Seeded bug balances-as-strings (gate B, check B46): GET /balances renders
// each balance as a JSON string ("95.5"), so a client of the original gets
// text where it does arithmetic.

package httpapi

import (
	"net/http"

	"github.com/creditgate/creditgate/engine/money"
)

func (s *Server) balances(w http.ResponseWriter, r *http.Request) {
	all, err := s.eng.Balances()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := make(map[string]string, len(all))
	for id, b := range all {
		out[id] = money.Format(money.Milli(b))
	}
	writeJSON(w, http.StatusOK, map[string]any{"balances": out, "total_agents": len(out), "count": len(out)})
}
