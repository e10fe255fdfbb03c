package audit

import (
	"fmt"
	"slices"
)

// Approval races, judged from the client history alone (the answers the
// racers got), so they hold on any backend whatever its journal.
const (
	CheckOneWinner        = "C1 requests with exactly one winner"
	CheckLoserNamedWinner = "C2 every loser got already_decided naming the winner"
)

// Race is the decisions a scenario sent at once on one approval request:
// the history ids of their operations.
type Race struct {
	RequestID string
	Ops       []uint64
}

// ApprovalRaces judges each race: exactly one decision acknowledged (C1),
// and every other one refused already_decided naming that winner's
// decision event — one winner, the same one for every loser (C2).
func ApprovalRaces(ops []Op, races []Race) (one, named Finding) {
	byID := make(map[uint64]*Op, len(ops))
	for i := range ops {
		byID[ops[i].ID] = &ops[i]
	}
	var v1, v2 violations
	for _, r := range races {
		var winners []string
		namedIDs := map[string]bool{}
		var other []string
		for _, id := range r.Ops {
			o := byID[id]
			switch {
			case o == nil:
				other = append(other, fmt.Sprintf("op %d not in the history", id))
			case o.Outcome.Acked():
				winners = append(winners, o.EventID)
			case o.Status == 409 && o.Code == "already_decided":
				namedIDs[o.WinnerEventID] = true
			default:
				other = append(other, fmt.Sprintf("op %d answered %d %s", id, o.Status, o.Code))
			}
		}
		if len(winners) != 1 {
			v1.add("request %s: %d of %d decisions acknowledged (%v)", r.RequestID, len(winners), len(r.Ops), winners)
		}
		names := make([]string, 0, len(namedIDs))
		for id := range namedIDs {
			names = append(names, id)
		}
		slices.Sort(names)
		switch {
		case len(other) > 0:
			v2.add("request %s: losers not refused already_decided: %v", r.RequestID, other)
		case len(names) > 1:
			v2.add("request %s: losers named %d different winners %v", r.RequestID, len(names), names)
		case len(names) == 1 && len(winners) == 1 && names[0] != winners[0]:
			v2.add("request %s: losers named %s, the acknowledged decision was %s", r.RequestID, names[0], winners[0])
		case len(names) == 1 && names[0] == "":
			v2.add("request %s: already_decided answers named no winner", r.RequestID)
		}
	}
	n := len(races)
	one = v1.finding(CheckOneWinner, fmt.Sprintf("%d of %d requests", n-v1.count, n), fmt.Sprintf("%d of %d", n, n), "")
	one.Samples = n
	named = v2.finding(CheckLoserNamedWinner, fmt.Sprintf("%d of %d requests", n-v2.count, n), fmt.Sprintf("%d of %d", n, n), "")
	named.Samples = n
	return one, named
}

// ApprovedRequests counts the requests among ids whose acknowledged
// terminal decision answered "approved".
func ApprovedRequests(ops []Op, ids []string) int {
	want := setOf(ids)
	approved := map[string]bool{}
	for _, o := range ops {
		if o.Kind.Decision() && want[o.Entity] && o.Outcome.Acked() && o.State == StatusApproved {
			approved[o.Entity] = true
		}
	}
	return len(approved)
}

// DecidedOnce judges each request after a crash: the decisions
// acknowledged as terminal over the whole history, with the winners named
// by already_decided answers sent after op afterID (the restart), must be
// exactly one decision event. It returns the requests that break it.
func DecidedOnce(ops []Op, ids []string, afterID uint64) []string {
	want := setOf(ids)
	seen := map[string]map[string]bool{}
	for _, o := range ops {
		if !o.Kind.Decision() || !want[o.Entity] {
			continue
		}
		ev := ""
		switch {
		case o.Outcome.Acked() && o.State != "" && o.State != "pending":
			ev = o.EventID
		case o.ID > afterID && o.Code == "already_decided":
			ev = o.WinnerEventID
		}
		if ev == "" {
			continue
		}
		if seen[o.Entity] == nil {
			seen[o.Entity] = map[string]bool{}
		}
		seen[o.Entity][ev] = true
	}
	var bad []string
	for _, id := range ids {
		if n := len(seen[id]); n != 1 {
			bad = append(bad, fmt.Sprintf("request %s: %d distinct decisions", id, n))
		}
	}
	return bad
}

func setOf(ids []string) map[string]bool {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}
