package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/projection"
)

// rule is a command bound to its input: a pure function of the read view
// and the time that returns a plan or an enumerated refusal (*RuleError).
// It runs on the committer under e.mu, so it must not block; it reads no
// clock (now is the pipeline's, read once per command), does no I/O and
// holds no engine pointer (STYLE 19).
type rule func(v View, now time.Time) (*plan, error)

// View is the read-only state a rule decides on: the read models as the
// batch's earlier commands left them, the entities recovery quarantined,
// the rule settings and the anomaly detector's statistics. decideLocked
// builds one per command; it is valid only while that rule runs.
type View struct {
	st       *projection.State
	lost     lostEntities
	checker  anomaly.Checker
	Settings RuleSettings
}

// RuleSettings are the parts of Config the rules consult.
type RuleSettings struct {
	Approval          ApprovalConfig
	Synergie          SynergieConfig
	MissionFailRefund float64
}

func (c Config) ruleSettings() RuleSettings {
	return RuleSettings{Approval: c.Approval, Synergie: c.Synergie, MissionFailRefund: c.MissionFailRefund}
}

// viewLocked is the view of the engine's current folded state.
func (e *Engine) viewLocked() View {
	return View{st: e.models.st, lost: e.lostEntities(), checker: e.models.checker, Settings: e.cfg.ruleSettings()}
}

// Agent returns an agent's balance and skill.
func (v View) Agent(id string) (projection.AgentView, bool) { return v.st.Agent(id) }

// agent returns the agent or its not_found / entity_quarantined refusal.
func (v View) agent(id string) (projection.AgentView, error) {
	a, ok := v.st.Agent(id)
	if !ok {
		return a, v.lost.unknown("agent", id)
	}
	return a, nil
}

// Approval returns a request still held in memory.
func (v View) Approval(id string) (projection.Approval, bool) { return v.st.Approval(id) }

// DecidedTombstone returns the decision of a request evicted from memory.
func (v View) DecidedTombstone(id string) (projection.Tombstone, bool) {
	return v.st.DecidedTombstone(id)
}

// PendingExpiringBefore lists the pending requests due at t.
func (v View) PendingExpiringBefore(t time.Time) []string { return v.st.PendingExpiringBefore(t) }

// Mission returns one mission.
func (v View) Mission(id string) (projection.Mission, bool) { return v.st.MissionView(id) }

// Pool returns one pool.
func (v View) Pool(id string) (projection.Pool, bool) { return v.st.PoolView(id) }

// HasCollaboration reports whether a collaboration id was recorded.
func (v View) HasCollaboration(id string) bool { return v.st.HasCollaboration(id) }

// SynergieGranted is what an agent was granted in a team so far.
func (v View) SynergieGranted(team, agent string) int64 { return v.st.SynergieGranted(team, agent) }

// AnomalyVerdict is the detector's verdict on a consume; a failing
// detector is an error (the consume is then marked, never refused).
// Check reads the detector's statistics only: folds update them.
func (v View) AnomalyVerdict(agentID string, amountMilli int64) (anomaly.Verdict, error) {
	if v.checker == nil {
		return anomaly.Guard(nil)
	}
	return anomaly.Guard(func() anomaly.Verdict { return v.checker.Check(agentID, amountMilli) })
}

// quarantined returns the entity_quarantined refusal for an entity whose
// first event recovery lost, nil for any other.
func (v View) quarantined(kind, id string) *RuleError { return v.lost.quarantined(kind, id) }

// unknown refuses an entity the state does not hold (see lostEntities.unknown).
func (v View) unknown(kind, id string) *RuleError { return v.lost.unknown(kind, id) }

// lostEntities are the entities whose first event recovery lost (key kind +
// "\x00" + id) and the file their lines were quarantined to; read-only
// after Open.
type lostEntities struct {
	byKey map[string]journal.LostEntity
	file  string
}

func (e *Engine) lostEntities() lostEntities {
	return lostEntities{byKey: e.lost, file: e.recovery.QuarantineFile}
}

// unknown refuses a command or read naming an entity the state does not
// hold: 409 entity_quarantined when recovery lost its first event (so a new
// event never silently builds on, or re-creates, an entity whose history
// sits in the quarantine file), else 404 not_found.
func (l lostEntities) unknown(kind, id string) *RuleError {
	if q := l.quarantined(kind, id); q != nil {
		return q
	}
	return refuse(CodeNotFound, nil, "%s %q not found", kind, id)
}

func (l lostEntities) quarantined(kind, id string) *RuleError {
	e, ok := l.byKey[kind+"\x00"+id]
	if !ok {
		return nil
	}
	return refuse(CodeQuarantined, QuarantinedBody{Kind: kind, ID: id, LostIn: e.LostIn, Dependents: e.Dependents},
		"%s %q is quarantined: its first event was lost in %s, so %d later event(s) about it were left out of the replay; "+
			"restore the line from %s and restart (see GET /api/credits/journal/verify)",
		kind, id, e.LostIn, e.Dependents, l.file)
}
