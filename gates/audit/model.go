package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// LedgerEntry is one signed change of an agent's balance: every field of a
// GET /history entry (SPEC §6: event_id, timestamp, entity_id, entity_type,
// amount, balance_after, reason, mission_id).
type LedgerEntry struct {
	Seq               uint64 `json:"seq,omitempty"` // 0 when the API does not say
	EventID           string `json:"event_id"`
	EventType         string `json:"event_type,omitempty"`
	AmountMilli       int64  `json:"amount_milli"` // signed delta
	BalanceAfterMilli int64  `json:"balance_after_milli"`
	Timestamp         string `json:"timestamp,omitempty"` // RFC 3339, the event's
	EntityID          string `json:"entity_id,omitempty"` // the agent
	EntityType        string `json:"entity_type,omitempty"`
	Reason            string `json:"reason,omitempty"`
	MissionID         string `json:"mission_id,omitempty"` // "" = null
	// Fields says which of the fields above beyond event_id, amount and
	// balance_after the entry states: in the model, the ones the journal
	// fixes (a reward's or a pool remainder's ledger reason is the
	// backend's wording, not the journal's); read from the API, the ones
	// the entry carried. A field is compared only where both state it.
	Fields LedgerFields `json:"-"`
}

// LedgerFields is a set of history entry fields.
type LedgerFields uint8

// The history entry fields a comparison may lack.
const (
	FieldTimestamp LedgerFields = 1 << iota
	FieldEntityID
	FieldEntityType
	FieldReason
	FieldMissionID
)

// ledgerFieldNames name the fields as the API does, in SPEC order.
var ledgerFieldNames = []struct {
	f    LedgerFields
	name string
}{{FieldTimestamp, "timestamp"}, {FieldEntityID, "entity_id"}, {FieldEntityType, "entity_type"}, {FieldReason, "reason"}, {FieldMissionID, "mission_id"}}

// Approval statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
)

// ApprovalState is one approval request as the model (or the API) sees it.
type ApprovalState struct {
	RequestID      string `json:"request_id"`
	ActionType     string `json:"action_type"`
	AgentID        string `json:"agent_id"`
	AmountMilli    int64  `json:"amount_milli"`
	RequesterID    string `json:"requester_id"`
	Status         string `json:"status"`
	Version        int    `json:"version"` // 1 + decision events (votes included)
	RequestEventID string `json:"request_event_id"`
	// DecisionEventIDs lists every decision event (votes and the terminal
	// one) in journal order.
	DecisionEventIDs []string `json:"decision_event_ids"`
	DecisionEventID  string   `json:"decision_event_id,omitempty"` // the first terminal decision
	ExecutedEventID  string   `json:"executed_event_id,omitempty"` // the first executed credit event

	// What the journal fixes beyond the ids: compared where the API
	// serves the field (Fields).
	RiskLevel         string     `json:"risk_level,omitempty"`
	Reason            string     `json:"reason,omitempty"`
	Justification     string     `json:"justification,omitempty"`
	RequiredApprovals int        `json:"required_approvals,omitempty"`
	CreatedAt         string     `json:"created_at,omitempty"` // the request event's timestamp
	ExpiresAt         string     `json:"expires_at,omitempty"`
	DecidedBy         string     `json:"decided_by,omitempty"` // the terminal decision's decider ("" = none, e.g. expired)
	Decisions         []Decision `json:"decisions,omitempty"`  // every decision event, journal order
	// Fields: in the model, every field above; read from the API, the
	// ones the answer carried (null counts as carried, empty).
	Fields ApprovalFields `json:"-"`

	// Model only: every terminal decision and every executed credit event.
	TerminalEventIDs []string `json:"-"`
	ExecutedEventIDs []string `json:"-"`
}

// Decision is one decision event on a request as GET /approvals/{id}
// lists it.
type Decision struct {
	EventID       string `json:"event_id"`
	EventType     string `json:"event_type,omitempty"`
	DeciderID     string `json:"decider_id,omitempty"`
	Justification string `json:"justification,omitempty"`
	At            string `json:"at,omitempty"`
}

// ApprovalFields is a set of approval view fields beyond the ids.
type ApprovalFields uint16

// The approval fields a backend may not serve (SPEC §6 names the routes,
// not the view's fields); decision sub-fields count as served when any
// decision of the same read carries them (an omitted empty member).
const (
	FieldRiskLevel ApprovalFields = 1 << iota
	FieldApprovalReason
	FieldJustification
	FieldRequiredApprovals
	FieldCreatedAt
	FieldExpiresAt
	FieldDecidedBy
	FieldDecisionType
	FieldDecisionDecider
	FieldDecisionJustification
	FieldDecisionAt
	FieldDecisionEventID // decision_event_id
	FieldExecutedEventID // executed_event_id

	allApprovalFields ApprovalFields = 1<<iota - 1
)

// SynergieTotals is what one agent earned (and had withheld) in one team.
type SynergieTotals struct {
	GrantedMilli int64 `json:"granted_milli"`
	CappedMilli  int64 `json:"capped_milli"`
}

// Reward is one synergie.reward_granted or reward_capped event, with the
// agent's granted total in the team just before it.
type Reward struct {
	Seq               uint64
	EventID           string
	CollaborationID   string
	TeamID            string
	AgentID           string
	Capped            bool // reward_capped (withheld) rather than granted
	AmountMilli       int64
	CapMilli          int64
	GrantedBeforeTeam int64
	KarmaScore        float64
	Contribution      float64
	// Inputs: the event names its KARMA score and contribution, so the
	// reward formula can be judged.
	Inputs bool
}

// PoolState is a pool's balance.
type PoolState struct {
	BalanceMilli int64
	Members      map[string]bool
	Closed       bool
	// InMilli totals what came in (allocations, refunds, transfers in),
	// OutMilli what went out to members or pools (consumes, transfers
	// out), PaidOutMilli the remainder its close paid to an agent.
	InMilli, OutMilli, PaidOutMilli int64
	// Negative counts the pool's events after which its balance was below
	// zero, AfterClose the moves folded after it was closed.
	Negative, AfterClose int
}

// Collaboration is one synergie.collaboration_recorded, in journal order.
type Collaboration struct {
	Seq                uint64
	CollaborationID    string
	TeamID             string
	AgentIDs           []string
	ContributionScores map[string]float64
}

// Problem kinds recorded while folding.
const (
	ProblemNegative     = "negative"      // a balance went below zero
	ProblemBalanceAfter = "balance_after" // a payload's balance_after_milli disagrees
	ProblemFold         = "fold"          // the event cannot be interpreted
	ProblemApproval     = "approval"      // approval state machine broken
	ProblemFormula      = "formula"       // an amount or score disagrees with its documented formula
)

// Problem is one thing the fold found wrong with one event.
type Problem struct {
	Kind   string
	Seq    uint64
	Detail string
}

func (p Problem) String() string { return fmt.Sprintf("seq %d: %s", p.Seq, p.Detail) }

// Model is the harness's reference fold of a journal. Apply is
// deterministic: no clock, no randomness, no I/O.
type Model struct {
	// Ours: the journal is our engine's (Journal.Ours), whose payloads
	// carry docs/events.md's names; another backend documents its own
	// (SPEC §2 "document every type and payload"), and where a pool
	// payload names an amount otherwise it is read under the other name
	// or, missing, not compared.
	Ours      bool
	Seq       uint64
	Events    int
	Agents    map[string]bool  // registered agents
	Balances  map[string]int64 // milli, every agent registered or credited
	Ledgers   map[string][]LedgerEntry
	Approvals map[string]*ApprovalState
	Synergie  map[string]map[string]*SynergieTotals // agent -> team -> totals
	Rewards   []Reward
	// Collaborations are the recorded collaborations, in journal order.
	Collaborations []Collaboration
	Pools          map[string]*PoolState
	Problems       []Problem
	// Skills is each agent's registered skill_level (mission estimates).
	Skills map[string]float64
	// Missions by id, folded from mission.* and their credit events.
	Missions map[string]*MissionState
	// EoC is the last eoc.regulated decision (nil before the first).
	EoC *EoCState
	// Formulas are the documented parameters the fold recomputes amounts with.
	Formulas FormulaParams
	// FormulaChecks counts the amounts and scores recomputed (the check's
	// denominator: a check that recomputed nothing proves nothing).
	FormulaChecks int
	// EoCAnomalyWindows counts recomputed EoC decisions whose window held
	// anomalies (the anomaly weight was actually exercised).
	EoCAnomalyWindows int

	// missionByStart and missionByConsume map a mission's start and
	// consume event ids to the mission.
	missionByStart   map[string]string
	missionByConsume map[string]string
	// registrations maps an agent.registered event id to its agent.
	registrations map[string]string
	// skillUnknown: agents whose registration names no skill_level (SPEC
	// §2 leaves payloads to the backend): the formulas that need it are
	// not judged for them.
	skillUnknown map[string]bool
	// contributions are each collaboration's contribution_scores.
	contributions map[string]map[string]float64

	// consumes are the timestamps and anomaly flags of the consumes not yet
	// behind an EoC decision's window (docs/anomaly-eoc.md: a window counts
	// the consumes stamped inside it, the flagged ones as anomalies);
	// firstAt is the first event's time when the journal was read from
	// the middle (its first seq is not 1): a window that began before it
	// cannot be counted.
	consumes []consumeAt
	firstAt  time.Time

	// decisions maps a decision event id to its request and event type.
	decisions map[string]decisionRef
	// collabs is the set of recorded collaboration ids.
	collabs map[string]bool
}

type consumeAt struct {
	at      time.Time
	flagged bool
}

type decisionRef struct {
	requestID string
	eventType string
}

// NewModel returns an empty model with the documented default formulas.
func NewModel() *Model { return NewModelWith(DefaultFormulas()) }

// NewModelWith returns an empty model that recomputes derived amounts with p.
func NewModelWith(p FormulaParams) *Model {
	return &Model{Formulas: p, Skills: map[string]float64{}, Missions: map[string]*MissionState{},
		missionByStart: map[string]string{}, missionByConsume: map[string]string{}, registrations: map[string]string{}, skillUnknown: map[string]bool{}, contributions: map[string]map[string]float64{},
		Agents: map[string]bool{}, Balances: map[string]int64{}, Ledgers: map[string][]LedgerEntry{},
		Approvals: map[string]*ApprovalState{}, Synergie: map[string]map[string]*SynergieTotals{},
		Pools: map[string]*PoolState{}, decisions: map[string]decisionRef{}, collabs: map[string]bool{},
	}
}

// Fold folds the journal's valid events into a new model.
func Fold(j *Journal) *Model {
	return FoldWith(j, DefaultFormulas())
}

// FoldWith folds the journal's valid events with the given formula
// parameters (the backend's configuration when it differs from the defaults).
func FoldWith(j *Journal, p FormulaParams) *Model {
	m := NewModelWith(p)
	m.Ours = j.Ours
	for _, e := range j.Events() {
		m.Apply(e)
	}
	m.Finish()
	return m
}

// Payload shapes, read by this package's own structs (docs/events.md).
type (
	creditPayload struct {
		AgentID           string `json:"agent_id"`
		AmountMilli       int64  `json:"amount_milli"`
		BalanceAfterMilli *int64 `json:"balance_after_milli"`
		Reason            string `json:"reason"`
		MissionID         string `json:"mission_id"`
	}
	agentPayload struct {
		AgentID    string   `json:"agent_id"`
		SkillLevel *float64 `json:"skill_level"` // nil: another backend's registration names no skill_level
		// SkillLevelPPM is another backend's name for it, in millionths.
		SkillLevelPPM *int64 `json:"skill_level_ppm"`
	}
	approvalPayload struct {
		RequestID         string `json:"request_id"`
		ActionType        string `json:"action_type"`
		AgentID           string `json:"agent_id"`
		AmountMilli       int64  `json:"amount_milli"`
		RequesterID       string `json:"requester_id"`
		RiskLevel         string `json:"risk_level"`
		RequiredApprovals int    `json:"required_approvals"`
		Reason            string `json:"reason"`
		Justification     string `json:"justification"`
		ExpiresAt         string `json:"expires_at"`
	}
	decisionPayload struct {
		RequestID     string `json:"request_id"`
		Version       int    `json:"version"`
		DeciderID     string `json:"decider_id"`
		Justification string `json:"justification"`
	}
	collabPayload struct {
		CollaborationID    string             `json:"collaboration_id"`
		TeamID             string             `json:"team_id"`
		AgentIDs           []string           `json:"agent_ids"`
		ContributionScores map[string]float64 `json:"contribution_scores"`
	}
	rewardPayload struct {
		CollaborationID   string `json:"collaboration_id"`
		TeamID            string `json:"team_id"`
		AgentID           string `json:"agent_id"`
		AmountMilli       int64  `json:"amount_milli"`
		BalanceAfterMilli int64  `json:"balance_after_milli"`
		CapMilli          int64  `json:"cap_milli"`
		// Nil: another backend's reward names no inputs (its formula is
		// its own, SPEC §5 "document the formula"): not judged.
		KarmaScore   *float64 `json:"karma_score"`
		Contribution *float64 `json:"contribution"`
	}
	poolPayload struct {
		PoolID         string `json:"pool_id"`
		RemainderMilli *int64 `json:"remainder_milli"`
		RefundTo       string `json:"refund_to"`
		// Another backend's names for the remainder and its recipient.
		AmountMilli *int64 `json:"amount_milli"`
		AgentID     string `json:"agent_id"`
	}
	poolMemberPayload struct {
		PoolID  string `json:"pool_id"`
		AgentID string `json:"agent_id"`
	}
	poolMovePayload struct {
		PoolID            string `json:"pool_id"`
		ToPoolID          string `json:"to_pool_id"`
		AgentID           string `json:"agent_id"`
		AmountMilli       int64  `json:"amount_milli"`
		BalanceAfterMilli *int64 `json:"balance_after_milli"`
		// Another backend's name for the pool's balance after the move.
		PoolBalanceAfterMilli *int64 `json:"pool_balance_after_milli"`
	}
)

// creditSign is the signed delta rule of credit.* events.
var creditSign = map[string]int64{
	"credit.allocated": 1, "credit.refunded": 1, "credit.regenerated": 1,
	"credit.consumed": -1, "credit.withdrawn": -1,
}

// inert are the known types that move no balance and have no state here.
var inert = map[string]bool{"synergie.reuse_detected": true}

func (m *Model) problem(kind string, e *Event, format string, args ...any) {
	m.Problems = append(m.Problems, Problem{Kind: kind, Seq: e.Seq,
		Detail: fmt.Sprintf("%s %s: ", e.EventType, e.EventID) + fmt.Sprintf(format, args...)})
}

func (m *Model) decode(e *Event, v any) bool {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		m.problem(ProblemFold, e, "payload does not decode: %v", err)
		return false
	}
	return true
}

// Apply folds one event.
func (m *Model) Apply(e *Event) {
	m.Seq = e.Seq
	m.Events++
	if m.Events == 1 && e.Seq > 1 {
		m.firstAt, _ = time.Parse(time.RFC3339Nano, e.Timestamp)
	}
	if e.EventType == "credit.consumed" {
		m.noteConsume(e)
	}
	if sign, ok := creditSign[e.EventType]; ok {
		var p creditPayload
		if !m.decode(e, &p) {
			return
		}
		if p.AmountMilli <= 0 {
			m.problem(ProblemFold, e, "amount_milli %d is not positive", p.AmountMilli)
		}
		m.noteExecution(e, p)
		m.noteMissionCredit(e, p)
		m.noteAgentAllocation(e, p)
		m.noteKarma(e)
		if p.BalanceAfterMilli == nil {
			m.problem(ProblemBalanceAfter, e, "credit payload without balance_after_milli")
		}
		m.moveStated(e, p.AgentID, sign*p.AmountMilli, p.BalanceAfterMilli, p.Reason, p.MissionID)
		return
	}
	switch e.EventType {
	case "agent.registered":
		var p agentPayload
		if m.decode(e, &p) {
			if m.Agents[p.AgentID] {
				m.problem(ProblemFold, e, "agent %q registered twice", p.AgentID)
			}
			m.Agents[p.AgentID] = true
			switch {
			case p.SkillLevel != nil:
				m.Skills[p.AgentID] = *p.SkillLevel
			case p.SkillLevelPPM != nil && !m.Ours: // ours must name skill_level
				m.Skills[p.AgentID] = float64(*p.SkillLevelPPM) / 1e6
			default:
				m.skillUnknown[p.AgentID] = true
			}
			m.registrations[e.EventID] = p.AgentID
			if _, ok := m.Balances[p.AgentID]; !ok {
				m.Balances[p.AgentID] = 0
			}
		}
	case "approval.requested":
		var p approvalPayload
		if !m.decode(e, &p) {
			return
		}
		if _, ok := m.Approvals[p.RequestID]; ok || p.RequestID == "" {
			m.problem(ProblemApproval, e, "request %q requested twice (or without id)", p.RequestID)
			return
		}
		m.checkRisk(e, p)
		m.Approvals[p.RequestID] = &ApprovalState{RequestID: p.RequestID, ActionType: p.ActionType, AgentID: p.AgentID,
			AmountMilli: p.AmountMilli, RequesterID: p.RequesterID, Status: StatusPending, Version: 1,
			RequestEventID: e.EventID, DecisionEventIDs: []string{}, RiskLevel: p.RiskLevel, Reason: p.Reason,
			Justification: p.Justification, RequiredApprovals: p.RequiredApprovals, CreatedAt: e.Timestamp, ExpiresAt: p.ExpiresAt,
			Decisions: []Decision{}, Fields: allApprovalFields}
	case "approval.vote_recorded", "approval.approved", "approval.rejected", "approval.expired":
		m.applyDecision(e)
	case "synergie.collaboration_recorded":
		var p collabPayload
		if m.decode(e, &p) {
			if m.collabs[p.CollaborationID] {
				m.problem(ProblemFold, e, "collaboration %q recorded twice", p.CollaborationID)
			}
			m.collabs[p.CollaborationID] = true
			m.contributions[p.CollaborationID] = p.ContributionScores
			m.Collaborations = append(m.Collaborations, Collaboration{Seq: e.Seq, CollaborationID: p.CollaborationID,
				TeamID: p.TeamID, AgentIDs: p.AgentIDs, ContributionScores: p.ContributionScores})
		}
	case "synergie.reward_granted", "synergie.reward_capped":
		m.applyReward(e)
	case "pool.created", "pool.member_added", "pool.member_removed", "pool.allocated", "pool.consumed",
		"pool.refunded", "pool.transferred", "pool.closed":
		m.applyPool(e)
	case "mission.started", "mission.completed", "mission.failed", "mission.cancelled", "mission.rated":
		m.applyMission(e)
	case "eoc.regulated":
		m.applyEoC(e)
	default:
		if !inert[e.EventType] {
			m.problem(ProblemFold, e, "unknown event type: the model cannot tell whether it moves money")
		}
	}
}

// move applies a signed delta to an agent, records the ledger entry and
// checks the payload's balance_after (nil = not stated) and the sign. The
// entry's reason and mission are not the journal's to say (a reward, a
// pool's remainder): they are not compared.
func (m *Model) move(e *Event, agent string, delta int64, stated *int64) {
	m.record(e, agent, delta, stated, LedgerEntry{})
}

// moveStated is move for a credit event, whose payload states the ledger
// entry's reason and mission_id (absent = null).
func (m *Model) moveStated(e *Event, agent string, delta int64, stated *int64, reason, mission string) {
	m.record(e, agent, delta, stated, LedgerEntry{Reason: reason, MissionID: mission, Fields: FieldReason | FieldMissionID})
}

func (m *Model) record(e *Event, agent string, delta int64, stated *int64, entry LedgerEntry) {
	if !m.Agents[agent] {
		m.problem(ProblemFold, e, "moves the balance of unregistered agent %q", agent)
	}
	bal := m.Balances[agent] + delta
	m.Balances[agent] = bal
	entry.Seq, entry.EventID, entry.EventType, entry.AmountMilli, entry.BalanceAfterMilli = e.Seq, e.EventID, e.EventType, delta, bal
	entry.Timestamp, entry.EntityID, entry.EntityType = e.Timestamp, agent, "agent"
	entry.Fields |= FieldTimestamp | FieldEntityID | FieldEntityType
	m.Ledgers[agent] = append(m.Ledgers[agent], entry)
	if bal < 0 {
		m.problem(ProblemNegative, e, "agent %q balance %d milli after delta %d", agent, bal, delta)
	}
	if stated != nil && *stated != bal {
		m.problem(ProblemBalanceAfter, e, "agent %q balance_after_milli %d, model %d (diff %d)", agent, *stated, bal, *stated-bal)
	}
}

func (m *Model) applyDecision(e *Event) {
	var p decisionPayload
	if !m.decode(e, &p) {
		return
	}
	a, ok := m.Approvals[p.RequestID]
	if !ok {
		m.problem(ProblemApproval, e, "decision on unknown request %q", p.RequestID)
		return
	}
	m.decisions[e.EventID] = decisionRef{requestID: p.RequestID, eventType: e.EventType}
	terminal := e.EventType != "approval.vote_recorded"
	if a.Status != StatusPending {
		m.problem(ProblemApproval, e, "request %q decided again after %s by %s", p.RequestID, a.Status, a.DecisionEventID)
	} else {
		a.Version++
		a.DecisionEventIDs = append(a.DecisionEventIDs, e.EventID)
		a.Decisions = append(a.Decisions, Decision{EventID: e.EventID, EventType: e.EventType, DeciderID: p.DeciderID,
			Justification: p.Justification, At: e.Timestamp})
	}
	if !terminal {
		return
	}
	a.TerminalEventIDs = append(a.TerminalEventIDs, e.EventID)
	if a.Status == StatusPending {
		a.DecisionEventID, a.DecidedBy = e.EventID, p.DeciderID
		switch e.EventType {
		case "approval.approved":
			a.Status = StatusApproved
		case "approval.rejected":
			a.Status = StatusRejected
		case "approval.expired":
			a.Status = StatusExpired
		}
	}
}

// noteExecution links a credit event caused by a decision to its request.
func (m *Model) noteExecution(e *Event, p creditPayload) {
	if e.CausationID == nil {
		return
	}
	d, ok := m.decisions[*e.CausationID]
	if !ok {
		return
	}
	a := m.Approvals[d.requestID]
	if d.eventType != "approval.approved" {
		m.problem(ProblemApproval, e, "credit event caused by %s of request %q: only an approval executes", d.eventType, d.requestID)
		return
	}
	want := map[string]string{"add": "credit.allocated", "withdraw": "credit.withdrawn"}[a.ActionType]
	if e.EventType != want || p.AgentID != a.AgentID || p.AmountMilli != a.AmountMilli {
		m.problem(ProblemApproval, e, "executes request %q (%s %d milli to %q) as %s %d milli to %q",
			a.RequestID, a.ActionType, a.AmountMilli, a.AgentID, e.EventType, p.AmountMilli, p.AgentID)
	}
	a.ExecutedEventIDs = append(a.ExecutedEventIDs, e.EventID)
	if a.ExecutedEventID == "" {
		a.ExecutedEventID = e.EventID
	}
}

func (m *Model) applyReward(e *Event) {
	var p rewardPayload
	if !m.decode(e, &p) {
		return
	}
	if !m.collabs[p.CollaborationID] {
		m.problem(ProblemFold, e, "reward for unrecorded collaboration %q", p.CollaborationID)
	}
	if p.AmountMilli <= 0 {
		m.problem(ProblemFold, e, "amount_milli %d is not positive", p.AmountMilli)
	}
	teams := m.Synergie[p.AgentID]
	if teams == nil {
		teams = map[string]*SynergieTotals{}
		m.Synergie[p.AgentID] = teams
	}
	t := teams[p.TeamID]
	if t == nil {
		t = &SynergieTotals{}
		teams[p.TeamID] = t
	}
	capped := e.EventType == "synergie.reward_capped"
	m.Rewards = append(m.Rewards, Reward{Seq: e.Seq, EventID: e.EventID, CollaborationID: p.CollaborationID,
		TeamID: p.TeamID, AgentID: p.AgentID, Capped: capped, AmountMilli: p.AmountMilli, CapMilli: p.CapMilli,
		GrantedBeforeTeam: t.GrantedMilli, KarmaScore: deref(p.KarmaScore), Contribution: deref(p.Contribution),
		Inputs: p.KarmaScore != nil && p.Contribution != nil})
	m.noteKarma(e)
	if c, ok := m.contributions[p.CollaborationID][p.AgentID]; ok && p.Contribution != nil && c != *p.Contribution {
		m.problem(ProblemFormula, e, "reward contribution %v, the collaboration recorded %v for %q", *p.Contribution, c, p.AgentID)
	}
	if capped {
		t.CappedMilli += p.AmountMilli
		return
	}
	t.GrantedMilli += p.AmountMilli
	stated := p.BalanceAfterMilli
	m.move(e, p.AgentID, p.AmountMilli, &stated)
}

func (m *Model) pool(e *Event, id string) *PoolState {
	p, ok := m.Pools[id]
	if !ok {
		m.problem(ProblemFold, e, "unknown pool %q", id)
		p = &PoolState{Members: map[string]bool{}}
		m.Pools[id] = p
	}
	if p.Closed {
		m.problem(ProblemFold, e, "pool %q used after it was closed", id)
		p.AfterClose++
	}
	return p
}

func (m *Model) applyPool(e *Event) {
	switch e.EventType {
	case "pool.created":
		var p poolPayload
		if m.decode(e, &p) {
			if _, ok := m.Pools[p.PoolID]; ok {
				m.problem(ProblemFold, e, "pool %q created twice", p.PoolID)
			}
			m.Pools[p.PoolID] = &PoolState{Members: map[string]bool{}}
		}
		return
	case "pool.member_added", "pool.member_removed":
		var p poolMemberPayload
		if m.decode(e, &p) {
			m.pool(e, p.PoolID).Members[p.AgentID] = e.EventType == "pool.member_added"
		}
		return
	case "pool.closed":
		var p poolPayload
		if !m.decode(e, &p) {
			return
		}
		pool := m.pool(e, p.PoolID)
		remainder, to := p.RemainderMilli, p.RefundTo
		if !m.Ours && remainder == nil {
			remainder, to = p.AmountMilli, p.AgentID
		}
		if remainder == nil {
			// Ours must name it; another backend's close without an amount
			// pays what the pool held.
			if m.Ours {
				m.problem(ProblemBalanceAfter, e, "pool %q closed without remainder_milli, model balance %d", p.PoolID, pool.BalanceMilli)
			}
			r := pool.BalanceMilli
			remainder, to = &r, cmp.Or(p.RefundTo, p.AgentID)
		}
		if *remainder != pool.BalanceMilli {
			m.problem(ProblemBalanceAfter, e, "pool %q closed with remainder_milli %d, model balance %d", p.PoolID, *remainder, pool.BalanceMilli)
		}
		pool.BalanceMilli -= *remainder
		pool.PaidOutMilli += *remainder
		if pool.BalanceMilli < 0 {
			pool.Negative++
		}
		pool.Closed = true
		if *remainder < 0 {
			m.problem(ProblemFold, e, "negative remainder_milli %d", *remainder)
		}
		if *remainder != 0 {
			m.move(e, to, *remainder, nil)
		}
		return
	}
	var p poolMovePayload
	if !m.decode(e, &p) {
		return
	}
	if p.AmountMilli <= 0 {
		m.problem(ProblemFold, e, "amount_milli %d is not positive", p.AmountMilli)
	}
	pool := m.pool(e, p.PoolID)
	switch e.EventType {
	case "pool.allocated", "pool.refunded":
		pool.BalanceMilli += p.AmountMilli
		pool.InMilli += p.AmountMilli
	case "pool.consumed":
		if !pool.Members[p.AgentID] {
			m.problem(ProblemFold, e, "agent %q consumed from pool %q without being a member", p.AgentID, p.PoolID)
		}
		pool.BalanceMilli -= p.AmountMilli
		pool.OutMilli += p.AmountMilli
	case "pool.transferred":
		pool.BalanceMilli -= p.AmountMilli
		pool.OutMilli += p.AmountMilli
		to := m.pool(e, p.ToPoolID)
		to.BalanceMilli += p.AmountMilli
		to.InMilli += p.AmountMilli
		if to.BalanceMilli < 0 {
			m.problem(ProblemNegative, e, "pool %q balance %d milli", p.ToPoolID, to.BalanceMilli)
		}
	}
	if pool.BalanceMilli < 0 {
		pool.Negative++
		m.problem(ProblemNegative, e, "pool %q balance %d milli", p.PoolID, pool.BalanceMilli)
	}
	if !m.Ours && p.BalanceAfterMilli == nil {
		p.BalanceAfterMilli = p.PoolBalanceAfterMilli
		if p.BalanceAfterMilli == nil {
			return // another backend's pool event without a balance after: not compared
		}
	}
	if p.BalanceAfterMilli == nil || *p.BalanceAfterMilli != pool.BalanceMilli {
		stated := "missing"
		if p.BalanceAfterMilli != nil {
			stated = fmt.Sprint(*p.BalanceAfterMilli)
		}
		m.problem(ProblemBalanceAfter, e, "pool %q balance_after_milli %s, model %d", p.PoolID, stated, pool.BalanceMilli)
	}
}

// ApprovalIDs returns the model's request ids, sorted.
func (m *Model) ApprovalIDs() []string {
	ids := make([]string, 0, len(m.Approvals))
	for id := range m.Approvals {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// AgentIDs returns every agent with a balance, sorted.
func (m *Model) AgentIDs() []string {
	ids := make([]string, 0, len(m.Balances))
	for id := range m.Balances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// deref is *p, or T's zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
