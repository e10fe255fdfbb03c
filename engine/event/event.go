package event

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the envelope schema written by this build.
const SchemaVersion = 1

// Type is a dotted event type name.
type Type = string

// Event types. Names marked (orig) come from the original system.
const (
	AgentRegistered   Type = "agent.registered"
	CreditAllocated   Type = "credit.allocated"   // (orig)
	CreditConsumed    Type = "credit.consumed"    // (orig)
	CreditRefunded    Type = "credit.refunded"    // (orig)
	CreditWithdrawn   Type = "credit.withdrawn"   // (orig)
	CreditRegenerated Type = "credit.regenerated" // (orig)

	ApprovalRequested Type = "approval.requested" // (orig)
	ApprovalApproved  Type = "approval.approved"  // (orig) terminal
	// ApprovalVoteRecorded is a non-terminal approval: the first of the two
	// distinct approvers a CRITICAL request needs.
	ApprovalVoteRecorded Type = "approval.vote_recorded"
	ApprovalRejected     Type = "approval.rejected" // (orig)
	ApprovalExpired      Type = "approval.expired"  // (orig)

	SynergieCollaborationRecorded Type = "synergie.collaboration_recorded" // (orig)
	SynergieRewardGranted         Type = "synergie.reward_granted"         // (orig)
	SynergieRewardCapped          Type = "synergie.reward_capped"          // (orig)
	SynergieReuseDetected         Type = "synergie.reuse_detected"         // (orig)

	EoCRegulated     Type = "eoc.regulated" // (orig)
	MissionRated     Type = "mission.rated" // (orig)
	MissionStarted   Type = "mission.started"
	MissionCompleted Type = "mission.completed"
	MissionFailed    Type = "mission.failed"
	MissionCancelled Type = "mission.cancelled"

	PoolCreated       Type = "pool.created"        // (orig)
	PoolMemberAdded   Type = "pool.member_added"   // (orig)
	PoolMemberRemoved Type = "pool.member_removed" // (orig)
	PoolAllocated     Type = "pool.allocated"      // (orig)
	PoolConsumed      Type = "pool.consumed"       // (orig)
	PoolRefunded      Type = "pool.refunded"       // (orig)
	PoolTransferred   Type = "pool.transferred"    // (orig)
	PoolClosed        Type = "pool.closed"         // (orig)
)

// Envelope is one journal record. Field names before Seq are the original
// system's; Seq, TxSize, Metadata and the line checksum are ours.
type Envelope struct {
	Seq            uint64    `json:"seq"`
	EventID        string    `json:"event_id"`
	EventType      Type      `json:"event_type"`
	Timestamp      time.Time `json:"timestamp"`
	ActorID        string    `json:"actor_id"`
	CorrelationID  string    `json:"correlation_id"`
	CausationID    *string   `json:"causation_id"`
	SchemaVersion  int       `json:"schema_version"`
	IdempotencyKey string    `json:"idempotency_key"`
	// TxSize is set on the first event of a command that wrote more than one
	// event: the number of events of that command, which are consecutive in
	// seq. Recovery treats a trailing command with fewer lines as torn.
	TxSize   int             `json:"tx,omitempty"`
	Payload  json.RawMessage `json:"payload"`
	Metadata *Metadata       `json:"metadata,omitempty"`
}

// Metadata carries facts about how an event was produced that are not part
// of its business payload. Floats are allowed here: nothing here is money.
type Metadata struct {
	// RequestHash fingerprints the client request behind a client
	// idempotency key, so a reused key with a different request is detected
	// after restarts too.
	RequestHash string `json:"request_hash,omitempty"`

	KarmaSource string   `json:"karma_source,omitempty"` // live | cache | fallback
	KarmaScore  *float64 `json:"karma_score,omitempty"`

	AnomalyDetected bool     `json:"anomaly_detected,omitempty"`
	AnomalyScore    *float64 `json:"anomaly_score,omitempty"`
	AnomalyReason   string   `json:"anomaly_reason,omitempty"`
	// AnomalyDetector is "unavailable" when the detector failed for this
	// event; the operation still succeeded.
	AnomalyDetector string `json:"anomaly_detector,omitempty"`
}

// Credit is the payload of credit.* events. For allocated, refunded and
// regenerated the delta is +AmountMilli; for consumed and withdrawn it is
// -AmountMilli.
type Credit struct {
	AgentID           string `json:"agent_id"`
	AmountMilli       int64  `json:"amount_milli"`
	BalanceAfterMilli int64  `json:"balance_after_milli"`
	Reason            string `json:"reason"`
	MissionID         string `json:"mission_id,omitempty"`
}

// Agent is the payload of agent.registered.
type Agent struct {
	AgentID    string  `json:"agent_id"`
	SkillLevel float64 `json:"skill_level"`
}

// Delta returns the signed balance change of a credit event type, and false
// for types that do not move an agent balance directly.
func Delta(t Type, amountMilli int64) (int64, bool) {
	switch t {
	case CreditAllocated, CreditRefunded, CreditRegenerated:
		return amountMilli, true
	case CreditConsumed, CreditWithdrawn:
		return -amountMilli, true
	}
	return 0, false
}
