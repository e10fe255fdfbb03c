//go:build mutant

// Seeded bug stale-expected-version-accepted (gate B): a decision whose
// expected_version is older than the request's version is accepted; only a
// version from the future is refused.

package engine

import (
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
	"time"
)

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
		return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},
			"approval %q was already %s by %s (event %s)", ap.RequestID, ap.Status, orSystem(ap.DecidedBy), ap.DecisionEventID)
	}
	if !now.Before(ap.ExpiresAt) {
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: ap.RequestID, Version: ap.Version}, -1, ap.RequestEventID)
		return ap, true, nil
	}
	if in.ExpectedVersion > ap.Version {
		return ap, false, refuse(CodeVersionMismatch, DecidedBody{RequestID: ap.RequestID, Status: ap.Status, Version: ap.Version},
			"approval %q is at version %d, not %d", ap.RequestID, ap.Version, in.ExpectedVersion)
	}
	return ap, false, nil
}
