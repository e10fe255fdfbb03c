package event

import "time"

// Approval is the payload of approval.requested.
type Approval struct {
	RequestID         string    `json:"request_id"`
	ActionType        string    `json:"action_type"` // add | withdraw
	AgentID           string    `json:"agent_id"`
	AmountMilli       int64     `json:"amount_milli"`
	Reason            string    `json:"reason"`
	Justification     string    `json:"justification,omitempty"`
	RequesterID       string    `json:"requester_id"`
	RiskLevel         string    `json:"risk_level"` // LOW | MEDIUM | HIGH | CRITICAL
	RequiredApprovals int       `json:"required_approvals"`
	ExpiresAt         time.Time `json:"expires_at"`
}

// Decision is the payload of approval.vote_recorded, approval.approved,
// approval.rejected and approval.expired. Version is the request version the
// decision was made against; the request's version after it is Version+1.
type Decision struct {
	RequestID     string `json:"request_id"`
	DeciderID     string `json:"decider_id,omitempty"` // empty for expiry
	Justification string `json:"justification,omitempty"`
	Version       int    `json:"version"`
}

// Collaboration is the payload of synergie.collaboration_recorded.
type Collaboration struct {
	CollaborationID    string             `json:"collaboration_id"`
	TeamID             string             `json:"team_id"`
	MissionID          string             `json:"mission_id,omitempty"`
	AgentIDs           []string           `json:"agent_ids"`
	ContributionScores map[string]float64 `json:"contribution_scores"`
}

// Reward is the payload of synergie.reward_granted (AmountMilli paid to the
// agent's balance) and synergie.reward_capped (AmountMilli withheld because
// the agent reached the per-team cap).
type Reward struct {
	CollaborationID   string  `json:"collaboration_id"`
	TeamID            string  `json:"team_id"`
	AgentID           string  `json:"agent_id"`
	AmountMilli       int64   `json:"amount_milli"`
	BalanceAfterMilli int64   `json:"balance_after_milli,omitempty"`
	KarmaScore        float64 `json:"karma_score"`
	Contribution      float64 `json:"contribution"`
	CapMilli          int64   `json:"cap_milli"`
}

// Pool is the payload of pool.created and pool.closed.
type Pool struct {
	PoolID string `json:"pool_id"`
	Name   string `json:"name,omitempty"`
	// On close: the remainder refunded to RefundTo (an agent).
	RemainderMilli int64  `json:"remainder_milli,omitempty"`
	RefundTo       string `json:"refund_to,omitempty"`
}

// PoolMember is the payload of pool.member_added and pool.member_removed.
type PoolMember struct {
	PoolID  string `json:"pool_id"`
	AgentID string `json:"agent_id"`
}

// PoolMove is the payload of pool.allocated (+), pool.consumed (−, by a
// member), pool.refunded (+) and pool.transferred (FromPool − / ToPool +).
type PoolMove struct {
	PoolID            string `json:"pool_id"`
	ToPoolID          string `json:"to_pool_id,omitempty"`
	AgentID           string `json:"agent_id,omitempty"`
	AmountMilli       int64  `json:"amount_milli"`
	BalanceAfterMilli int64  `json:"balance_after_milli"`
	Reason            string `json:"reason,omitempty"`
}

// Mission is the payload of mission.* events. A start is followed in the
// same command by the credit.consumed of the estimate; an end by the
// credit.refunded of RefundMilli (when positive), whose causation is the
// mission's consumption.
type Mission struct {
	MissionID     string  `json:"mission_id"`
	AgentID       string  `json:"agent_id"`
	MissionType   string  `json:"mission_type,omitempty"`
	Complexity    string  `json:"complexity,omitempty"`
	EstimateMilli int64   `json:"estimate_milli,omitempty"`
	ActualMilli   int64   `json:"actual_milli,omitempty"`
	RefundMilli   int64   `json:"refund_milli,omitempty"`
	Rating        float64 `json:"rating,omitempty"`
	ConsumeEvent  string  `json:"consume_event_id,omitempty"`
}

// The payload of eoc.regulated is engine/eoc's Decision (see docs/events.md).
