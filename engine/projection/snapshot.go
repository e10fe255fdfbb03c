package projection

import (
	"sort"
	"time"
)

// Snapshot is the whole folded state as plain data: every field of every
// projection, exported, with every collection in a deterministic order, so
// two states are equal exactly when their snapshots are (compare them with
// cmp.Diff in tests), and the digest is a hash of it (Digest). Nothing is
// picked by hand: a test fails when a projection type gains a field the
// snapshot does not carry.
//
// Only the configuration (Config) is left out: it bounds the fold and is
// the precondition of comparing two states, not a result of the fold.
type Snapshot struct {
	// Seq is the seq of the last applied event.
	Seq uint64 `json:"seq"`
	// Agents by ID.
	Agents []AgentSnapshot `json:"agents"`
	// Approvals held in full, by RequestID.
	Approvals []Approval `json:"approvals"`
	// Decided is the ring of decided request ids in slot order, and
	// DecidedNext its next slot to overwrite: together they decide which
	// request is evicted next.
	Decided     []string `json:"decided"`
	DecidedNext int      `json:"decided_next"`
	// Tombstones of evicted decided requests, by RequestID.
	Tombstones []TombstoneSnapshot `json:"tombstones"`
	// Synergie accounts by TeamID, then AgentID.
	Synergie []SynergieAccount `json:"synergie"`
	// Collabs are the recorded collaboration ids, by ID.
	Collabs []CollabSnapshot `json:"collabs"`
	// Pools by ID.
	Pools []Pool `json:"pools"`
	// Missions by MissionID.
	Missions []Mission `json:"missions"`
	// ByDecision are approvals approved whose executing credit event is not
	// folded yet, by decision event id.
	ByDecision []PendingExecution `json:"by_decision"`
}

// AgentSnapshot is an agent with its in-memory ledger window, oldest first.
type AgentSnapshot struct {
	ID           string    `json:"id"`
	SkillLevel   float64   `json:"skill_level"`
	BalanceMilli int64     `json:"balance_milli"`
	Entries      int64     `json:"entries"`
	Ledger       []Entry   `json:"ledger"`
	CreatedAt    time.Time `json:"created_at"`
}

// TombstoneSnapshot is the tombstone of one evicted decided request.
type TombstoneSnapshot struct {
	RequestID string `json:"request_id"`
	Tombstone
}

// CollabSnapshot is one recorded collaboration and the seq of its event.
type CollabSnapshot struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
}

// PendingExecution links an approval.approved event to its request until
// the credit event it executes is folded.
type PendingExecution struct {
	DecisionEventID string `json:"decision_event_id"`
	RequestID       string `json:"request_id"`
}

// Snapshot copies the whole state; it shares no memory with s.
func (s *State) Snapshot() Snapshot {
	snap := Snapshot{
		Seq:         s.seq,
		Agents:      make([]AgentSnapshot, 0, len(s.agents)),
		Approvals:   make([]Approval, 0, len(s.approvals)),
		Decided:     append([]string{}, s.decided...),
		DecidedNext: s.decidedNext,
		Synergie:    make([]SynergieAccount, 0, len(s.synergie)),
		Collabs:     make([]CollabSnapshot, 0, len(s.collabs)),
		Pools:       make([]Pool, 0, len(s.pools)),
		Missions:    make([]Mission, 0, len(s.missions)),
		ByDecision:  make([]PendingExecution, 0, len(s.byDecision)),
	}
	for _, id := range sortedKeys(s.agents) {
		a := s.agents[id]
		ledger := a.ledger.newest(0, len(a.ledger.buf))
		for i, j := 0, len(ledger)-1; i < j; i, j = i+1, j-1 {
			ledger[i], ledger[j] = ledger[j], ledger[i]
		}
		snap.Agents = append(snap.Agents, AgentSnapshot{ID: a.ID, SkillLevel: a.SkillLevel, BalanceMilli: a.BalanceMilli,
			Entries: a.Entries, Ledger: ledger, CreatedAt: a.CreatedAt})
	}
	for _, id := range sortedKeys(s.approvals) {
		a, _ := s.Approval(id)
		if a.Votes == nil {
			a.Votes = []Vote{}
		}
		snap.Approvals = append(snap.Approvals, a)
	}
	snap.Tombstones = s.tombstones.sorted()
	for _, k := range sortedKeys(s.synergie) {
		snap.Synergie = append(snap.Synergie, *s.synergie[k])
	}
	sort.Slice(snap.Synergie, func(i, j int) bool {
		a, b := snap.Synergie[i], snap.Synergie[j]
		if a.TeamID != b.TeamID {
			return a.TeamID < b.TeamID
		}
		return a.AgentID < b.AgentID
	})
	for _, id := range sortedKeys(s.collabs) {
		snap.Collabs = append(snap.Collabs, CollabSnapshot{ID: id, Seq: s.collabs[id]})
	}
	for _, id := range sortedKeys(s.pools) {
		p, _ := s.PoolView(id)
		snap.Pools = append(snap.Pools, p)
	}
	for _, id := range sortedKeys(s.missions) {
		snap.Missions = append(snap.Missions, *s.missions[id])
	}
	for _, d := range sortedKeys(s.byDecision) {
		snap.ByDecision = append(snap.ByDecision, PendingExecution{DecisionEventID: d, RequestID: s.byDecision[d]})
	}
	return snap
}
