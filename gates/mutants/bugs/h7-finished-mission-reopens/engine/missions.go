//go:build mutant

// Seeded bug h7-finished-mission-reopens (blind hunt 7, found on the independent backend): the
// "mission already finished" guard asks whether the mission has refunded what it consumed instead of
// whether it is still running. A mission completed at an actual cost of at least its estimate (end
// refund 0) can then be cancelled or failed, and that refunds the whole estimate: the agent gets the
// mission for free. Breaks SPEC §5 (complete refunds estimate − actual only if positive) and §1 (a
// mission's balance is never negative). A client sees: start m (estimate 7), complete at actual_cost 7
// (200, refund 0), cancel → 200 and +7 (should be 409, nothing).

package engine

import "github.com/creditgate/creditgate/engine/projection"

// A mission is over once it has refunded what it consumed.
func missionOver(m projection.Mission) bool {
	return m.Status != projection.MissionRunning && m.RefundedMilli >= m.ConsumedMilli
}
