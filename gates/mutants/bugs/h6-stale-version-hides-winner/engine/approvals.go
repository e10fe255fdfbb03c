//go:build mutant

// Seeded bug h6-stale-version-hides-winner (blind hunt 6): a late decision that carries the version
// the client read (expected_version in the body or If-Match) is refused 409 version_mismatch, without
// the winner, instead of 409 already_decided naming the winning decision (SPEC §5 'the first terminal
// decision wins; every later or concurrent decision gets 409 already_decided with the winning decision
// in the body'): pending() now checks expected_version before it checks whether the request is still
// pending (and before lazy expiry). A client sees: POST /add 600 (202, version 1); approve by bob with
// expected_version 1 (200); reject by carol with expected_version 1 (or If-Match: 1) answers code
// version_mismatch with no winner / decision_event_id; the same call without a version still gets
// already_decided. In a race where every racer sends expected_version 1, the losers get
// version_mismatch.

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// pending returns the request if it can still be decided. An overdue
// request is expired right here (lazy expiry), in the same plan.
func pending(v View, p *plan, in DecisionInput, now time.Time) (projection.Approval, bool, error) {
	ap, ok := v.Approval(in.RequestID)
	if !ok {
		if t, old := v.DecidedTombstone(in.RequestID); old {
			return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: in.RequestID, Status: t.Status,
				DecisionEventID: t.DecisionEventID, DecidedBy: t.DecidedBy, Version: t.Version},
				"approval %q was already %s by %s (event %s)", in.RequestID, t.Status, orSystem(t.DecidedBy), t.DecisionEventID)
		}
		return ap, false, v.unknown("approval", in.RequestID)
	}
	if in.ExpectedVersion != 0 && in.ExpectedVersion != ap.Version {
		return ap, false, refuse(CodeVersionMismatch, DecidedBody{RequestID: ap.RequestID, Status: ap.Status, Version: ap.Version},
			"approval %q is at version %d, not %d", ap.RequestID, ap.Version, in.ExpectedVersion)
	}
	if ap.Status != projection.StatusPending {
		return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},
			"approval %q was already %s by %s (event %s)", ap.RequestID, ap.Status, orSystem(ap.DecidedBy), ap.DecisionEventID)
	}
	if !now.Before(ap.ExpiresAt) {
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: ap.RequestID, Version: ap.Version}, -1, ap.RequestEventID)
		return ap, true, nil
	}
	return ap, false, nil
}
