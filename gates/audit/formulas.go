package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// FormulaParams are the documented parameters the model recomputes derived
// amounts with (SPEC §5, docs/events.md §3, docs/karma.md,
// docs/anomaly-eoc.md). Zero fields take the defaults.
type FormulaParams struct {
	// SynergieBaseMilli is the synergie base reward (default 50 credits).
	SynergieBaseMilli int64
	// KarmaFallback is the CI used when KARMA cannot answer (0.5).
	KarmaFallback float64
	// MissionFailRefund is the share of the consumed estimate a failed
	// mission refunds (1.0).
	MissionFailRefund float64
	// Approval risk thresholds (MEDIUM 500, HIGH 5,000, CRITICAL 50,000 credits).
	MediumFromMilli, HighFromMilli, CriticalFromMilli int64
	// EoCNominalRate is the EoC load 1.0 in ops/s (1000) and EoCAlpha its
	// EWMA weight (0.3).
	EoCNominalRate, EoCAlpha float64
	// KarmaScoreOf is the score KARMA serves for an agent, where the
	// harness runs KARMA (its stub's); nil where it does not. A score the
	// backend records as KARMA's (karma_source live, or cache(d)) must be it.
	KarmaScoreOf func(agentID string) float64
}

// DefaultFormulas are the documented defaults.
func DefaultFormulas() FormulaParams {
	return FormulaParams{SynergieBaseMilli: 50_000, KarmaFallback: 0.5, MissionFailRefund: 1.0,
		MediumFromMilli: 500_000, HighFromMilli: 5_000_000, CriticalFromMilli: 50_000_000,
		EoCNominalRate: 1000, EoCAlpha: 0.3}
}

// MissionState is one mission as the model folds it.
type MissionState struct {
	MissionID, AgentID, MissionType, Complexity string
	Status                                      string // running | completed | failed | cancelled
	EstimateMilli                               int64
	ConsumedMilli                               int64
	RefundedMilli                               int64   // its end's refund and every refund naming it
	DirectRefunds                               int     // POST /refund naming the mission
	Rating                                      float64 // the last mission.rated
	StartEventID, ConsumeEventID                string
	// pendingRefund is the end event's refund_milli not yet paid by its
	// credit.refunded.
	pendingRefund int64
	endSeq        uint64
}

// EoCState is the last eoc.regulated decision.
type EoCState struct {
	Score, Pressure, Regeneration, Backpressure float64
	Band                                        string
}

// Mission statuses.
const (
	MissionRunning   = "running"
	MissionCompleted = "completed"
	MissionFailed    = "failed"
	MissionCancelled = "cancelled"
)

var missionBase = map[string]float64{"general": 10, "code_review": 15, "deployment": 20, "research": 25, "architecture": 30}
var missionComplexity = map[string]float64{"low": 0.5, "medium": 1.0, "high": 2.0}

// MissionEstimateMilli is SPEC §5's estimate: base(type) × complexity ×
// (1 − 0.3 × skill), rounded to 0.1 credit; unknown type 10, unknown
// complexity 1.0.
func MissionEstimateMilli(missionType, complexity string, skill float64) int64 {
	base, ok := missionBase[missionType]
	if !ok {
		base = 10
	}
	f, ok := missionComplexity[complexity]
	if !ok {
		f = 1.0
	}
	return int64(math.Round(base*f*(1-0.3*skill)*10)) * 100
}

// MissionRefundMilli is the refund SPEC §5 prescribes when a mission ends:
// completed → estimate − actual if positive; failed → consumed × the refund
// share (floored to the milli); cancelled → everything consumed.
func MissionRefundMilli(outcome string, consumed, actual int64, failShare float64) int64 {
	switch outcome {
	case MissionCompleted:
		return max(consumed-actual, 0)
	case MissionFailed:
		return int64(math.Floor(float64(consumed) * failShare))
	case MissionCancelled:
		return consumed
	}
	return 0
}

// RewardMilli is docs/events.md §3.3's reward before the cap:
// floor(base × contribution × (0.5 + karma_score)).
func RewardMilli(baseMilli int64, contribution, karma float64) int64 {
	return int64(math.Floor(float64(baseMilli) * contribution * (0.5 + karma)))
}

// rewardMatches accepts the floor, and the rounded value when the exact
// product is within float noise of an integer (an engine multiplying in
// another order may land a hair below it).
func rewardMatches(got, baseMilli int64, contribution, karma float64) bool {
	x := float64(baseMilli) * contribution * (0.5 + karma)
	return got == int64(math.Floor(x)) || (math.Abs(x-math.Round(x)) < 1e-6 && got == int64(math.Round(x)))
}

// RiskLevel is SPEC §5's risk level and approvers required for an amount.
func (p FormulaParams) RiskLevel(amount int64) (string, int) {
	switch {
	case amount >= p.CriticalFromMilli:
		return "CRITICAL", 2
	case amount >= p.HighFromMilli:
		return "HIGH", 1
	case amount >= p.MediumFromMilli:
		return "MEDIUM", 1
	}
	return "LOW", 0
}

type missionPayload struct {
	MissionID     string  `json:"mission_id"`
	AgentID       string  `json:"agent_id"`
	MissionType   string  `json:"mission_type"`
	Complexity    string  `json:"complexity"`
	EstimateMilli int64   `json:"estimate_milli"`
	ActualMilli   int64   `json:"actual_milli"`
	RefundMilli   int64   `json:"refund_milli"`
	Rating        float64 `json:"rating"`
}

func (m *Model) applyMission(e *Event) {
	var p missionPayload
	if !m.decode(e, &p) {
		return
	}
	if e.EventType == "mission.started" {
		if _, ok := m.Missions[p.MissionID]; ok || p.MissionID == "" {
			m.problem(ProblemFold, e, "mission %q started twice (or without id)", p.MissionID)
			return
		}
		if !m.Agents[p.AgentID] {
			m.problem(ProblemFold, e, "mission of unregistered agent %q", p.AgentID)
		}
		want := MissionEstimateMilli(p.MissionType, p.Complexity, m.Skills[p.AgentID])
		if !m.skillUnknown[p.AgentID] {
			m.FormulaChecks++
		}
		if p.EstimateMilli != want && !m.skillUnknown[p.AgentID] {
			m.problem(ProblemFormula, e, "mission %q estimate_milli %d, SPEC §5 gives %d (type %q, complexity %q, skill %v)",
				p.MissionID, p.EstimateMilli, want, p.MissionType, p.Complexity, m.Skills[p.AgentID])
		}
		m.Missions[p.MissionID] = &MissionState{MissionID: p.MissionID, AgentID: p.AgentID, MissionType: p.MissionType,
			Complexity: p.Complexity, Status: MissionRunning, EstimateMilli: p.EstimateMilli, StartEventID: e.EventID}
		m.missionByStart[e.EventID] = p.MissionID
		return
	}
	ms, ok := m.Missions[p.MissionID]
	if !ok {
		m.problem(ProblemFold, e, "%s of unknown mission %q", e.EventType, p.MissionID)
		return
	}
	if e.EventType == "mission.rated" {
		ms.Rating = p.Rating
		return
	}
	if ms.Status != MissionRunning {
		m.problem(ProblemFold, e, "mission %q ended again after it was %s", p.MissionID, ms.Status)
		return
	}
	if ms.pendingRefund > 0 {
		m.problem(ProblemFormula, e, "mission %q: the previous end's refund of %d milli was never paid", p.MissionID, ms.pendingRefund)
	}
	outcome := map[string]string{"mission.completed": MissionCompleted, "mission.failed": MissionFailed, "mission.cancelled": MissionCancelled}[e.EventType]
	// SPEC §5: refunds are bounded by the mission: an end refunds its
	// formula's amount, at most what the refunds naming the mission left.
	want := min(MissionRefundMilli(outcome, ms.ConsumedMilli, p.ActualMilli, m.Formulas.MissionFailRefund),
		max(ms.ConsumedMilli-ms.RefundedMilli, 0))
	m.FormulaChecks++
	if p.RefundMilli != want {
		m.problem(ProblemFormula, e, "mission %q %s: refund_milli %d, SPEC §5 gives %d (consumed %d, refunded before %d, actual %d)",
			p.MissionID, outcome, p.RefundMilli, want, ms.ConsumedMilli, ms.RefundedMilli, p.ActualMilli)
	}
	ms.Status = outcome
	ms.pendingRefund = p.RefundMilli
	ms.endSeq = e.Seq
}

// noteMissionCredit links a mission's consume (caused by its start) and
// refund (caused by its consume) to the mission and checks their amounts.
func (m *Model) noteMissionCredit(e *Event, p creditPayload) {
	if e.CausationID == nil || (m.missionByStart[*e.CausationID] == "" && m.missionByConsume[*e.CausationID] == "") {
		// A refund that names a mission (POST /refund with mission_id)
		// counts against it like its end's refund.
		if ms, ok := m.Missions[p.MissionID]; ok && p.MissionID != "" && e.EventType == "credit.refunded" {
			ms.RefundedMilli += p.AmountMilli
			ms.DirectRefunds++
		}
		return
	}
	if id, ok := m.missionByStart[*e.CausationID]; ok {
		ms := m.Missions[id]
		m.FormulaChecks++
		if e.EventType != "credit.consumed" || p.AmountMilli != ms.EstimateMilli || p.AgentID != ms.AgentID {
			m.problem(ProblemFormula, e, "mission %q start charged %s %d milli to %q, want credit.consumed of the estimate %d from %q",
				id, e.EventType, p.AmountMilli, p.AgentID, ms.EstimateMilli, ms.AgentID)
		}
		ms.ConsumedMilli += p.AmountMilli
		ms.ConsumeEventID = e.EventID
		m.missionByConsume[e.EventID] = id
		return
	}
	if id, ok := m.missionByConsume[*e.CausationID]; ok {
		ms := m.Missions[id]
		m.FormulaChecks++
		switch {
		case e.EventType != "credit.refunded" || p.AgentID != ms.AgentID:
			m.problem(ProblemFormula, e, "mission %q end moved %s to %q, want credit.refunded to %q", id, e.EventType, p.AgentID, ms.AgentID)
		case ms.pendingRefund == 0:
			m.problem(ProblemFormula, e, "mission %q refunded %d milli with no refund due (status %s)", id, p.AmountMilli, ms.Status)
		case p.AmountMilli != ms.pendingRefund:
			m.problem(ProblemFormula, e, "mission %q refunded %d milli, its end event says refund_milli %d", id, p.AmountMilli, ms.pendingRefund)
		}
		ms.RefundedMilli += p.AmountMilli
		ms.pendingRefund = 0
	}
}

// Finish runs the end-of-journal checks: every reward against its formula,
// every announced mission refund paid.
func (m *Model) Finish() {
	m.rewardFormulas()
	for _, id := range sortedKeys(m.Missions) {
		if ms := m.Missions[id]; ms.pendingRefund > 0 {
			m.Problems = append(m.Problems, Problem{Kind: ProblemFormula, Seq: ms.endSeq,
				Detail: fmt.Sprintf("mission %q %s with refund_milli %d, but no credit.refunded followed", id, ms.Status, ms.pendingRefund)})
		}
	}
}

type karmaMetadata struct {
	KarmaSource *string  `json:"karma_source"`
	KarmaScore  *float64 `json:"karma_score"`
}

// noteKarma checks an event's KARMA metadata: a fallback score is the
// documented CI 0.5, every score is within [0, 1], and a reward's
// karma_score is the one the metadata records.
func (m *Model) noteKarma(e *Event) {
	if len(e.Metadata) == 0 {
		return
	}
	var md karmaMetadata
	if json.Unmarshal(e.Metadata, &md) != nil || md.KarmaScore == nil {
		return
	}
	s := *md.KarmaScore
	m.FormulaChecks++
	if math.IsNaN(s) || s < 0 || s > 1 {
		m.problem(ProblemFormula, e, "karma_score %v outside [0, 1]", s)
	}
	if md.KarmaSource != nil && *md.KarmaSource == "fallback" && s != m.Formulas.KarmaFallback {
		m.problem(ProblemFormula, e, "karma_source fallback with karma_score %v, docs/karma.md's fallback CI is %v", s, m.Formulas.KarmaFallback)
	}
	if src := deref(md.KarmaSource); (src == "live" || src == "cache" || src == "cached") && m.Formulas.KarmaScoreOf != nil {
		var subject struct {
			AgentID string `json:"agent_id"`
		}
		if json.Unmarshal(e.Payload, &subject) == nil && subject.AgentID != "" {
			if want := m.Formulas.KarmaScoreOf(subject.AgentID); s != want {
				m.problem(ProblemFormula, e, "karma_source %s with karma_score %v for agent %q, whose score KARMA serves is %v", src, s, subject.AgentID, want)
			}
		}
	}
	if e.EventType == "synergie.reward_granted" {
		var p rewardPayload
		if json.Unmarshal(e.Payload, &p) == nil && p.KarmaScore != nil && *p.KarmaScore != s {
			m.problem(ProblemFormula, e, "reward computed with karma_score %v, metadata records %v", *p.KarmaScore, s)
		}
	}
}

func (m *Model) checkRisk(e *Event, p approvalPayload) {
	if p.RiskLevel == "" {
		return
	}
	level, approvers := m.Formulas.RiskLevel(p.AmountMilli)
	m.FormulaChecks++
	if p.RiskLevel != level || p.RequiredApprovals != approvers {
		m.problem(ProblemFormula, e, "request %q of %d milli: risk %s with %d approvers, SPEC §5 gives %s with %d",
			p.RequestID, p.AmountMilli, p.RiskLevel, p.RequiredApprovals, level, approvers)
	}
}

type eocPayload struct {
	WindowStart string    `json:"window_start"`
	WindowEnd   string    `json:"window_end"`
	Windows     int       `json:"windows"`
	Ops         int64     `json:"ops"`
	Anomalies   int64     `json:"anomalies"`
	Errors      int64     `json:"errors"`
	Score       float64   `json:"score"`
	Pressure    float64   `json:"pressure"`
	Band        string    `json:"band"`
	Previous    *struct { // nil: another backend's decision names no previous regulation
		RegenerationFactor float64 `json:"regeneration_factor"`
		Backpressure       float64 `json:"backpressure"`
	} `json:"previous"`
	Regulation struct {
		RegenerationFactor float64 `json:"regeneration_factor"`
		Backpressure       float64 `json:"backpressure"`
	} `json:"regulation"`
}

// EoCBand is docs/anomaly-eoc.md's band of a score.
func EoCBand(score float64) string {
	switch {
	case score < 0.3:
		return "critical_low"
	case score < 0.5:
		return "low"
	case score <= 0.7:
		return "optimal"
	case score <= 0.85:
		return "high"
	}
	return "critical_high"
}

// EoCRaw is docs/anomaly-eoc.md's per-window raw score and pressure input:
// P from load and errors, Q = 0.08 × anomaly rate.
func EoCRaw(ops, anomalies, errs int64, d time.Duration, nominal float64) (raw, p float64) {
	var a, e, l float64
	if ops > 0 {
		a, e = float64(anomalies)/float64(ops), float64(errs)/float64(ops)
	}
	if d > 0 && nominal > 0 {
		l = math.Min(math.Max(float64(ops)/(d.Seconds()*nominal), 0), 2)
	}
	clamp01 := func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
	p = clamp01(0.40 + 0.20*math.Sqrt(math.Min(l, 1)) + 0.35*math.Max(l-1, 0) + 0.50*e)
	return clamp01(p + 0.08*a), p
}

// applyEoC checks each decision against the documented formula: the band
// matches the score, `previous` is the last decision's regulation, and a
// single-window decision's score and pressure are the EWMA of the
// previous ones toward that window's raw values (anomalies weigh 0.08).
func (m *Model) applyEoC(e *Event) {
	var p eocPayload
	if !m.decode(e, &p) {
		return
	}
	prev := m.EoC
	if prev == nil {
		prev = &EoCState{Score: 0.5, Pressure: 0.5, Regeneration: 1, Backpressure: 0}
	}
	m.FormulaChecks++
	if p.Band != EoCBand(p.Score) {
		m.problem(ProblemFormula, e, "EoC band %q for score %v, docs/anomaly-eoc.md gives %q", p.Band, p.Score, EoCBand(p.Score))
	}
	const tol = 1e-6 // the score is not rounded; this absorbs another engine's float order
	if p.Previous != nil && (math.Abs(p.Previous.RegenerationFactor-prev.Regeneration) > 1e-6 || math.Abs(p.Previous.Backpressure-prev.Backpressure) > 1e-6) {
		m.problem(ProblemFormula, e, "EoC previous regulation {%v %v}, the last decision set {%v %v}",
			p.Previous.RegenerationFactor, p.Previous.Backpressure, prev.Regeneration, prev.Backpressure)
	}
	start, err1 := time.Parse(time.RFC3339Nano, p.WindowStart)
	end, err2 := time.Parse(time.RFC3339Nano, p.WindowEnd)
	if err1 == nil && err2 == nil {
		m.eocCounts(e, p, start, end)
	}
	if p.Windows >= 1 && p.Windows <= 10_000 && err1 == nil && err2 == nil && p.Anomalies <= p.Ops && p.Errors <= p.Ops {
		// windows − 1 idle windows (n = 0: P = 0.40, Q = 0), then this one.
		a := m.Formulas.EoCAlpha
		score, pressure := prev.Score, prev.Pressure
		for i := 1; i < p.Windows; i++ {
			score, pressure = score+a*(0.40-score), pressure+a*(0.40-pressure)
		}
		raw, pr := EoCRaw(p.Ops, p.Anomalies, p.Errors, end.Sub(start), m.Formulas.EoCNominalRate)
		wantScore, wantPressure := score+a*(raw-score), pressure+a*(pr-pressure)
		if p.Anomalies > 0 {
			m.EoCAnomalyWindows++
		}
		if math.Abs(p.Score-wantScore) > tol || math.Abs(p.Pressure-wantPressure) > tol {
			m.problem(ProblemFormula, e, "EoC %d window(s), the last of %d ops, %d anomalies, %d errors: score %v pressure %v, docs/anomaly-eoc.md gives %.6f %.6f (from %.6f %.6f)",
				p.Windows, p.Ops, p.Anomalies, p.Errors, p.Score, p.Pressure, wantScore, wantPressure, prev.Score, prev.Pressure)
		}
	}
	m.EoC = &EoCState{Score: p.Score, Pressure: p.Pressure, Regeneration: p.Regulation.RegenerationFactor,
		Backpressure: p.Regulation.Backpressure, Band: p.Band}
}

// noteConsume keeps a consume's time and anomaly flag for the EoC window
// it falls in.
func (m *Model) noteConsume(e *Event) {
	at, err := time.Parse(time.RFC3339Nano, e.Timestamp)
	if err != nil {
		return
	}
	var md struct {
		AnomalyDetected bool `json:"anomaly_detected"`
	}
	_ = json.Unmarshal(e.Metadata, &md)
	m.consumes = append(m.consumes, consumeAt{at: at, flagged: md.AnomalyDetected})
}

// eocCounts checks a decision's counts against the consumes the journal
// stamps inside its window [start, end) (docs/anomaly-eoc.md: one
// observation per operation at its event's time, an anomaly for a flagged
// consume): the anomalies are exactly the flagged consumes, the operations
// at least the consumes (refused operations count too and are not
// journaled). Replay observes the journaled consumes again, so a restart
// changes neither. Consumes before the window's end are then forgotten.
func (m *Model) eocCounts(e *Event, p eocPayload, start, end time.Time) {
	if start.Before(m.firstAt) {
		m.consumes = dropBefore(m.consumes, end)
		return // the journal was read from the middle of this window
	}
	var ops, flagged int64
	for _, c := range m.consumes {
		if !c.at.Before(start) && c.at.Before(end) {
			ops++
			if c.flagged {
				flagged++
			}
		}
	}
	m.FormulaChecks++
	if p.Anomalies != flagged || p.Ops < ops {
		m.problem(ProblemFormula, e, "EoC window %s – %s counts %d ops and %d anomalies; the journal stamps %d consumes in it, %d of them flagged anomalous",
			p.WindowStart, p.WindowEnd, p.Ops, p.Anomalies, ops, flagged)
	}
	m.consumes = dropBefore(m.consumes, end)
}

// dropBefore keeps the consumes stamped at or after t.
func dropBefore(cs []consumeAt, t time.Time) []consumeAt {
	kept := cs[:0]
	for _, c := range cs {
		if !c.at.Before(t) {
			kept = append(kept, c)
		}
	}
	return kept
}

// RewardFormulas checks every (collaboration, agent)'s reward against
// docs/events.md §3.3: paid + withheld = floor(base × contribution ×
// (0.5 + karma_score)), with the karma_score and contribution the events
// record (the KARMA source's own check is noteKarma's).
func (m *Model) rewardFormulas() {
	type key struct{ collab, agent string }
	type acc struct {
		sum          int64
		contribution float64
		karma        float64
		seq          uint64
		n            int
	}
	accs := map[key]*acc{}
	var order []key
	for _, r := range m.Rewards {
		if !r.Inputs {
			continue // another backend's reward, its formula its own
		}
		k := key{r.CollaborationID, r.AgentID}
		a := accs[k]
		if a == nil {
			a = &acc{contribution: r.Contribution, karma: r.KarmaScore, seq: r.Seq}
			accs[k] = a
			order = append(order, k)
		}
		a.sum += r.AmountMilli
		a.n++
	}
	for _, k := range order {
		a := accs[k]
		m.FormulaChecks++
		if !rewardMatches(a.sum, m.Formulas.SynergieBaseMilli, a.contribution, a.karma) {
			m.Problems = append(m.Problems, Problem{Kind: ProblemFormula, Seq: a.seq, Detail: fmt.Sprintf(
				"collaboration %q agent %q: paid + withheld %d milli, docs/events.md §3.3 gives floor(%d × %v × (0.5 + %v)) = %d",
				k.collab, k.agent, a.sum, m.Formulas.SynergieBaseMilli, a.contribution, a.karma,
				RewardMilli(m.Formulas.SynergieBaseMilli, a.contribution, a.karma))})
		}
	}
}

// AgentInitialMilli is SPEC §5's allocation at creation: round(skill × 100)
// credits (docs/events.md §3.1).
func AgentInitialMilli(skill float64) int64 { return int64(math.Round(skill*100)) * 1000 }

// noteAgentAllocation checks the allocation a registration caused.
func (m *Model) noteAgentAllocation(e *Event, p creditPayload) {
	if e.CausationID == nil {
		return
	}
	agent, ok := m.registrations[*e.CausationID]
	if !ok || m.skillUnknown[agent] {
		return
	}
	want := AgentInitialMilli(m.Skills[agent])
	m.FormulaChecks++
	if e.EventType != "credit.allocated" || p.AgentID != agent || p.AmountMilli != want {
		m.problem(ProblemFormula, e, "creating %q (skill %v) moved %s %d milli to %q, SPEC §5 allocates round(skill × 100) = %d milli",
			agent, m.Skills[agent], e.EventType, p.AmountMilli, p.AgentID, want)
	}
}

// EoCWindow is one eoc.regulated decision's window and counts.
type EoCWindow struct {
	Start, End          time.Time
	Ops, Anomalies, Seq int64
}

// EoCWindowAt returns the decision whose window [window_start, window_end)
// holds t (false: none does, or the backend journals no such decision). A
// workload that alone drove the backend through that window knows how many
// operations it sent in it: the decision must count no more (an engine that
// carries one window's counts into the next counts earlier windows again,
// and the score it derives from them is consistent with them, so only the
// count itself shows it).
func EoCWindowAt(j *Journal, t time.Time) (EoCWindow, bool) {
	for _, e := range j.Events() {
		if e.EventType != "eoc.regulated" {
			continue
		}
		var p eocPayload
		if json.Unmarshal(e.Payload, &p) != nil {
			continue
		}
		start, err1 := time.Parse(time.RFC3339Nano, p.WindowStart)
		end, err2 := time.Parse(time.RFC3339Nano, p.WindowEnd)
		if err1 == nil && err2 == nil && !t.Before(start) && t.Before(end) {
			return EoCWindow{Start: start, End: end, Ops: p.Ops, Anomalies: p.Anomalies, Seq: int64(e.Seq)}, true
		}
	}
	return EoCWindow{}, false
}
