//go:build mutant

// Seeded bug pending-list-drops-voted (gate B, check B49): GET
// /approvals?status=pending lists only requests nobody has voted on, so a
// CRITICAL request with its first approval vanishes from the approvers'
// queue and is never completed (it only expires).

package engine

import "github.com/creditgate/creditgate/engine/projection"

// Approvals lists requests by status ("" = all).
func (e *Engine) Approvals(status string) ([]projection.Approval, error) {
	var out []projection.Approval
	err := e.read(func(st *projection.State) { out = st.Approvals(status) })
	if status == projection.StatusPending {
		waiting := out[:0]
		for _, a := range out {
			if len(a.Votes) == 0 { // still waiting for a decision
				waiting = append(waiting, a)
			}
		}
		out = waiting
	}
	return out, err
}
