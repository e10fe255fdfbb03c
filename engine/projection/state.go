package projection

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// Config bounds the in-memory read models. The zero value is valid.
type Config struct {
	// LedgerKeep is how many newest ledger entries each entity keeps in
	// memory; default 200, hard limit 100,000.
	LedgerKeep int
	// DecidedKeep is how many decided approval requests stay in memory in
	// full (the newest); older ones keep only a small tombstone (status and
	// winning decision) and are read back from the journal on request.
	// Default 200, hard limit 1,000,000.
	DecidedKeep int
}

// DecidedKeepOrDefault is DecidedKeep after defaults and limits.
func (c Config) DecidedKeepOrDefault() int { return c.withDefaults().DecidedKeep }

func (c Config) withDefaults() Config {
	if c.LedgerKeep <= 0 {
		c.LedgerKeep = 200
	}
	if c.LedgerKeep > 100_000 {
		c.LedgerKeep = 100_000
	}
	if c.DecidedKeep <= 0 {
		c.DecidedKeep = 200
	}
	if c.DecidedKeep > 1_000_000 {
		c.DecidedKeep = 1_000_000
	}
	return c
}

// State is the fold of the store's events (the journal or a database),
// except eoc.regulated, which the engine's EoC state folds (engine/eoc).
type State struct {
	cfg       Config
	seq       uint64
	agents    map[string]*Agent
	approvals map[string]*Approval
	// decided holds the ids of decided requests in decision order (a ring
	// of DecidedKeep); evicted ones leave a tombstone.
	decided     []string
	decidedNext int
	tombstones  tombstones
	synergie    map[string]*SynergieAccount // key: team_id + "\x00" + agent_id
	collabs     map[string]uint64           // collaboration_id -> seq of its record event
	pools       map[string]*Pool
	missions    map[string]*Mission
	// byDecision maps an approval.approved event id to its request until
	// the executed credit event (its next event) is folded.
	byDecision map[string]string
}

// New returns an empty state.
func New(cfg Config) *State {
	return &State{
		cfg:        cfg.withDefaults(),
		agents:     map[string]*Agent{},
		approvals:  map[string]*Approval{},
		synergie:   map[string]*SynergieAccount{},
		collabs:    map[string]uint64{},
		pools:      map[string]*Pool{},
		missions:   map[string]*Mission{},
		byDecision: map[string]string{},
		tombstones: newTombstones(),
	}
}

// Seq is the seq of the last applied event.
func (s *State) Seq() uint64 { return s.seq }

// Agent is one agent's balance and newest ledger entries.
type Agent struct {
	ID           string
	SkillLevel   float64
	BalanceMilli int64
	Entries      int64 // ledger entries ever applied
	ledger       ring
	CreatedAt    time.Time
}

// Entry is one signed ledger entry.
type Entry struct {
	Seq               uint64    `json:"seq"`
	EventID           string    `json:"event_id"`
	EventType         string    `json:"event_type"`
	Timestamp         time.Time `json:"timestamp"`
	AmountMilli       int64     `json:"amount_milli"`
	BalanceAfterMilli int64     `json:"balance_after_milli"`
	Reason            string    `json:"reason"`
	MissionID         string    `json:"mission_id,omitempty"`
}

// ring keeps the newest n entries.
type ring struct {
	buf  []Entry
	next int
	full bool
}

func (r *ring) push(e Entry, n int) {
	if len(r.buf) < n && !r.full {
		r.buf = append(r.buf, e)
		if len(r.buf) == n {
			r.full = true
		}
		return
	}
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
}

// newest returns up to limit entries after skipping offset, newest first,
// and whether the ring covered the request completely.
func (r *ring) newest(offset, limit int) []Entry {
	n := len(r.buf)
	out := make([]Entry, 0, min(limit, n))
	for i := offset; i < n && len(out) < limit; i++ {
		// index of the i-th newest
		idx := (r.next - 1 - i + 2*n) % n
		if !r.full {
			idx = n - 1 - i
		}
		out = append(out, r.buf[idx])
	}
	return out
}

// Apply folds one event. It returns an error for an event the fold cannot
// interpret (unknown type, malformed payload, seq not increasing), for one
// that contradicts the state folded so far (an agent registered twice, a
// decision on an approval already decided), and a *MissingEntityError for
// one that refers to an entity no earlier event created (recovery leaves
// such a dependent out; see engine/journal). Business rules such as the
// balance check are not checked again: they were checked when the event was
// written.
func (s *State) Apply(e *event.Envelope) error {
	if e.Seq <= s.seq {
		return fmt.Errorf("projection: seq %d after %d", e.Seq, s.seq)
	}
	var err error
	switch e.EventType {
	case event.AgentRegistered:
		err = s.applyAgent(e)
	case event.CreditAllocated, event.CreditConsumed, event.CreditRefunded,
		event.CreditWithdrawn, event.CreditRegenerated:
		err = s.applyCredit(e)
	case event.ApprovalRequested, event.ApprovalVoteRecorded, event.ApprovalApproved,
		event.ApprovalRejected, event.ApprovalExpired:
		err = s.applyApproval(e)
	case event.SynergieCollaborationRecorded, event.SynergieRewardGranted,
		event.SynergieRewardCapped, event.SynergieReuseDetected:
		err = s.applySynergie(e)
	case event.PoolCreated, event.PoolMemberAdded, event.PoolMemberRemoved, event.PoolAllocated,
		event.PoolConsumed, event.PoolRefunded, event.PoolTransferred, event.PoolClosed:
		err = s.applyPool(e)
	case event.MissionStarted, event.MissionCompleted, event.MissionFailed,
		event.MissionCancelled, event.MissionRated:
		err = s.applyMission(e)
	case event.EoCRegulated:
		// Folded by the engine's EoC state; nothing to project here.
	default:
		err = fmt.Errorf("unknown event type %q", e.EventType)
	}
	if err != nil {
		return fmt.Errorf("projection: seq %d (%s): %w", e.Seq, e.EventType, err)
	}
	s.seq = e.Seq
	return nil
}

// MissingEntityError is Apply's error for an event that refers to an entity
// (agent, approval, pool, mission) no earlier event created. Apply returns
// it before changing anything, so the event can be left out of a replay
// whose journal lost that entity's first line (see journal recovery).
type MissingEntityError struct {
	Kind string // agent | approval | pool | mission
	ID   string
}

func (e *MissingEntityError) Error() string { return fmt.Sprintf("unknown %s %q", e.Kind, e.ID) }

// MissingDependency names the entity; journal recovery recognises a
// dependent event by this method.
func (e *MissingEntityError) MissingDependency() (kind, id string) { return e.Kind, e.ID }

func missing(kind, id string) error { return &MissingEntityError{Kind: kind, ID: id} }

// needAgent checks an agent exists before a fold changes anything.
func (s *State) needAgent(id string) error {
	if _, ok := s.agents[id]; !ok {
		return missing("agent", id)
	}
	return nil
}

func decode[T any](e *event.Envelope) (T, error) {
	var p T
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return p, fmt.Errorf("payload: %w", err)
	}
	return p, nil
}

func (s *State) applyAgent(e *event.Envelope) error {
	p, err := decode[event.Agent](e)
	if err != nil {
		return err
	}
	if _, ok := s.agents[p.AgentID]; ok {
		return fmt.Errorf("agent %q registered twice", p.AgentID)
	}
	s.agents[p.AgentID] = &Agent{ID: p.AgentID, SkillLevel: p.SkillLevel, CreatedAt: e.Timestamp}
	return nil
}

func (s *State) applyCredit(e *event.Envelope) error {
	p, err := DecodeCredit(e.Payload)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := s.needAgent(p.AgentID); err != nil {
		return err
	}
	delta, _ := event.Delta(e.EventType, p.AmountMilli)
	s.noteExecution(e)
	if e.EventType == event.CreditConsumed && p.MissionID != "" {
		if m, ok := s.missions[p.MissionID]; ok && m.ConsumeEvent == "" {
			m.ConsumeEvent = e.EventID
		}
	}
	if e.EventType == event.CreditRefunded && p.MissionID != "" {
		s.noteMissionRefund(p)
	}
	return s.moveAgent(e, p.AgentID, delta, p.Reason, p.MissionID)
}

// moveAgent applies a signed delta to an agent's balance and ledger.
func (s *State) moveAgent(e *event.Envelope, agentID string, delta int64, reason, missionID string) error {
	a, ok := s.agents[agentID]
	if !ok {
		return missing("agent", agentID)
	}
	a.BalanceMilli += delta
	a.Entries++
	a.ledger.push(Entry{
		Seq: e.Seq, EventID: e.EventID, EventType: e.EventType, Timestamp: e.Timestamp,
		AmountMilli: delta, BalanceAfterMilli: a.BalanceMilli, Reason: reason, MissionID: missionID,
	}, s.cfg.LedgerKeep)
	return nil
}

// AgentView is a copy of an agent's state safe to hand out.
type AgentView struct {
	ID           string
	SkillLevel   float64
	BalanceMilli int64
	Entries      int64
}

// Agent returns an agent by id.
func (s *State) Agent(id string) (AgentView, bool) {
	a, ok := s.agents[id]
	if !ok {
		return AgentView{}, false
	}
	return AgentView{ID: a.ID, SkillLevel: a.SkillLevel, BalanceMilli: a.BalanceMilli, Entries: a.Entries}, true
}

// Balances returns every agent's balance.
func (s *State) Balances() map[string]int64 {
	out := make(map[string]int64, len(s.agents))
	for id, a := range s.agents {
		out[id] = a.BalanceMilli
	}
	return out
}

// Ledger returns an agent's entries newest first, skipping offset. complete
// is false when the page reaches beyond the in-memory window, in which case
// the caller reads the older part from the journal.
func (s *State) Ledger(agentID string, offset, limit int) (entries []Entry, complete bool) {
	a, ok := s.agents[agentID]
	if !ok {
		return nil, true
	}
	entries = a.ledger.newest(offset, limit)
	complete = len(entries) == limit || int64(offset+len(entries)) >= a.Entries
	return entries, complete
}

// Ledger reasons of derived balance moves.
const reasonSynergie = "synergie_reward"

func reasonPoolClosed(pool string) string { return "pool_closed:" + pool }

// AgentDelta extracts the agent balance change of any event type that moves
// one, with the ledger reason Apply records: the engine uses it to read
// ledger pages older than the in-memory window straight from the journal,
// so both must follow the same rules (keep them here, side by side).
func AgentDelta(ev *event.Envelope) (agent string, delta int64, reason, mission string, ok bool) {
	switch ev.EventType {
	case event.SynergieRewardGranted:
		var p event.Reward
		if json.Unmarshal(ev.Payload, &p) != nil {
			return "", 0, "", "", false
		}
		return p.AgentID, p.AmountMilli, reasonSynergie, "", true
	case event.PoolClosed:
		var p event.Pool
		if json.Unmarshal(ev.Payload, &p) != nil || p.RemainderMilli <= 0 {
			return "", 0, "", "", false
		}
		return p.RefundTo, p.RemainderMilli, reasonPoolClosed(p.PoolID), "", true
	}
	var p event.Credit
	if _, isCredit := event.Delta(ev.EventType, 0); !isCredit || json.Unmarshal(ev.Payload, &p) != nil {
		return "", 0, "", "", false
	}
	delta, _ = event.Delta(ev.EventType, p.AmountMilli)
	return p.AgentID, delta, p.Reason, p.MissionID, true
}
