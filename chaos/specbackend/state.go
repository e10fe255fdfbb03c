package specbackend

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Payloads. Money fields are milli-credit integers with a _milli suffix; unit scores are
// parts per million (_ppm). Amounts are always positive; the event type gives the sign.

type pAgent struct {
	AgentID       string `json:"agent_id"`
	SkillLevelPPM int64  `json:"skill_level_ppm"`
	InitialMilli  int64  `json:"initial_milli"`
}

// pCredit: credit.allocated|consumed|refunded|withdrawn|regenerated, synergie.reward_granted.
type pCredit struct {
	EntityID          string  `json:"entity_id"`
	EntityType        string  `json:"entity_type"`
	AgentID           string  `json:"agent_id"`
	AmountMilli       int64   `json:"amount_milli"`
	BalanceAfterMilli int64   `json:"balance_after_milli"`
	Reason            string  `json:"reason"`
	MissionID         *string `json:"mission_id"`
	ApprovalID        string  `json:"approval_id,omitempty"`
	PrevEntrySeq      int64   `json:"prev_entry_seq"` // the agent's previous ledger event (0: none)
	CollaborationID   string  `json:"collaboration_id,omitempty"`
	TeamID            string  `json:"team_id,omitempty"`
	ContributionPPM   int64   `json:"contribution_ppm,omitempty"`
	KarmaScorePPM     int64   `json:"karma_score_ppm,omitempty"`
	RawRewardMilli    int64   `json:"raw_reward_milli,omitempty"`
}

type pCapped struct {
	CollaborationID   string `json:"collaboration_id"`
	TeamID            string `json:"team_id"`
	AgentID           string `json:"agent_id"`
	AmountMilli       int64  `json:"amount_milli"` // the part not paid
	RawRewardMilli    int64  `json:"raw_reward_milli"`
	PaidMilli         int64  `json:"paid_milli"`
	CapMilli          int64  `json:"cap_milli"`
	EarnedBeforeMilli int64  `json:"earned_before_milli"`
}

type pCollab struct {
	CollaborationID string           `json:"collaboration_id"`
	TeamID          string           `json:"team_id"`
	MissionID       *string          `json:"mission_id"`
	AgentIDs        []string         `json:"agent_ids"`
	ContributionPPM map[string]int64 `json:"contribution_ppm"`
	BaseRewardMilli int64            `json:"base_reward_milli"`
	CollabHash      string           `json:"collab_hash"`
}

type pApproval struct {
	RequestID         string   `json:"request_id"`
	ActionType        string   `json:"action_type,omitempty"`
	AgentID           string   `json:"agent_id,omitempty"`
	AmountMilli       int64    `json:"amount_milli,omitempty"`
	Reason            string   `json:"reason,omitempty"`
	Justification     string   `json:"justification,omitempty"`
	RequesterID       string   `json:"requester_id,omitempty"`
	RiskLevel         string   `json:"risk_level,omitempty"`
	RequiredApprovals int      `json:"required_approvals,omitempty"`
	TimeoutSeconds    int64    `json:"timeout_seconds,omitempty"`
	ExpiresAt         string   `json:"expires_at,omitempty"`
	ApproverID        string   `json:"approver_id,omitempty"`
	Approvers         []string `json:"approvers,omitempty"`
	Version           int64    `json:"version"`
	Auto              bool     `json:"auto,omitempty"`
}

type pPool struct {
	PoolID                 string `json:"pool_id"`
	Name                   string `json:"name,omitempty"`
	OwnerID                string `json:"owner_id,omitempty"`
	AgentID                string `json:"agent_id,omitempty"`
	AmountMilli            int64  `json:"amount_milli,omitempty"`
	PoolBalanceAfterMilli  int64  `json:"pool_balance_after_milli"`
	AgentBalanceAfterMilli *int64 `json:"agent_balance_after_milli,omitempty"`
	AgentPrevEntrySeq      int64  `json:"agent_prev_entry_seq,omitempty"`
	ToPoolID               string `json:"to_pool_id,omitempty"`
	ToBalanceAfterMilli    *int64 `json:"to_pool_balance_after_milli,omitempty"`
	Reason                 string `json:"reason,omitempty"`
}

type pMission struct {
	MissionID     string `json:"mission_id"`
	AgentID       string `json:"agent_id"`
	MissionType   string `json:"mission_type,omitempty"`
	Complexity    string `json:"complexity,omitempty"`
	SkillLevelPPM int64  `json:"skill_level_ppm,omitempty"`
	EstimateMilli int64  `json:"estimate_milli,omitempty"`
	ActualMilli   int64  `json:"actual_milli,omitempty"`
	RefundPPM     int64  `json:"refund_ppm,omitempty"`
	RefundMilli   int64  `json:"refund_milli,omitempty"`
	ConsumeEvent  string `json:"consume_event_id,omitempty"`
}

type pEoC struct {
	Score              float64 `json:"score"`
	Band               string  `json:"band"`
	PreviousBand       string  `json:"previous_band"`
	RegenerationFactor float64 `json:"regeneration_factor"`
	Backpressure       float64 `json:"backpressure"`
	AnomalyRate        float64 `json:"anomaly_rate"`
	ErrorRate          float64 `json:"error_rate"`
	LoadRPS            float64 `json:"load_rps"`
}

// LedgerEntry is one signed balance change of an entity.
type LedgerEntry struct {
	Seq               int64
	PrevSeq           int64 // previous ledger event of the same agent (older pages)
	EventID           string
	EventType         string
	Timestamp         string
	AmountMilli       int64 // signed
	BalanceAfterMilli int64
	Reason            string
	MissionID         *string
}

type anomalyStats struct {
	N     int64
	Mean  float64 // milli-credits
	M2    float64
	Flags int64
}

// Agent is the balance projection of one agent.
type Agent struct {
	ID           string
	SkillPPM     int64
	BalanceMilli int64
	CreatedAt    string
	ledger       []LedgerEntry
	head         int // next slot to overwrite once the ring is full
	LedgerTotal  int64
	LastEntrySeq int64
	Stats        anomalyStats
}

type Vote struct {
	ApproverID string `json:"approver_id"`
	EventID    string `json:"event_id"`
	Timestamp  string `json:"timestamp"`
}

type Decision struct {
	EventType string `json:"event_type"`
	EventID   string `json:"event_id"`
	ActorID   string `json:"actor_id"`
	Timestamp string `json:"timestamp"`
}

// Approval is the request state machine: pending -> approved | rejected | expired.
type Approval struct {
	ID, ActionType, AgentID, Reason, Justification, Requester, Risk string
	AmountMilli                                                     int64
	Required                                                        int
	TimeoutSeconds                                                  int64
	CreatedAt, ExpiresAt                                            string
	expires                                                         time.Time
	Status                                                          string
	Version                                                         int64
	RequestEventID, CorrelationID                                   string
	Votes                                                           []Vote
	Decision                                                        *Decision
	ExecutedEventID                                                 string
	Seq                                                             int64
}

type synTotals struct {
	GrantedMilli int64
	CappedMilli  int64
	Rewards      int64
}

type collabRef struct {
	hash     string
	firstSeq int64
	n        int
}

// Pool is a shared credit pool.
type Pool struct {
	ID, Name, Owner string
	BalanceMilli    int64
	Members         map[string]bool
	everMembers     map[string]bool // every agent ever added (DefectH7PoolFormerMemberConsume)
	AllocatedMilli  int64
	ConsumedMilli   int64
	RefundedMilli   int64
	Closed          bool
	CreatedAt       string
}

// Mission is a started mission and its money.
type Mission struct {
	ID, AgentID, Type, Complexity string
	EstimateMilli, RefundMilli    int64
	SkillPPM                      int64
	Status                        string
	ConsumeEventID                string
	StartedAt                     string
}

// eocProj is the EoC read model: the last journaled eoc.regulated (GET /eoc serves it).
// MissionMoney totals the credit.consumed and credit.refunded events naming a mission_id.
// Refunds naming a mission never exceed what it consumed (409 refund_exceeds_consumed).
type MissionMoney struct {
	ConsumedMilli int64
	RefundedMilli int64
}

// RefundableMilli is what refunds naming mission id may still return.
func (s *State) RefundableMilli(id string) int64 {
	if m := s.MissionMoney[id]; m != nil {
		return m.ConsumedMilli - m.RefundedMilli
	}
	return 0
}

func (s *State) missionMoney(id string) *MissionMoney {
	m := s.MissionMoney[id]
	if m == nil {
		m = &MissionMoney{}
		s.MissionMoney[id] = m
	}
	return m
}

type eocProj struct {
	Score       float64
	Band        string
	Regulations int64
	Regen       float64
	Backpress   float64
	AnomalyRate float64
	ErrorRate   float64
	LoadRPS     float64
}

type idemEntry struct {
	hash     string
	kind     string
	firstSeq int64
	n        int
	done     chan struct{} // closed once durable (nil after replay)
	err      error
}

// State holds every projection. Apply is a deterministic fold: no clock, no randomness,
// no I/O. The engine mutex guards it.
type State struct {
	Seq             int64
	ledgerKeep      int
	Agents          map[string]*Agent
	Approvals       map[string]*Approval
	approvalOrder   []string
	Synergie        map[string]map[string]*synTotals // agent -> team
	collabs         map[string]collabRef
	Pools           map[string]*Pool
	Missions        map[string]*Mission
	MissionMoney    map[string]*MissionMoney // every mission_id named by a consume or refund
	EoC             eocProj
	AnomaliesFlag   int64
	globalStats     anomalyStats // every agent's unflagged consumes together (DefectH13AnomalyGlobalNorm)
	IntegrityErrors int
	EventsByType    map[string]int64
	refundNoMission bool // DefectH11RefundLedgerNoMission
	cappedRaw       bool // DefectH14SynergieCappedRaw
	collabPerTeam   bool // DefectH15CollabIDPerTeam
}

func newState(ledgerKeep int) *State {
	return &State{ledgerKeep: ledgerKeep, Agents: map[string]*Agent{}, Approvals: map[string]*Approval{},
		Synergie: map[string]map[string]*synTotals{}, collabs: map[string]collabRef{}, Pools: map[string]*Pool{},
		Missions: map[string]*Mission{}, MissionMoney: map[string]*MissionMoney{}, EoC: eocProj{Score: eocStart, Band: bandOf(eocStart), Regen: 1},
		EventsByType: map[string]int64{}}
}

// addLedger keeps the newest keep entries in a ring (memory per agent is bounded).
func (a *Agent) addLedger(e LedgerEntry, keep int) {
	a.LedgerTotal++
	if keep <= 0 { // the decision state keeps no ledger
		return
	}
	if len(a.ledger) < keep {
		a.ledger = append(a.ledger, e)
		return
	}
	a.ledger[a.head] = e
	a.head = (a.head + 1) % keep
}

// Ledger returns the in-memory entries newest first, skipping offset, at most limit.
func (a *Agent) Ledger(offset, limit int) []LedgerEntry {
	n := len(a.ledger)
	var out []LedgerEntry
	newest := (a.head - 1 + n) % max(n, 1)
	for k := offset; k < n && len(out) < limit; k++ {
		out = append(out, a.ledger[(newest-k+n)%n])
	}
	return out
}

func decodePayload[T any](ev *Event) T {
	var v T
	_ = json.Unmarshal(ev.Payload, &v)
	return v
}

// credit changes an agent's balance by delta and records a ledger entry.
func (s *State) credit(ev *Event, agentID string, delta int64, reason string, mission *string, wantAfter *int64) {
	a := s.Agents[agentID]
	if a == nil {
		s.IntegrityErrors++
		return
	}
	prev := a.LastEntrySeq
	a.LastEntrySeq = ev.Seq
	a.BalanceMilli += delta
	if wantAfter != nil && *wantAfter != a.BalanceMilli {
		s.IntegrityErrors++
	}
	if s.refundNoMission && ev.EventType == "credit.refunded" {
		mission = nil // defect: the refund's ledger row is built without its mission
	}
	a.addLedger(LedgerEntry{Seq: ev.Seq, PrevSeq: prev, EventID: ev.EventID, EventType: ev.EventType, Timestamp: ev.Timestamp,
		AmountMilli: delta, BalanceAfterMilli: a.BalanceMilli, Reason: reason, MissionID: mission}, s.ledgerKeep)
}

// Apply folds one event into the projections.
func (s *State) Apply(ev *Event) {
	s.Seq = ev.Seq
	s.EventsByType[ev.EventType]++
	switch ev.EventType {
	case "agent.registered":
		p := decodePayload[pAgent](ev)
		if s.Agents[p.AgentID] == nil {
			s.Agents[p.AgentID] = &Agent{ID: p.AgentID, SkillPPM: p.SkillLevelPPM, CreatedAt: ev.Timestamp}
		} else {
			s.IntegrityErrors++
		}
	case "credit.allocated", "credit.refunded", "credit.regenerated", "synergie.reward_granted":
		p := decodePayload[pCredit](ev)
		s.credit(ev, p.AgentID, p.AmountMilli, p.Reason, p.MissionID, &p.BalanceAfterMilli)
		if p.ApprovalID != "" {
			if a := s.Approvals[p.ApprovalID]; a != nil {
				a.ExecutedEventID = ev.EventID
			}
		}
		if ev.EventType == "credit.refunded" && p.MissionID != nil {
			s.missionMoney(*p.MissionID).RefundedMilli += p.AmountMilli
		}
		if ev.EventType == "synergie.reward_granted" {
			t := s.synFor(p.AgentID, p.TeamID)
			t.GrantedMilli += p.AmountMilli
			t.Rewards++
		}
	case "credit.consumed", "credit.withdrawn":
		p := decodePayload[pCredit](ev)
		s.credit(ev, p.AgentID, -p.AmountMilli, p.Reason, p.MissionID, &p.BalanceAfterMilli)
		if p.ApprovalID != "" {
			if a := s.Approvals[p.ApprovalID]; a != nil {
				a.ExecutedEventID = ev.EventID
			}
		}
		if ev.EventType == "credit.consumed" {
			if p.MissionID != nil {
				s.missionMoney(*p.MissionID).ConsumedMilli += p.AmountMilli
			}
			if a := s.Agents[p.AgentID]; a != nil {
				// a flagged amount stays out of the norm, or one anomaly would hide the next
				if ev.Metadata.AnomalyDetected != nil && *ev.Metadata.AnomalyDetected {
					a.Stats.Flags++
					s.AnomaliesFlag++
				} else {
					a.Stats.observe(float64(p.AmountMilli))
					s.globalStats.observe(float64(p.AmountMilli))
				}
			}
		}
	case "synergie.reward_capped":
		p := decodePayload[pCapped](ev)
		capped := p.AmountMilli
		if s.cappedRaw {
			capped = p.RawRewardMilli // defect: the whole reward taken for the unpaid part
		}
		s.synFor(p.AgentID, p.TeamID).CappedMilli += capped
	case "synergie.collaboration_recorded":
		p := decodePayload[pCollab](ev)
		s.collabs[s.collabKey(p.TeamID, p.CollaborationID)] = collabRef{hash: p.CollabHash, firstSeq: ev.Seq, n: ev.Metadata.EventsInCommand}
	case "approval.requested":
		p := decodePayload[pApproval](ev)
		exp, _ := time.Parse(time.RFC3339Nano, p.ExpiresAt)
		s.Approvals[p.RequestID] = &Approval{ID: p.RequestID, ActionType: p.ActionType, AgentID: p.AgentID, Reason: p.Reason,
			Justification: p.Justification, Requester: p.RequesterID, Risk: p.RiskLevel, AmountMilli: p.AmountMilli,
			Required: p.RequiredApprovals, TimeoutSeconds: p.TimeoutSeconds, CreatedAt: ev.Timestamp, ExpiresAt: p.ExpiresAt,
			expires: exp, Status: "pending", Version: p.Version, RequestEventID: ev.EventID, CorrelationID: ev.CorrelationID, Seq: ev.Seq}
		s.approvalOrder = append(s.approvalOrder, p.RequestID)
	case "approval.vote_recorded", "approval.approved", "approval.rejected", "approval.expired":
		p := decodePayload[pApproval](ev)
		a := s.Approvals[p.RequestID]
		if a == nil {
			s.IntegrityErrors++
			return
		}
		a.Version = p.Version
		switch ev.EventType {
		case "approval.vote_recorded":
			a.Votes = append(a.Votes, Vote{ApproverID: p.ApproverID, EventID: ev.EventID, Timestamp: ev.Timestamp})
		default:
			if ev.EventType == "approval.approved" && p.ApproverID != "" {
				a.Votes = append(a.Votes, Vote{ApproverID: p.ApproverID, EventID: ev.EventID, Timestamp: ev.Timestamp})
			}
			a.Status = strings.TrimPrefix(ev.EventType, "approval.")
			a.Decision = &Decision{EventType: ev.EventType, EventID: ev.EventID, ActorID: ev.ActorID, Timestamp: ev.Timestamp}
		}
	case "pool.created":
		p := decodePayload[pPool](ev)
		s.Pools[p.PoolID] = &Pool{ID: p.PoolID, Name: p.Name, Owner: p.OwnerID, Members: map[string]bool{}, everMembers: map[string]bool{}, CreatedAt: ev.Timestamp}
	case "pool.member_added", "pool.member_removed", "pool.allocated", "pool.consumed", "pool.refunded", "pool.transferred", "pool.closed":
		p := decodePayload[pPool](ev)
		pl := s.Pools[p.PoolID]
		if pl == nil {
			s.IntegrityErrors++
			return
		}
		switch ev.EventType {
		case "pool.member_added":
			pl.Members[p.AgentID] = true
			pl.everMembers[p.AgentID] = true
		case "pool.member_removed":
			delete(pl.Members, p.AgentID)
		case "pool.allocated":
			pl.BalanceMilli += p.AmountMilli
			pl.AllocatedMilli += p.AmountMilli
			if p.AgentID != "" {
				s.credit(ev, p.AgentID, -p.AmountMilli, "pool_allocation:"+p.PoolID, nil, p.AgentBalanceAfterMilli)
			}
		case "pool.consumed":
			pl.BalanceMilli -= p.AmountMilli
			pl.ConsumedMilli += p.AmountMilli
		case "pool.refunded":
			pl.BalanceMilli += p.AmountMilli
			pl.RefundedMilli += p.AmountMilli
		case "pool.transferred":
			pl.BalanceMilli -= p.AmountMilli
			if to := s.Pools[p.ToPoolID]; to != nil {
				to.BalanceMilli += p.AmountMilli
				to.AllocatedMilli += p.AmountMilli
			} else {
				s.IntegrityErrors++
			}
		case "pool.closed":
			rem := pl.BalanceMilli
			pl.BalanceMilli = 0
			pl.Closed = true
			if rem != p.AmountMilli {
				s.IntegrityErrors++
			}
			if rem > 0 && p.AgentID != "" {
				s.credit(ev, p.AgentID, rem, "pool_closed:"+p.PoolID, nil, p.AgentBalanceAfterMilli)
			}
		}
		if pl.BalanceMilli != p.PoolBalanceAfterMilli && ev.EventType != "pool.member_added" && ev.EventType != "pool.member_removed" {
			s.IntegrityErrors++
		}
	case "mission.started":
		p := decodePayload[pMission](ev)
		s.Missions[p.MissionID] = &Mission{ID: p.MissionID, AgentID: p.AgentID, Type: p.MissionType, Complexity: p.Complexity,
			EstimateMilli: p.EstimateMilli, SkillPPM: p.SkillLevelPPM, Status: "running", StartedAt: ev.Timestamp}
	case "mission.completed", "mission.failed", "mission.cancelled":
		p := decodePayload[pMission](ev)
		if m := s.Missions[p.MissionID]; m != nil {
			m.Status = strings.TrimPrefix(ev.EventType, "mission.")
			m.RefundMilli = p.RefundMilli
		} else {
			s.IntegrityErrors++
		}
	case "eoc.regulated":
		p := decodePayload[pEoC](ev)
		s.EoC.Score, s.EoC.Band, s.EoC.Regen, s.EoC.Backpress = p.Score, p.Band, p.RegenerationFactor, p.Backpressure
		s.EoC.AnomalyRate, s.EoC.ErrorRate, s.EoC.LoadRPS = p.AnomalyRate, p.ErrorRate, p.LoadRPS
		s.EoC.Regulations++
	}
	// the mission's consumption event id (for refund causation)
	if ev.EventType == "credit.consumed" && ev.CausationID != nil {
		p := decodePayload[pCredit](ev)
		if p.MissionID != nil {
			if m := s.Missions[*p.MissionID]; m != nil && m.ConsumeEventID == "" {
				m.ConsumeEventID = ev.EventID
			}
		}
	}
}

func (s *State) synFor(agent, team string) *synTotals {
	m := s.Synergie[agent]
	if m == nil {
		m = map[string]*synTotals{}
		s.Synergie[agent] = m
	}
	t := m[team]
	if t == nil {
		t = &synTotals{}
		m[team] = t
	}
	return t
}

func (st *anomalyStats) observe(x float64) {
	st.N++
	d := x - st.Mean
	st.Mean += d / float64(st.N)
	st.M2 += d * (x - st.Mean)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Digest hashes every projection in canonical order.
func (s *State) Digest() string {
	h := sha256.New()
	for _, id := range sortedKeys(s.Agents) {
		a := s.Agents[id]
		fmt.Fprintf(h, "agent|%q|%d|%d|%d|%d|%x|%x|%d\n", id, a.BalanceMilli, a.SkillPPM, a.LedgerTotal, a.Stats.N,
			math.Float64bits(a.Stats.Mean), math.Float64bits(a.Stats.M2), a.Stats.Flags)
	}
	for _, id := range s.approvalOrder {
		a := s.Approvals[id]
		dec := ""
		if a.Decision != nil {
			dec = a.Decision.EventID
		}
		fmt.Fprintf(h, "approval|%q|%s|%d|%d|%s|%s|%s\n", id, a.Status, a.Version, len(a.Votes), dec, a.AgentID, a.ExpiresAt)
	}
	for _, ag := range sortedKeys(s.Synergie) {
		for _, tm := range sortedKeys(s.Synergie[ag]) {
			t := s.Synergie[ag][tm]
			fmt.Fprintf(h, "synergie|%q|%q|%d|%d|%d\n", ag, tm, t.GrantedMilli, t.CappedMilli, t.Rewards)
		}
	}
	for _, id := range sortedKeys(s.collabs) {
		fmt.Fprintf(h, "collab|%q|%d\n", id, s.collabs[id].firstSeq)
	}
	for _, id := range sortedKeys(s.Pools) {
		p := s.Pools[id]
		fmt.Fprintf(h, "pool|%q|%d|%d|%d|%d|%v|%q\n", id, p.BalanceMilli, p.AllocatedMilli, p.ConsumedMilli, p.RefundedMilli, p.Closed, strings.Join(sortedKeys(p.Members), ","))
	}
	for _, id := range sortedKeys(s.Missions) {
		m := s.Missions[id]
		fmt.Fprintf(h, "mission|%q|%s|%d|%d\n", id, m.Status, m.EstimateMilli, m.RefundMilli)
	}
	for _, id := range sortedKeys(s.MissionMoney) {
		m := s.MissionMoney[id]
		fmt.Fprintf(h, "mission_money|%q|%d|%d\n", id, m.ConsumedMilli, m.RefundedMilli)
	}
	fmt.Fprintf(h, "eoc|%x|%s|%d|%x|%x|%x|%x|%x\nanomalies|%d\n", math.Float64bits(s.EoC.Score), s.EoC.Band, s.EoC.Regulations,
		math.Float64bits(s.EoC.Regen), math.Float64bits(s.EoC.Backpress), math.Float64bits(s.EoC.AnomalyRate),
		math.Float64bits(s.EoC.ErrorRate), math.Float64bits(s.EoC.LoadRPS), s.AnomaliesFlag)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ledgerEntryFor rebuilds an agent's ledger entry from a journaled event (older pages).
// poolAllocSignLost switches on DefectH13HistoryPoolAllocSign.
func ledgerEntryFor(ev *Event, agentID string, poolAllocSignLost bool) (LedgerEntry, bool) {
	le := LedgerEntry{Seq: ev.Seq, EventID: ev.EventID, EventType: ev.EventType, Timestamp: ev.Timestamp}
	switch ev.EventType {
	case "credit.allocated", "credit.refunded", "credit.regenerated", "synergie.reward_granted", "credit.consumed", "credit.withdrawn":
		p := decodePayload[pCredit](ev)
		if p.AgentID != agentID {
			return le, false
		}
		le.AmountMilli, le.BalanceAfterMilli, le.Reason, le.MissionID, le.PrevSeq = p.AmountMilli, p.BalanceAfterMilli, p.Reason, p.MissionID, p.PrevEntrySeq
		if ev.EventType == "credit.consumed" || ev.EventType == "credit.withdrawn" {
			le.AmountMilli = -le.AmountMilli
		}
		return le, true
	case "pool.allocated", "pool.closed":
		p := decodePayload[pPool](ev)
		if p.AgentID != agentID || p.AgentBalanceAfterMilli == nil {
			return le, false
		}
		le.AmountMilli, le.BalanceAfterMilli, le.PrevSeq = p.AmountMilli, *p.AgentBalanceAfterMilli, p.AgentPrevEntrySeq
		if ev.EventType == "pool.allocated" {
			le.AmountMilli, le.Reason = -le.AmountMilli, "pool_allocation:"+p.PoolID
			if poolAllocSignLost {
				le.AmountMilli = -le.AmountMilli // defect: the debit's sign is lost on the journal path
			}
		} else {
			le.Reason = "pool_closed:" + p.PoolID
		}
		return le, true
	}
	return le, false
}

// collabKey is what a recorded collaboration is remembered under: its id
// (SPEC §5: a duplicate collaboration_id is idempotent), or with
// DefectH15CollabIDPerTeam its team and id.
func (s *State) collabKey(team, id string) string {
	if s.collabPerTeam {
		return team + "/" + id
	}
	return id
}
