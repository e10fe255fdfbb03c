//go:build mutant

// Seeded bug leaks-a-file-per-balance-read (gate E, check E7): every balance
// read opens a file and keeps it open (held, so no finalizer closes it).

package engine

import (
	"os"

	"github.com/creditgate/creditgate/engine/projection"
)

// leakedFiles holds the files balance reads opened and never closed.
var leakedFiles []*os.File

// Balance returns one agent's balance.
func (e *Engine) Balance(agentID string) (int64, error) {
	if len(leakedFiles) < 4000 { // bounded, so the machine keeps fds to spare
		if f, err := os.Open(os.Args[0]); err == nil {
			leakedFiles = append(leakedFiles, f)
		}
	}
	var a projection.AgentView
	var ok bool
	if err := e.read(func(st *projection.State) { a, ok = st.Agent(agentID) }); err != nil {
		return 0, err
	}
	if !ok {
		return 0, e.unknown("agent", agentID)
	}
	return a.BalanceMilli, nil
}
