//go:build mutant

// Seeded bug h8-fail-refund-of-remaining (blind hunt 8, in our engine): a failed mission refunds its
// share of what is left after earlier refunds instead of its share of what it consumed (capped by what
// is left). At the default share 1.0 both are what is left; below it the agent gets less back. Breaks
// SPEC §5 (fail refunds consumed × refund percentage). A client sees, at share 0.75: start m (estimate
// 7), refund 1.5 against m, fail → refund 4.125 (should be 5.25).

package engine

import (
	"math"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// endRefund: a fail takes its share of what is left.
func endRefund(m projection.Mission, typ event.Type, actualMilli int64, failShare float64) int64 {
	switch typ {
	case event.MissionCompleted:
		return max(m.ConsumedMilli-actualMilli, 0)
	case event.MissionFailed:
		return int64(math.Floor(float64(m.ConsumedMilli-m.RefundedMilli) * failShare))
	case event.MissionCancelled:
		return m.ConsumedMilli
	}
	return 0
}
