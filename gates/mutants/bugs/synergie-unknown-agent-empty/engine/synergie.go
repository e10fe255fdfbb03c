//go:build mutant

// Seeded bug synergie-unknown-agent-empty (gate B): GET /synergie/{agent}
// of an agent that does not exist answers 200 with no teams instead of 404.

package engine

import (
	"github.com/creditgate/creditgate/engine/projection"
)

func (e *Engine) SynergieOf(agentID string) ([]projection.SynergieAccount, error) {
	var out []projection.SynergieAccount
	err := e.read(func(st *projection.State) {
		out = st.SynergieOf(agentID)
	})
	return out, err
}
