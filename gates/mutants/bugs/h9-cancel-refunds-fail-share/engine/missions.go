//go:build mutant

// Seeded bug h9-cancel-refunds-fail-share (blind hunt 9, in our engine): a cancelled mission refunds
// the fail share of what it consumed (CREDITD_MISSION_FAIL_REFUND), not all of it. At the default
// share 1.0 both are the same. Breaks SPEC §5 (cancel refunds 100%). A client sees, with
// CREDITD_MISSION_FAIL_REFUND=0.5: start m (estimate 8.5), cancel → refund 4.25 (should be 8.5).

package engine

import (
	"math"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// endRefund: a cancel takes the fail share.
func endRefund(m projection.Mission, typ event.Type, actualMilli int64, failShare float64) int64 {
	switch typ {
	case event.MissionCompleted:
		return max(m.ConsumedMilli-actualMilli, 0)
	case event.MissionFailed, event.MissionCancelled:
		return int64(math.Floor(float64(m.ConsumedMilli) * failShare))
	}
	return 0
}
