package audit

import (
	"fmt"
	"sort"

	"github.com/creditgate/creditgate/scenarios/history"
)

// CheckD55 names the black-box event-id judge.
const CheckD55 = "D55 event ids: every write answers its own event_id, never one an earlier write was given, and a keyed retry its original's"

// EventIDsOfAnswers judges the event ids a backend answered, from the client
// history alone (SPEC §2: event_id unique; §3: a retry returns the original
// result): the acknowledged copies of one write — one key, one body, one
// route — name one event_id, and no two writes name the same one. It is what
// a restart shows on a backend whose id generator or key index starts over:
// run it over a history spanning one. Answers without an event_id are not
// judged; none at all is NOT MEASURED (0 samples).
func EventIDsOfAnswers(ops []Op) Finding {
	type unit struct {
		name string
		ids  map[string][]uint64 // event_id → op ids
	}
	units := map[string]*unit{}
	var order []string
	owner := map[string]string{} // event_id → the unit that answered it first
	var v violations
	samples := 0
	sorted := append([]Op(nil), ops...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].CallNs < sorted[j].CallNs })
	for _, o := range sorted {
		if !o.Kind.Mutation() || !acked(o) || o.EventID == "" || o.Role == history.Conflicting {
			continue
		}
		samples++
		group := fmt.Sprintf("op %d", o.ID)
		if o.Key != "" {
			group = "key " + o.Key + "\x00" + o.BodyHash + "\x00" + o.Kind.String()
		}
		u, ok := units[group]
		if !ok {
			name := fmt.Sprintf("op %d (%s, no key)", o.ID, o.Kind)
			if o.Key != "" {
				name = fmt.Sprintf("key %s (%s)", o.Key, o.Kind)
			}
			u = &unit{name: name, ids: map[string][]uint64{}}
			units[group] = u
			order = append(order, group)
		}
		u.ids[o.EventID] = append(u.ids[o.EventID], o.ID)
		if first, ok := owner[o.EventID]; !ok {
			owner[o.EventID] = group
		} else if first != group && len(u.ids[o.EventID]) == 1 {
			v.add("%s, op %d, answered event_id %s, which %s was answered before", u.name, o.ID, o.EventID, units[first].name)
		}
	}
	for _, g := range order {
		u := units[g]
		if len(u.ids) > 1 {
			var parts []string
			for id, ops := range u.ids {
				parts = append(parts, fmt.Sprintf("%s (ops %v)", id, ops))
			}
			sort.Strings(parts)
			v.add("%s: its acknowledged copies answered %d event ids: %v", u.name, len(u.ids), parts)
		}
	}
	measured := countMeasured(&v, samples, "acknowledged answers naming an event_id")
	return v.finding(CheckD55, measured, "0", fmt.Sprintf("%d writes; the copies of one write are its ops with one key, body and route", len(units)))
}
