package audit

import (
	"fmt"
	"slices"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
)

// Window-aware judges: they read the fault windows recorded in the client
// history (history.Window, on the same clock as each operation's call and
// return) and judge operations by where they fall relative to a fault.

// windowsOf are the windows of the named faults (all when none is named).
func windowsOf(ws []history.Window, faults []string) []history.Window {
	var out []history.Window
	for _, w := range ws {
		if len(faults) == 0 || slices.Contains(faults, w.Fault) {
			out = append(out, w)
		}
	}
	return out
}

// CheckAckedSurvivedFaults (D43) judges crash faults by their windows:
// every mutation acknowledged before a window of one of faults closed
// (before the kill, or during it: while the backend was going down) must
// be in the journal read after the faults, by its idempotency key. A
// window still open (the fault never ended) judges nothing; a history
// with no closed window of those faults judges nothing (NOT MEASURED).
// Setup operations and operations without a key are not judged.
func CheckAckedSurvivedFaults(j *Journal, ops []history.Op, windows []history.Window, faults ...string) Finding {
	const check = "D43 acknowledged before a crash window closed survived it"
	var closed []history.Window
	for _, w := range windowsOf(windows, faults) {
		if !w.Open() {
			closed = append(closed, w)
		}
	}
	present := map[string]bool{}
	for _, e := range j.Events() {
		present[e.IdempotencyKey] = true
	}
	var v violations
	during := 0
	for _, op := range ops {
		if !op.Kind.Mutation() || !op.Outcome.Acked() || op.Role == history.Setup || op.Key == "" {
			continue
		}
		// The last window the acknowledgement precedes the end of: it
		// had to survive that fault (and every later one).
		var by *history.Window
		for i := range closed {
			if op.ReturnNs <= closed[i].EndNs {
				by = &closed[i]
				break
			}
		}
		if by == nil {
			continue
		}
		v.judged++
		in := by.Contains(op.ReturnNs)
		if in {
			during++
		}
		if !present[op.Key] {
			when := "before"
			if in {
				when = "during"
			}
			v.add("op %d %s key %s acknowledged at %s, %s the %s window [%s, %s], is not in the journal",
				op.ID, op.Kind, op.Key, nsString(op.ReturnNs), when, by.Fault, nsString(by.StartNs), nsString(by.EndNs))
		}
	}
	detail := fmt.Sprintf("%d closed window(s) of %v; %d acknowledgements judged, %d of them returned during a window",
		len(closed), faultNames(closed), v.judged, during)
	return v.finding(check, fmt.Sprintf("%d lost", v.count), "0 lost", detail)
}

// CheckServedDuringOutage (D44) judges dependency outages by their
// windows: every consume sent while one of faults was in effect (its call
// inside the window) must be acknowledged — a KARMA outage never fails a
// consume — within budget. No consume inside such a window judges nothing.
func CheckServedDuringOutage(ops []history.Op, windows []history.Window, budget time.Duration, faults ...string) Finding {
	const check = "D44 consumes sent during a dependency outage were served"
	ws := windowsOf(windows, faults)
	var v violations
	var slowest int64
	for _, op := range ops {
		if op.Kind != history.KindConsume || op.Role == history.Setup {
			continue
		}
		i := slices.IndexFunc(ws, func(w history.Window) bool { return w.Contains(op.CallNs) })
		if i < 0 {
			continue
		}
		v.judged++
		took := op.ReturnNs - op.CallNs
		slowest = max(slowest, took)
		switch {
		case !op.Outcome.Acked():
			v.add("op %d key %s sent at %s during %s: %s %d %s %s", op.ID, op.Key, nsString(op.CallNs), ws[i].Fault, op.Outcome, op.Status, op.Code, op.Err)
		case time.Duration(took) > budget:
			v.add("op %d key %s sent at %s during %s: acknowledged after %s (budget %s)", op.ID, op.Key, nsString(op.CallNs), ws[i].Fault,
				time.Duration(took).Round(time.Millisecond), budget)
		}
	}
	detail := fmt.Sprintf("%d window(s) of %v; %d consumes sent inside them, slowest %s", len(ws), faultNames(ws), v.judged,
		time.Duration(slowest).Round(time.Millisecond))
	return v.finding(check, fmt.Sprintf("%d not served within %s", v.count, budget), "0", detail)
}

func faultNames(ws []history.Window) []string {
	var out []string
	for _, w := range ws {
		if !slices.Contains(out, w.Fault) {
			out = append(out, w.Fault)
		}
	}
	return out
}

// nsString is a time on the history's clock, as seconds since its base.
func nsString(ns int64) string { return fmt.Sprintf("%.3fs", float64(ns)/1e9) }
