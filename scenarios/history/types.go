package history

import (
	"fmt"
)

// Kind is what an operation did.
type Kind uint8

// Kinds. Mutations first; reads after KindReadBalance.
const (
	KindUnknown Kind = iota
	KindConsume
	KindRefund
	KindAdd
	KindWithdraw
	KindCreateAgent
	KindApprovalRequest
	KindApprove
	KindReject
	KindPoolCreate
	KindPoolAllocate
	KindPoolConsume
	KindPoolRefund
	KindPoolClose
	KindMissionStart
	KindMissionComplete
	KindMissionFail
	KindMissionCancel
	KindCollaboration
	KindPoolTransfer
	KindPoolMember // add or remove a pool member
	KindMissionRate
	KindReadBalance  // GET /balance/{agent}: ReadMilli holds the balance
	KindReadHistory  // GET /history/{agent}: ReadNewest holds the newest entry's event id
	KindReadBalances // GET /balances
	KindRead         // any other GET
	kindCount
)

var kindNames = [...]string{"unknown", "consume", "refund", "add", "withdraw", "create_agent", "approval_request",
	"approve", "reject", "pool_create", "pool_allocate", "pool_consume", "pool_refund", "pool_close",
	"mission_start", "mission_complete", "mission_fail", "mission_cancel", "collaboration",
	"pool_transfer", "pool_member", "mission_rate",
	"read_balance", "read_history", "read_balances", "read"}

func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Mutation reports whether the kind changes state (reads do not).
func (k Kind) Mutation() bool { return k != KindUnknown && k < KindReadBalance }

// Decision reports an approval decision (approve or reject).
func (k Kind) Decision() bool { return k == KindApprove || k == KindReject }

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("history: unknown kind %q", b)
}

// Outcome is how an operation ended as the client saw it.
type Outcome uint8

// Outcomes. The zero value is Unknown: an answer never seen is unknown.
const (
	// Unknown: a transport error, a timeout or a 5xx. The mutation may or
	// may not have been applied (a 503 after a failed fsync may leave a line
	// that recovery keeps): never "failed".
	Unknown Outcome = iota
	// OK: acknowledged (2xx) and executed by this request.
	OK
	// Replayed: acknowledged (2xx) with Idempotent-Replayed: true, the
	// original result of an earlier request with the same key.
	Replayed
	// Refused: a 3xx/4xx answer; Op.Code holds the error code. Nothing was
	// applied.
	Refused
	outcomeCount
)

var outcomeNames = [...]string{"unknown", "ok", "replayed", "refused"}

func (o Outcome) String() string {
	if o < outcomeCount {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Acked reports an acknowledgement (OK or Replayed).
func (o Outcome) Acked() bool { return o == OK || o == Replayed }

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("history: unknown outcome %q", b)
}

// Role is why an operation was sent.
type Role uint8

// Roles. The zero value is Original.
const (
	Original Role = iota
	// Retry: the same request and key, sent after the original returned.
	Retry
	// ConcurrentDuplicate: the same request and key, sent while the
	// original was in flight.
	ConcurrentDuplicate
	// FollowUp: a step a scenario takes because of an earlier answer (an
	// approval of a request the load just opened).
	FollowUp
	// Setup: creating and funding agents before the measured work.
	Setup
	// NoWrite: a repeat of an earlier request's content under a new key that
	// by contract writes nothing (a repeated collaboration_id).
	NoWrite
	// Conflicting: an earlier request's key sent with a different request;
	// by contract refused 409 idempotency_key_conflict, writing nothing.
	Conflicting
	roleCount
)

var roleNames = [...]string{"original", "retry", "concurrent_duplicate", "follow_up", "setup", "no_write", "conflicting"}

func (r Role) String() string {
	if r < roleCount {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	for i, n := range roleNames {
		if n == string(b) {
			*r = Role(i)
			return nil
		}
	}
	return fmt.Errorf("history: unknown role %q", b)
}

// Op is one recorded operation, kept compact (no request or response body)
// so a 30-minute soak's few hundred thousand operations fit in memory.
// CallNs and ReturnNs are nanoseconds since the Recorder's monotonic base.
type Op struct {
	ID   uint64 `json:"id"`
	Kind Kind   `json:"kind"`
	Role Role   `json:"role"`
	// Key is the Idempotency-Key sent ("" = none).
	Key string `json:"key,omitempty"`
	// Agent is the agent the operation names (consume, refund, add,
	// withdraw, create, approval request, pool consume, balance read).
	Agent string `json:"agent,omitempty"`
	// Entity is the other entity the operation names: the approval request
	// of a decision, the pool, the mission, the collaboration.
	Entity      string `json:"entity,omitempty"`
	AmountMilli int64  `json:"amount_milli,omitempty"`

	CallNs   int64   `json:"call_ns"`
	ReturnNs int64   `json:"return_ns"`
	Status   int     `json:"status"`
	Outcome  Outcome `json:"outcome"`
	Code     string  `json:"code,omitempty"` // error code of a refusal
	// EventID is the primary event the response named (event_id, or
	// decision_event_id for a decision).
	EventID string `json:"event_id,omitempty"`
	// RequestID is the approval request id the response named.
	RequestID string `json:"request_id,omitempty"`
	// State is the approval status a decision's response reported
	// (pending after one vote of two, approved, rejected).
	State string `json:"state,omitempty"`
	// WinnerEventID is the decision event an already_decided refusal named.
	WinnerEventID string `json:"winner_event_id,omitempty"`
	// Duplicate: the response said "duplicate": true (a repeated
	// collaboration_id).
	Duplicate bool `json:"duplicate,omitempty"`
	// ReadMilli is the balance a successful balance read returned, exactly
	// in milli-credits; ReadNewest the event id of the newest entry a
	// history read returned ("" = none); HasRead says the read's value was
	// parsed.
	ReadMilli  int64  `json:"read_milli,omitempty"`
	ReadNewest string `json:"read_newest,omitempty"`
	HasRead    bool   `json:"has_read,omitempty"`
	Err        string `json:"err,omitempty"` // transport error or refusal detail, truncated

	// The exact money text of the answer, for black-box judging (a backend
	// whose journal the harness cannot read): BalanceAfter is a 2xx write's
	// balance_after (a create's balance), AnswerAmount its amount, ReadRaw
	// the balance a successful balance read returned — each the JSON value
	// verbatim, so float noise (37.199999999999996), quotes or null survive.
	BalanceAfter string `json:"balance_after,omitempty"`
	AnswerAmount string `json:"answer_amount,omitempty"`
	ReadRaw      string `json:"read_raw,omitempty"`
	// BodyHash is HashBody of the request body (set by senders that know
	// it): two ops with one key and one BodyHash are the same request.
	BodyHash string `json:"body_hash,omitempty"`
	// AmountSent is the amount exactly as sent when a sender sets it (a
	// hostile literal such as NaN, 1e309 or "12"); "" = AmountMilli.
	AmountSent string `json:"amount_sent,omitempty"`
}
