//go:build mutant

// Seeded bug decided-answers-not-found (gate C, check RT3): a decision on
// an already decided request is refused 404 not_found instead of 409
// already_decided (RT3).

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
	if ap.Status != projection.StatusPending {
		return ap, false, refuse(CodeNotFound, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},
			"approval %q was already %s by %s (event %s)", ap.RequestID, ap.Status, orSystem(ap.DecidedBy), ap.DecisionEventID)
	}
	if !now.Before(ap.ExpiresAt) {
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: ap.RequestID, Version: ap.Version}, -1, ap.RequestEventID)
		return ap, true, nil
	}
	if in.ExpectedVersion != 0 && in.ExpectedVersion != ap.Version {
		return ap, false, refuse(CodeVersionMismatch, DecidedBody{RequestID: ap.RequestID, Status: ap.Status, Version: ap.Version},
			"approval %q is at version %d, not %d", ap.RequestID, ap.Version, in.ExpectedVersion)
	}
	return ap, false, nil
}
