package engine

import (
	"errors"
	"fmt"
)

// Code enumerates the business outcomes a command can be refused with. The
// HTTP layer maps each to one status in one table.
type Code string

const (
	CodeInvalid               Code = "invalid"                  // a field is invalid (422)
	CodeNotFound              Code = "not_found"                // unknown entity (404)
	CodeAgentExists           Code = "agent_exists"             // (409)
	CodeInsufficientCredits   Code = "insufficient_credits"     // (409)
	CodeAlreadyDecided        Code = "already_decided"          // (409)
	CodeVersionMismatch       Code = "version_mismatch"         // expected_version stale (409)
	CodeIdempotencyConflict   Code = "idempotency_key_conflict" // (409)
	CodeConflict              Code = "conflict"                 // other state conflicts (409)
	CodeFourEyes              Code = "four_eyes_violation"      // requester approving own request (403)
	CodeDuplicateApprover     Code = "duplicate_approver"       // same approver twice on CRITICAL (409)
	CodeJustificationRequired Code = "justification_required"   // (422)
	CodeNotMember             Code = "not_a_member"             // pool consume by a non-member (403)
	// CodeRefundExceedsConsumed: a refund above the unrefunded part of the
	// mission or pool consumption it names (409).
	CodeRefundExceedsConsumed Code = "refund_exceeds_consumed"
	// CodeApprovalRequired: a credit that names nothing bounding it, at or
	// above the approval threshold, on a path with no approval flow (422).
	CodeApprovalRequired Code = "approval_required"
	// CodeQuarantined: the entity's first event was lost in journal
	// recovery, so the events about it were left out of the replay (409).
	CodeQuarantined Code = "entity_quarantined"
)

// RuleError is a refused command: an expected outcome, not a failure.
type RuleError struct {
	Code   Code
	Detail string
	// Body is extra context for the client (e.g. the balance, or the
	// winning decision); nil if none.
	Body any
}

func (e *RuleError) Error() string { return string(e.Code) + ": " + e.Detail }

func refuse(code Code, body any, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Detail: fmt.Sprintf(format, args...), Body: body}
}

// Infrastructure failures (503).
var (
	ErrClosed = errors.New("engine: shutting down")
	// ErrJournalFailed wraps the journal's sticky error: the engine refuses
	// every command and state read until it is restarted and recovers.
	ErrJournalFailed = errors.New("engine: journal failed")
	// ErrStoreUnavailable: a shared store (PostgreSQL) cannot be reached or
	// a commit's outcome is unknown. Unlike ErrJournalFailed it is not
	// sticky: the engine reloads from the store once it answers again.
	ErrStoreUnavailable = errors.New("engine: event store unavailable")
)
