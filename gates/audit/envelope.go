package audit

import (
	"fmt"
	"time"
)

// CheckTimestamp is the check ID and title of CheckTimestamps.
const CheckTimestamp = "A28 timestamps are RFC 3339 in UTC and never go back along seq"

// CheckTimestamps: every event's timestamp is RFC 3339 with a zero offset
// (SPEC §2), and no event is stamped earlier than the event before it in
// the journal. The journal is the order in which commands took effect and
// the time the rules decided on travels in the event (expiry, windows,
// replay): a stamp earlier than its predecessor's means the engine decided
// on a clock reading it took before the state it decided on (for example
// at the request's arrival, not under the commit), so replay and readers
// see time run backwards. One clock is assumed: a backend that stamps on
// several machines must keep their clocks ordered or fails here.
func CheckTimestamps(j *Journal) Finding {
	var v violations
	evs := j.Events()
	var prev time.Time
	var prevSeq uint64
	for _, e := range evs {
		t, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			v.add("seq %d (%s %s): timestamp %q is not RFC 3339", e.Seq, e.EventType, e.EventID, e.Timestamp)
			continue
		}
		if _, off := t.Zone(); off != 0 {
			v.add("seq %d (%s %s): timestamp %q is not UTC", e.Seq, e.EventType, e.EventID, e.Timestamp)
		}
		if !prev.IsZero() && t.Before(prev) {
			v.add("seq %d (%s %s) is stamped %s, %s before seq %d", e.Seq, e.EventType, e.EventID,
				e.Timestamp, prev.Sub(t), prevSeq)
		}
		prev, prevSeq = t, e.Seq
	}
	return v.finding(CheckTimestamp, countMeasured(&v, len(evs), "events"), "0",
		fmt.Sprintf("RFC 3339, offset zero, non-decreasing in seq order over %d events", len(evs)))
}
