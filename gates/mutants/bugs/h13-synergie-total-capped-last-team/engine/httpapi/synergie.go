//go:build mutant

// Seeded bug h13-synergie-total-capped-last-team (blind hunt 13, in our
// engine): GET /synergie/{agent}'s total_capped is the last team's capped
// part, not the sum over the agent's teams (= where += was meant). Breaks
// SPEC §6 ("an agent's rewards, capped part"). The reader compared the
// per-team totals only; B4 now compares the agent's totals with their sums.
package httpapi

import (
	"net/http"

	"github.com/creditgate/creditgate/engine/money"
)

func (s *Server) synergie(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	accs, err := s.eng.SynergieOf(id)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	teams := []map[string]any{}
	var granted, capped int64
	for _, a := range accs {
		granted += a.GrantedMilli
		capped = a.CappedMilli
		teams = append(teams, map[string]any{"team_id": a.TeamID, "granted": money.Credits(a.GrantedMilli),
			"capped": money.Credits(a.CappedMilli), "rewards": a.Rewards})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "teams": teams,
		"total_granted": money.Credits(granted), "total_capped": money.Credits(capped)})
}
