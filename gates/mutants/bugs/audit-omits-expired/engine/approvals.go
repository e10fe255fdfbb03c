//go:build mutant

// Seeded bug audit-omits-expired (gate C): the approval audit lists only approved and rejected requests (and pending ones with votes): expired requests and their approval.expired event ids are missing
//
// As the hunt wrote it (approved, rejected or len(a.Votes) > 0) the filter
// kept every expired request, whose approval.expired is one of its Votes,
// and changed nothing the API serves; the pending test below makes it drop
// them, as its description says.

package engine

import (
	"github.com/creditgate/creditgate/engine/projection"
)

// decidedOnly drops requests nobody has voted on yet.
func decidedOnly(all []projection.Approval) []projection.Approval {
	out := all[:0]
	for _, a := range all {
		if a.Status == projection.StatusApproved || a.Status == projection.StatusRejected ||
			(a.Status == projection.StatusPending && len(a.Votes) > 0) {
			out = append(out, a)
		}
	}
	return out
}
