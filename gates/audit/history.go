package audit

import "github.com/creditgate/creditgate/scenarios/history"

// Op is one recorded client operation: the one history's type
// (scenarios/history), which every scenario and the load runner record.
// Only mutations are audited against the journal; reads feed the real-time
// rules (realtime.go). Times are nanoseconds from one monotonic base.
type Op = history.Op

// noWrite reports an acknowledgement that by contract wrote nothing: a
// repeat sent as such (role NoWrite) or answered "duplicate": true.
func noWrite(o Op) bool { return o.Role == history.NoWrite || o.Duplicate }

// indeterminate reports whether the op may or may not have been written:
// no answer, a timeout or a 5xx (history.Classify's Unknown), because a 503
// after a failed fsync may leave a line that recovery keeps.
func indeterminate(o Op) bool { return o.Outcome == history.Unknown }

// HistoryOptions tune the history check.
type HistoryOptions struct {
	// KeylessSent says the client sent mutations without an idempotency key
	// whose event ids it may not know (e.g. unknown outcomes); server-keyed
	// events ("srv-<event_id>") nobody claimed are then allowed.
	KeylessSent bool
}
