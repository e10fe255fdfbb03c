//go:build mutant

// Seeded bug h11-deep-history-drops-pool-close (blind hunt 11, in our engine): the journal
// reader of ledger pages older than the in-memory window forgets pool.closed, so a pool's
// remainder paid to an agent is in its newest pages and missing from the older ones, whose
// balance_after is off by it. Breaks SPEC §4 (ledger "paged ... read older pages from the
// journal") and §1 (a balance is the sum of its signed deltas). B37's paging workload closed no
// pool.
package projection

import (
	"encoding/json"

	"github.com/creditgate/creditgate/engine/event"
)

func AgentDelta(ev *event.Envelope) (agent string, delta int64, reason, mission string, ok bool) {
	switch ev.EventType {
	case event.SynergieRewardGranted:
		var p event.Reward
		if json.Unmarshal(ev.Payload, &p) != nil {
			return "", 0, "", "", false
		}
		return p.AgentID, p.AmountMilli, reasonSynergie, "", true
	}
	var p event.Credit
	if _, isCredit := event.Delta(ev.EventType, 0); !isCredit || json.Unmarshal(ev.Payload, &p) != nil {
		return "", 0, "", "", false
	}
	delta, _ = event.Delta(ev.EventType, p.AmountMilli)
	return p.AgentID, delta, p.Reason, p.MissionID, true
}
