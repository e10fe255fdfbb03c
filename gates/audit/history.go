package audit

// Outcome is how a client operation ended, as the client saw it.
type Outcome string

// Outcomes. A timeout or transport error is unknown, never failed: the
// mutation may or may not have been written.
const (
	OutcomeOK            Outcome = "ok"             // acknowledged (2xx)
	OutcomeExpectedError Outcome = "expected_error" // refused as the scenario expected (4xx)
	OutcomeError         Outcome = "error"          // refused unexpectedly
	OutcomeUnknown       Outcome = "unknown"        // timeout / transport error
)

// Op is one recorded client operation (mutations; reads may be included and
// are ignored when they carry neither key nor event id). Times are
// nanoseconds from one monotonic base.
type Op struct {
	OpID           string  `json:"op_id"`
	Kind           string  `json:"kind"`
	IdempotencyKey string  `json:"idempotency_key,omitempty"`
	CallNs         int64   `json:"call_ns"`
	ReturnNs       int64   `json:"return_ns"`
	Status         int     `json:"status"`
	Outcome        Outcome `json:"outcome"`
	// EventID is the event_id the response named (the command's first event).
	EventID string `json:"event_id,omitempty"`
	// RetryOf is the OpID of the original request this one resent with the
	// same idempotency key; its EventID must equal the original's.
	RetryOf string `json:"retry_of,omitempty"`
	// NoEvent marks an acknowledgement that by contract wrote nothing (a
	// repeated collaboration_id answered with "duplicate": true).
	NoEvent bool `json:"no_event,omitempty"`
}

// indeterminate reports whether the op may or may not have been written:
// unknown outcomes, and server errors (5xx or no status), because a 503
// after a failed fsync may leave a line that recovery keeps.
func (o Op) indeterminate() bool {
	return o.Outcome == OutcomeUnknown || (o.Outcome == OutcomeError && (o.Status >= 500 || o.Status == 0))
}

// HistoryOptions tune the history check.
type HistoryOptions struct {
	// KeylessSent says the client sent mutations without an idempotency key
	// whose event ids it may not know (e.g. unknown outcomes); server-keyed
	// events ("srv-<event_id>") nobody claimed are then allowed.
	KeylessSent bool
}
