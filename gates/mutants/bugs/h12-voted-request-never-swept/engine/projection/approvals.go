//go:build mutant

// Seeded bug h12-voted-request-never-swept (blind hunt 12, in our engine): the expiry sweep
// skips a pending request that already has a vote ("it is being decided: the decision path
// expires it"), so a CRITICAL request with one approval stays pending past its deadline until
// someone decides it. Breaks SPEC §5 ("Expiry is applied by the engine (a timer emits
// approval.expired)"). Every request left to expire had no vote or was decided late (which
// expires it lazily): C37 leaves one with a vote to the timer.
package projection

import (
	"sort"
	"time"
)

// PendingExpiringBefore lists pending request ids whose deadline is at or
// before t, in id order.
func (s *State) PendingExpiringBefore(t time.Time) []string {
	var ids []string
	for id, a := range s.approvals {
		if a.Status == StatusPending && len(a.Votes) == 0 && !a.ExpiresAt.After(t) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
