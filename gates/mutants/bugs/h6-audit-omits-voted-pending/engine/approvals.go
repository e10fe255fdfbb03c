//go:build mutant

// Seeded bug h6-audit-omits-voted-pending (blind hunt 6): GET /api/credits/approvals/audit (SPEC §5
// 'Audit endpoint lists every request with its decision event ids'; §8 gate C 'every decision event id
// is in the audit') drops a request that has a decision but is still pending: the first
// approval.vote_recorded of a two-vote CRITICAL request is missing from the audit (neither the request
// nor its decision_event_ids appear) until the second approver decides it. A client sees: open a
// CRITICAL request, approve it once (200, status pending, decision_event_id X); GET /approvals/audit
// does not contain X.

package engine

import (
	"github.com/creditgate/creditgate/engine/projection"
)

// decidedOnly drops requests that are still pending.
func decidedOnly(all []projection.Approval) []projection.Approval {
	out := all[:0]
	for _, a := range all {
		if a.Status != projection.StatusPending {
			out = append(out, a)
		}
	}
	return out
}
