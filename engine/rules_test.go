package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/projection"
)

// The rules are pure functions of a View, their input and the time: these
// tests build a small projection state by folding plans, run one rule and
// assert its plan or its refusal — no engine, no journal, no lock.

var ruleT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a projection state built by folding plans the way sealLocked
// does (seq, event ids, causation), without encoding or a store.
type world struct {
	t        *testing.T
	st       *projection.State
	settings RuleSettings
	checker  anomaly.Checker
	lost     lostEntities
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{t: t, st: projection.New(projection.Config{}), settings: DefaultConfig().ruleSettings(),
		checker: anomaly.New(anomaly.DefaultConfig())}
}

func (w *world) view() View {
	return View{st: w.st, lost: w.lost, checker: w.checker, Settings: w.settings}
}

// fold applies p's events at time at; the checker observes consumes as
// models.apply's fold does.
func (w *world) fold(p *plan, at time.Time) {
	w.t.Helper()
	ids := make([]string, len(p.events))
	for i, pe := range p.events {
		payload, err := json.Marshal(pe.payload)
		if err != nil {
			w.t.Fatal(err)
		}
		seq := w.st.Seq() + 1
		ids[i] = fmt.Sprintf("ev-%d", seq)
		ev := &event.Envelope{Seq: seq, EventID: ids[i], EventType: pe.typ, Timestamp: at, ActorID: "test",
			SchemaVersion: event.SchemaVersion, Payload: payload, Metadata: pe.meta, CorrelationID: ids[0]}
		switch {
		case pe.causedBy >= 0:
			ev.CausationID = &ids[pe.causedBy]
		case pe.cause != "":
			c := pe.cause
			ev.CausationID = &c
		}
		if err := w.st.Apply(ev); err != nil {
			w.t.Fatalf("fold %s: %v", pe.typ, err)
		}
		if pe.typ == event.CreditConsumed && (pe.meta == nil || !pe.meta.AnomalyDetected) {
			c := pe.payload.(event.Credit)
			w.checker.Observe(c.AgentID, c.AmountMilli)
		}
	}
}

// must runs a rule that has to succeed and folds its plan.
func (w *world) must(r rule) *plan {
	w.t.Helper()
	p, err := r(w.view(), ruleT0)
	if err != nil {
		w.t.Fatalf("setup rule refused: %v", err)
	}
	w.fold(p, ruleT0)
	return p
}

func (w *world) agent(id string, skill float64) {
	w.t.Helper()
	w.must(func(v View, now time.Time) (*plan, error) {
		return createAgentRule(v, agentInput{AgentID: id, SkillLevel: skill}, now)
	})
}

// plannedEvent is one event of a plan, for comparison.
type plannedEvent struct {
	typ     event.Type
	payload any
}

func eventsOf(p *plan) []plannedEvent {
	if p == nil {
		return nil
	}
	out := make([]plannedEvent, len(p.events))
	for i, pe := range p.events {
		out[i] = plannedEvent{pe.typ, pe.payload}
	}
	return out
}

// checkRule asserts a rule's outcome: the events (type and payload) of its
// plan, or the code of its refusal.
func checkRule(t *testing.T, p *plan, err error, wantCode Code, want ...plannedEvent) {
	t.Helper()
	if wantCode != "" {
		var re *RuleError
		if !errors.As(err, &re) || re.Code != wantCode {
			t.Fatalf("outcome = plan %v, err %v; want refusal %s", eventsOf(p), err, wantCode)
		}
		if p != nil {
			t.Fatalf("a refusal came with a plan: %v", eventsOf(p))
		}
		return
	}
	if err != nil {
		t.Fatalf("refused %v; want plan %v", err, want)
	}
	got := eventsOf(p)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan =\n  %v\nwant\n  %v", got, want)
	}
}

func credit(agent string, amount, after int64, reason, mission string) event.Credit {
	return event.Credit{AgentID: agent, AmountMilli: amount, BalanceAfterMilli: after, Reason: reason, MissionID: mission}
}

func TestCreateAgentRuleRegistersOnceWithSkillTimesHundredCredits(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 0.5)
	w.lost = lostEntities{byKey: map[string]journal.LostEntity{"agent\x00q": {Kind: "agent", ID: "q", LostIn: "line 3", Dependents: 2}}}
	for _, tc := range []struct {
		name string
		in   agentInput
		code Code
		want []plannedEvent
	}{
		{"new agent", agentInput{"b", 0.25}, "", []plannedEvent{
			{event.AgentRegistered, event.Agent{AgentID: "b", SkillLevel: 0.25}},
			{event.CreditAllocated, credit("b", 25_000, 25_000, "agent_created", "")}}},
		{"skill 0 allocates nothing", agentInput{"z", 0}, "", []plannedEvent{
			{event.AgentRegistered, event.Agent{AgentID: "z"}}}},
		{"existing agent", agentInput{"a", 0.5}, CodeAgentExists, nil},
		{"quarantined agent is never re-created", agentInput{"q", 0.5}, CodeQuarantined, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := createAgentRule(w.view(), tc.in, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
}

// flagAll is an anomaly checker that flags every consume; panicking is one
// that fails.
type flagAll struct{}

func (flagAll) Check(string, int64) anomaly.Verdict {
	return anomaly.Verdict{Detected: true, Score: 9, Reason: anomaly.ReasonMeanFactor}
}
func (flagAll) Observe(string, int64) {}

type panicking struct{}

func (panicking) Check(string, int64) anomaly.Verdict { panic("detector down") }
func (panicking) Observe(string, int64)               {}

func TestConsumeRuleNeverOverdrawsAndOnlyMarksAnomalies(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 0.5) // 50 credits
	live := karma.Score{Value: 0.8, Source: karma.SourceLive}
	for _, tc := range []struct {
		name    string
		checker anomaly.Checker
		in      CreditInput
		code    Code
		want    []plannedEvent
	}{
		{"covered", nil, CreditInput{AgentID: "a", AmountMilli: 20_000, Reason: "r"}, "",
			[]plannedEvent{{event.CreditConsumed, credit("a", 20_000, 30_000, "r", "")}}},
		{"the whole balance", nil, CreditInput{AgentID: "a", AmountMilli: 50_000}, "",
			[]plannedEvent{{event.CreditConsumed, credit("a", 50_000, 0, "", "")}}},
		{"one milli over", nil, CreditInput{AgentID: "a", AmountMilli: 50_001}, CodeInsufficientCredits, nil},
		{"unknown agent", nil, CreditInput{AgentID: "x", AmountMilli: 1}, CodeNotFound, nil},
		{"anomalous is flagged, not refused", flagAll{}, CreditInput{AgentID: "a", AmountMilli: 1_000}, "",
			[]plannedEvent{{event.CreditConsumed, credit("a", 1_000, 49_000, "", "")}}},
		{"failing detector", panicking{}, CreditInput{AgentID: "a", AmountMilli: 1_000}, "",
			[]plannedEvent{{event.CreditConsumed, credit("a", 1_000, 49_000, "", "")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := w.view()
			if tc.checker != nil {
				v.checker = tc.checker
			}
			p, err := consumeRule(v, tc.in, live, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
			if err != nil {
				return
			}
			m := p.events[0].meta
			if m == nil || m.KarmaSource != "live" || m.KarmaScore == nil || *m.KarmaScore != 0.8 {
				t.Fatalf("metadata %+v does not carry the KARMA score", m)
			}
			switch tc.checker.(type) {
			case flagAll:
				if !m.AnomalyDetected || m.AnomalyScore == nil || *m.AnomalyScore != 9 {
					t.Fatalf("metadata %+v: want the anomaly flagged with score 9", m)
				}
			case panicking:
				if m.AnomalyDetector != "unavailable" || m.AnomalyDetected {
					t.Fatalf("metadata %+v: want anomaly_detector unavailable", m)
				}
			default:
				if m.AnomalyDetected || m.AnomalyDetector != "" {
					t.Fatalf("metadata %+v: nothing anomalous expected", m)
				}
			}
		})
	}
}

func TestRefundRuleIsBoundedByItsMissionOrTheThreshold(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 1) // 100 credits
	w.agent("b", 1) // 100 credits
	start := &plan{}
	m := start.add(event.MissionStarted, event.Mission{MissionID: "m", AgentID: "a", MissionType: "general", EstimateMilli: 10_000}, nil)
	start.addCaused(event.CreditConsumed, credit("a", 10_000, 90_000, "mission_start", "m"), m, "")
	w.fold(start, ruleT0)
	w.must(func(v View, now time.Time) (*plan, error) {
		return refundRule(v, CreditInput{AgentID: "a", AmountMilli: 3_000, MissionID: "m"}, now)
	}) // 93 credits, 7 left to refund against m
	threshold := w.settings.Approval.ThresholdMilli
	for _, tc := range []struct {
		name string
		in   CreditInput
		code Code
		want []plannedEvent
	}{
		{"within what is left of the mission", CreditInput{AgentID: "a", AmountMilli: 7_000, MissionID: "m"}, "",
			[]plannedEvent{{event.CreditRefunded, credit("a", 7_000, 100_000, "", "m")}}},
		{"beyond what is left", CreditInput{AgentID: "a", AmountMilli: 7_001, MissionID: "m"}, CodeRefundExceedsConsumed, nil},
		{"another agent's mission", CreditInput{AgentID: "b", AmountMilli: 1, MissionID: "m"}, CodeInvalid, nil},
		{"an unknown mission", CreditInput{AgentID: "a", AmountMilli: 1, MissionID: "nope"}, CodeNotFound, nil},
		{"unreferenced below the threshold", CreditInput{AgentID: "b", AmountMilli: threshold - 1}, "",
			[]plannedEvent{{event.CreditRefunded, credit("b", threshold-1, 100_000+threshold-1, "", "")}}},
		{"unreferenced at the threshold", CreditInput{AgentID: "b", AmountMilli: threshold}, CodeApprovalRequired, nil},
		{"unknown agent", CreditInput{AgentID: "x", AmountMilli: 1}, CodeNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := refundRule(w.view(), tc.in, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
}

func TestWithdrawAndAddRulesMoveTheBalance(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 0.1) // 10 credits
	p, err := withdrawRule(w.view(), CreditInput{AgentID: "a", AmountMilli: 10_000, Reason: "r"}, ruleT0)
	checkRule(t, p, err, "", plannedEvent{event.CreditWithdrawn, credit("a", 10_000, 0, "r", "")})
	p, err = withdrawRule(w.view(), CreditInput{AgentID: "a", AmountMilli: 10_001}, ruleT0)
	checkRule(t, p, err, CodeInsufficientCredits)
	p, err = directCreditRule(w.view(), CreditInput{AgentID: "a", AmountMilli: 5}, event.CreditAllocated, ruleT0)
	checkRule(t, p, err, "", plannedEvent{event.CreditAllocated, credit("a", 5, 10_005, "", "")})
	p, err = directCreditRule(w.view(), CreditInput{AgentID: "x", AmountMilli: 5}, event.CreditAllocated, ruleT0)
	checkRule(t, p, err, CodeNotFound)
}

// request opens an approval request by requester "req" and returns its id.
func (w *world) request(id, action, agent string, amount int64) {
	w.t.Helper()
	w.must(func(v View, now time.Time) (*plan, error) {
		return requestApprovalRule(v, approvalRequest{ApprovalInput: ApprovalInput{ActionType: action, AgentID: agent, AmountMilli: amount},
			RequestID: id, RequesterID: "req"}, now)
	})
}

func TestRequestApprovalRuleClassifiesByAmountAndAutoApprovesLow(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 1) // 100 credits
	cfg := w.settings.Approval
	open := func(action string, amount int64) approvalRequest {
		return approvalRequest{ApprovalInput: ApprovalInput{ActionType: action, AgentID: "a", AmountMilli: amount, Reason: "r"},
			RequestID: "r1", RequesterID: "req"}
	}
	requested := func(action string, amount int64, level string, approvers int, timeout time.Duration) plannedEvent {
		return plannedEvent{event.ApprovalRequested, event.Approval{RequestID: "r1", ActionType: action, AgentID: "a", AmountMilli: amount,
			Reason: "r", RequesterID: "req", RiskLevel: level, RequiredApprovals: approvers, ExpiresAt: ruleT0.Add(timeout)}}
	}
	auto := plannedEvent{event.ApprovalApproved, event.Decision{RequestID: "r1", DeciderID: AutoApprover, Justification: "below the MEDIUM threshold", Version: 1}}
	for _, tc := range []struct {
		name string
		in   approvalRequest
		code Code
		want []plannedEvent
	}{
		{"LOW add executes at once", open("add", 1_000), "", []plannedEvent{requested("add", 1_000, RiskLow, 0, cfg.MediumTimeout), auto,
			{event.CreditAllocated, credit("a", 1_000, 101_000, "approval:r1: r", "")}}},
		{"LOW withdraw executes at once", open("withdraw", 1_000), "", []plannedEvent{requested("withdraw", 1_000, RiskLow, 0, cfg.MediumTimeout), auto,
			{event.CreditWithdrawn, credit("a", 1_000, 99_000, "approval:r1: r", "")}}},
		{"LOW withdraw beyond the balance", open("withdraw", 100_001), CodeInsufficientCredits, nil},
		{"MEDIUM waits for one approver", open("add", cfg.MediumFromMilli), "", []plannedEvent{requested("add", cfg.MediumFromMilli, RiskMedium, 1, cfg.MediumTimeout)}},
		{"HIGH", open("add", cfg.HighFromMilli), "", []plannedEvent{requested("add", cfg.HighFromMilli, RiskHigh, 1, cfg.HighTimeout)}},
		{"CRITICAL needs two", open("withdraw", cfg.CriticalFromMilli), "", []plannedEvent{requested("withdraw", cfg.CriticalFromMilli, RiskCritical, 2, cfg.CriticalTimeout)}},
		{"unknown agent", approvalRequest{ApprovalInput: ApprovalInput{ActionType: "add", AgentID: "x", AmountMilli: 1}}, CodeNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := requestApprovalRule(w.view(), tc.in, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
}

func TestDecideRuleEnforcesFourEyesDistinctApproversAndTheDeadline(t *testing.T) {
	cfg := DefaultConfig().Approval
	decide := func(id, decider, just string, approve bool, version int) decisionRequest {
		return decisionRequest{DecisionInput: DecisionInput{RequestID: id, Justification: just, ExpectedVersion: version}, DeciderID: decider, Approve: approve}
	}
	w := newWorld(t)
	w.agent("a", 1) // 100 credits
	w.request("med", "add", "a", cfg.MediumFromMilli)
	w.request("high", "withdraw", "a", cfg.HighFromMilli) // more than the balance
	w.request("crit", "add", "a", cfg.CriticalFromMilli)
	w.must(func(v View, now time.Time) (*plan, error) { // first of two CRITICAL votes
		p, _, err := decideRule(v, decide("crit", "x", "ok", true, 0), now)
		return p, err
	})
	w.request("done", "add", "a", cfg.MediumFromMilli)
	w.must(func(v View, now time.Time) (*plan, error) {
		p, _, err := decideRule(v, decide("done", "x", "", false, 0), now)
		return p, err
	})
	for _, tc := range []struct {
		name string
		in   decisionRequest
		at   time.Time
		code Code
		want []plannedEvent
	}{
		{"the requester may not decide", decide("med", "req", "", true, 0), ruleT0, CodeFourEyes, nil},
		{"MEDIUM approve executes", decide("med", "x", "", true, 0), ruleT0, "", []plannedEvent{
			{event.ApprovalApproved, event.Decision{RequestID: "med", DeciderID: "x", Version: 1}},
			{event.CreditAllocated, credit("a", cfg.MediumFromMilli, 100_000+cfg.MediumFromMilli, "approval:med: ", "")}}},
		{"reject", decide("med", "x", "no", false, 0), ruleT0, "", []plannedEvent{
			{event.ApprovalRejected, event.Decision{RequestID: "med", DeciderID: "x", Justification: "no", Version: 1}}}},
		{"stale expected version", decide("med", "x", "", true, 7), ruleT0, CodeVersionMismatch, nil},
		{"HIGH needs a justification", decide("high", "x", "", true, 0), ruleT0, CodeJustificationRequired, nil},
		{"an approved withdrawal never overdraws", decide("high", "x", "ok", true, 0), ruleT0, CodeInsufficientCredits, nil},
		{"the same approver twice", decide("crit", "x", "again", true, 0), ruleT0, CodeDuplicateApprover, nil},
		{"the second CRITICAL approver executes", decide("crit", "y", "ok", true, 0), ruleT0, "", []plannedEvent{
			{event.ApprovalApproved, event.Decision{RequestID: "crit", DeciderID: "y", Justification: "ok", Version: 2}},
			{event.CreditAllocated, credit("a", cfg.CriticalFromMilli, 100_000+cfg.CriticalFromMilli, "approval:crit: ", "")}}},
		{"already decided", decide("done", "y", "", true, 0), ruleT0, CodeAlreadyDecided, nil},
		{"unknown request", decide("nope", "y", "", true, 0), ruleT0, CodeNotFound, nil},
		{"at the deadline it expires instead", decide("med", "x", "", true, 0), ruleT0.Add(cfg.MediumTimeout), "", []plannedEvent{
			{event.ApprovalExpired, event.Decision{RequestID: "med", Version: 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, expired, err := decideRule(w.view(), tc.in, tc.at)
			checkRule(t, p, err, tc.code, tc.want...)
			if gotExpired, wantExpired := expired != nil, tc.at.After(ruleT0); gotExpired != wantExpired {
				t.Fatalf("expired = %v, want %v", expired, wantExpired)
			}
		})
	}
}

func TestExpireDueRuleExpiresExactlyTheOverdueRequests(t *testing.T) {
	cfg := DefaultConfig().Approval
	w := newWorld(t)
	w.agent("a", 1)
	w.request("med", "add", "a", cfg.MediumFromMilli)
	w.request("high", "add", "a", cfg.HighFromMilli)
	if p, err := expireDueRule(w.view(), ruleT0.Add(cfg.MediumTimeout-time.Nanosecond)); !errors.Is(err, errNothingToDo) || p != nil {
		t.Fatalf("before any deadline: plan %v, err %v; want errNothingToDo", eventsOf(p), err)
	}
	p, err := expireDueRule(w.view(), ruleT0.Add(cfg.MediumTimeout))
	checkRule(t, p, err, "", plannedEvent{event.ApprovalExpired, event.Decision{RequestID: "med", Version: 1}})
}

func TestStartMissionRuleConsumesItsEstimateWithoutOverdraft(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 0.5) // 50 credits; estimates are × 0.85
	w.agent("poor", 0.01)
	w.must(func(v View, now time.Time) (*plan, error) {
		return startMissionRule(v, MissionInput{MissionID: "m", AgentID: "a", MissionType: "general"}, now)
	})
	w.lost = lostEntities{byKey: map[string]journal.LostEntity{"mission\x00q": {Kind: "mission", ID: "q"}}}
	est := MissionEstimateMilli("research", "medium", 0.5) // 21.3 credits
	for _, tc := range []struct {
		name string
		in   MissionInput
		code Code
		want []plannedEvent
	}{
		{"covered", MissionInput{MissionID: "r", AgentID: "a", MissionType: "research", Complexity: "medium"}, "", []plannedEvent{
			{event.MissionStarted, event.Mission{MissionID: "r", AgentID: "a", MissionType: "research", Complexity: "medium", EstimateMilli: est}},
			{event.CreditConsumed, credit("a", est, 50_000-8_500-est, "mission_start", "r")}}},
		{"the estimate exceeds the balance", MissionInput{MissionID: "r", AgentID: "poor"}, CodeInsufficientCredits, nil},
		{"already started", MissionInput{MissionID: "m", AgentID: "a"}, CodeConflict, nil},
		{"quarantined mission", MissionInput{MissionID: "q", AgentID: "a"}, CodeQuarantined, nil},
		{"unknown agent", MissionInput{MissionID: "r", AgentID: "x"}, CodeNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := startMissionRule(w.view(), tc.in, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
}

func TestEndMissionRuleRefundsByOutcomeWithinWhatIsLeft(t *testing.T) {
	w := newWorld(t)
	w.settings.MissionFailRefund = 0.5
	w.agent("a", 0) // 0 credits, then 100 added
	w.must(func(v View, now time.Time) (*plan, error) {
		return directCreditRule(v, CreditInput{AgentID: "a", AmountMilli: 100_000}, event.CreditAllocated, now)
	})
	w.must(func(v View, now time.Time) (*plan, error) { // consumes 10 credits
		return startMissionRule(v, MissionInput{MissionID: "m", AgentID: "a", MissionType: "general"}, now)
	})
	w.must(func(v View, now time.Time) (*plan, error) { // consumes 10 credits, 8 refunded
		return startMissionRule(v, MissionInput{MissionID: "r", AgentID: "a", MissionType: "general"}, now)
	})
	w.must(func(v View, now time.Time) (*plan, error) {
		return refundRule(v, CreditInput{AgentID: "a", AmountMilli: 8_000, MissionID: "r"}, now)
	})
	w.must(func(v View, now time.Time) (*plan, error) {
		return endMissionRule(v, MissionInput{MissionID: "r"}, event.MissionCancelled, now)
	}) // refunds the 2 left: 90 credits
	ended := func(typ event.Type, id string, actual, refund int64) plannedEvent {
		return plannedEvent{typ, event.Mission{MissionID: id, AgentID: "a", ActualMilli: actual, RefundMilli: refund}}
	}
	for _, tc := range []struct {
		name string
		typ  event.Type
		in   MissionInput
		code Code
		want []plannedEvent
	}{
		{"completed refunds estimate − actual", event.MissionCompleted, MissionInput{MissionID: "m", ActualMilli: 3_500}, "", []plannedEvent{
			ended(event.MissionCompleted, "m", 3_500, 6_500), {event.CreditRefunded, credit("a", 6_500, 96_500, "mission_completed", "m")}}},
		{"completed over the estimate refunds nothing", event.MissionCompleted, MissionInput{MissionID: "m", ActualMilli: 12_000}, "", []plannedEvent{
			ended(event.MissionCompleted, "m", 12_000, 0)}},
		{"failed refunds the configured fraction", event.MissionFailed, MissionInput{MissionID: "m"}, "", []plannedEvent{
			ended(event.MissionFailed, "m", 0, 5_000), {event.CreditRefunded, credit("a", 5_000, 95_000, "mission_failed", "m")}}},
		{"cancelled refunds everything", event.MissionCancelled, MissionInput{MissionID: "m"}, "", []plannedEvent{
			ended(event.MissionCancelled, "m", 0, 10_000), {event.CreditRefunded, credit("a", 10_000, 100_000, "mission_cancelled", "m")}}},
		{"an ended mission", event.MissionCompleted, MissionInput{MissionID: "r"}, CodeConflict, nil},
		{"unknown mission", event.MissionCompleted, MissionInput{MissionID: "x"}, CodeNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := endMissionRule(w.view(), tc.in, tc.typ, ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
	p, err := rateMissionRule(w.view(), MissionInput{MissionID: "r", Rating: 0.75}, ruleT0)
	checkRule(t, p, err, "", plannedEvent{event.MissionRated, event.Mission{MissionID: "r", AgentID: "a", Rating: 0.75}})
	p, err = rateMissionRule(w.view(), MissionInput{MissionID: "x"}, ruleT0)
	checkRule(t, p, err, CodeNotFound)
}

func (w *world) poolMove(typ event.Type, in PoolInput) {
	w.t.Helper()
	w.must(func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now) })
}

func TestPoolRulesKeepMembersOpenPoolsAndTheBalance(t *testing.T) {
	w := newWorld(t)
	w.agent("a", 0)
	w.agent("b", 0)
	w.must(func(v View, now time.Time) (*plan, error) {
		return createPoolRule(v, PoolInput{PoolID: "p", Name: "P", Members: []string{"a", "a"}}, now)
	})
	w.must(func(v View, now time.Time) (*plan, error) { return createPoolRule(v, PoolInput{PoolID: "q"}, now) })
	w.must(func(v View, now time.Time) (*plan, error) { return createPoolRule(v, PoolInput{PoolID: "shut"}, now) })
	w.must(func(v View, now time.Time) (*plan, error) { return closePoolRule(v, PoolInput{PoolID: "shut"}, now) })
	w.poolMove(event.PoolAllocated, PoolInput{PoolID: "p", AmountMilli: 10_000})
	w.poolMove(event.PoolConsumed, PoolInput{PoolID: "p", AgentID: "a", AmountMilli: 4_000}) // 6 left, 4 refundable
	move := func(typ event.Type, in PoolInput, after int64) plannedEvent {
		return plannedEvent{typ, event.PoolMove{PoolID: in.PoolID, ToPoolID: in.ToPoolID, AgentID: in.AgentID, AmountMilli: in.AmountMilli, BalanceAfterMilli: after}}
	}
	consume := PoolInput{PoolID: "p", AgentID: "a", AmountMilli: 6_000}
	transfer := PoolInput{PoolID: "p", ToPoolID: "q", AmountMilli: 1_000}
	refund := PoolInput{PoolID: "p", AmountMilli: 4_000}
	for _, tc := range []struct {
		name string
		r    rule
		code Code
		want []plannedEvent
	}{
		{"create with distinct existing members", func(v View, now time.Time) (*plan, error) {
			return createPoolRule(v, PoolInput{PoolID: "n", Members: []string{"a", "b", "a"}}, now)
		}, "", []plannedEvent{{event.PoolCreated, event.Pool{PoolID: "n"}},
			{event.PoolMemberAdded, event.PoolMember{PoolID: "n", AgentID: "a"}}, {event.PoolMemberAdded, event.PoolMember{PoolID: "n", AgentID: "b"}}}},
		{"create an existing pool", func(v View, now time.Time) (*plan, error) { return createPoolRule(v, PoolInput{PoolID: "p"}, now) }, CodeConflict, nil},
		{"create with an unknown member", func(v View, now time.Time) (*plan, error) {
			return createPoolRule(v, PoolInput{PoolID: "n", Members: []string{"x"}}, now)
		}, CodeNotFound, nil},
		{"add a member", func(v View, now time.Time) (*plan, error) {
			return poolMemberRule(v, PoolInput{PoolID: "p", AgentID: "b"}, true, now)
		},
			"", []plannedEvent{{event.PoolMemberAdded, event.PoolMember{PoolID: "p", AgentID: "b"}}}},
		{"add a member twice", func(v View, now time.Time) (*plan, error) {
			return poolMemberRule(v, PoolInput{PoolID: "p", AgentID: "a"}, true, now)
		},
			CodeConflict, nil},
		{"a member consumes the whole pool", func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, consume, event.PoolConsumed, now) },
			"", []plannedEvent{move(event.PoolConsumed, consume, 0)}},
		{"one milli more", func(v View, now time.Time) (*plan, error) {
			in := consume
			in.AmountMilli++
			return poolMoveRule(v, in, event.PoolConsumed, now)
		}, CodeInsufficientCredits, nil},
		{"a non-member consumes", func(v View, now time.Time) (*plan, error) {
			in := consume
			in.AgentID = "b"
			return poolMoveRule(v, in, event.PoolConsumed, now)
		}, CodeNotMember, nil},
		{"transfer", func(v View, now time.Time) (*plan, error) {
			return poolMoveRule(v, transfer, event.PoolTransferred, now)
		},
			"", []plannedEvent{move(event.PoolTransferred, transfer, 5_000)}},
		{"transfer to a closed pool", func(v View, now time.Time) (*plan, error) {
			in := transfer
			in.ToPoolID = "shut"
			return poolMoveRule(v, in, event.PoolTransferred, now)
		}, CodeConflict, nil},
		{"transfer to itself", func(v View, now time.Time) (*plan, error) {
			in := transfer
			in.ToPoolID = "p"
			return poolMoveRule(v, in, event.PoolTransferred, now)
		}, CodeInvalid, nil},
		{"refund what members consumed", func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, refund, event.PoolRefunded, now) },
			"", []plannedEvent{move(event.PoolRefunded, refund, 10_000)}},
		{"refund more than members consumed", func(v View, now time.Time) (*plan, error) {
			in := refund
			in.AmountMilli++
			return poolMoveRule(v, in, event.PoolRefunded, now)
		}, CodeRefundExceedsConsumed, nil},
		{"move in a closed pool", func(v View, now time.Time) (*plan, error) {
			return poolMoveRule(v, PoolInput{PoolID: "shut", AmountMilli: 1}, event.PoolAllocated, now)
		}, CodeConflict, nil},
		{"close pays the remainder", func(v View, now time.Time) (*plan, error) {
			return closePoolRule(v, PoolInput{PoolID: "p", AgentID: "b"}, now)
		},
			"", []plannedEvent{{event.PoolClosed, event.Pool{PoolID: "p", RemainderMilli: 6_000, RefundTo: "b"}}}},
		{"close pays no unknown agent", func(v View, now time.Time) (*plan, error) {
			return closePoolRule(v, PoolInput{PoolID: "p", AgentID: "x"}, now)
		},
			CodeInvalid, nil},
		{"close an empty pool to nobody", func(v View, now time.Time) (*plan, error) { return closePoolRule(v, PoolInput{PoolID: "q"}, now) },
			"", []plannedEvent{{event.PoolClosed, event.Pool{PoolID: "q"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.r(w.view(), ruleT0)
			checkRule(t, p, err, tc.code, tc.want...)
		})
	}
	t.Run("close at the approval threshold", func(t *testing.T) {
		w.settings.Approval.ThresholdMilli = 6_000
		defer func() { w.settings.Approval.ThresholdMilli = DefaultConfig().Approval.ThresholdMilli }()
		p, err := closePoolRule(w.view(), PoolInput{PoolID: "p", AgentID: "b"}, ruleT0)
		checkRule(t, p, err, CodeApprovalRequired)
	})
}

func TestCollaborationRuleWeighsByKarmaAndCapsPerAgentAndTeam(t *testing.T) {
	w := newWorld(t)
	w.settings.Synergie.CapMilli = 30_000 // base 50 credits
	w.agent("a", 0)
	w.agent("b", 0)
	scores := []karma.Score{{Value: 1, Source: karma.SourceLive}, {Value: 0.5, Source: karma.SourceFallback}}
	collab := func(id string) collaboration {
		return collaboration{CollaborationInput: CollaborationInput{CollaborationID: id, TeamID: "t",
			ContributionScores: map[string]float64{"a": 1, "b": 0.4}}, Agents: []string{"a", "b"}, Scores: scores}
	}
	reward := func(id, agent string, amount, after int64, score, contrib float64) event.Reward {
		return event.Reward{CollaborationID: id, TeamID: "t", AgentID: agent, AmountMilli: amount, BalanceAfterMilli: after,
			KarmaScore: score, Contribution: contrib, CapMilli: 30_000}
	}
	recorded := func(id string) plannedEvent {
		return plannedEvent{event.SynergieCollaborationRecorded, event.Collaboration{CollaborationID: id, TeamID: "t",
			AgentIDs: []string{"a", "b"}, ContributionScores: map[string]float64{"a": 1, "b": 0.4}}}
	}
	p, err := collaborationRule(w.view(), collab("c1"), ruleT0)
	checkRule(t, p, err, "", recorded("c1"),
		plannedEvent{event.SynergieRewardGranted, reward("c1", "a", 30_000, 30_000, 1, 1)}, // 75 earned, 30 paid
		plannedEvent{event.SynergieRewardCapped, reward("c1", "a", 45_000, 0, 1, 1)},
		plannedEvent{event.SynergieRewardGranted, reward("c1", "b", 20_000, 20_000, 0.5, 0.4)})
	if m := p.events[1].meta; m == nil || m.KarmaSource != "live" {
		t.Fatalf("a granted reward carries metadata %+v, want its KARMA score", m)
	}
	w.fold(p, ruleT0)

	p, err = collaborationRule(w.view(), collab("c2"), ruleT0)
	checkRule(t, p, err, "", recorded("c2"),
		plannedEvent{event.SynergieRewardCapped, reward("c2", "a", 75_000, 0, 1, 1)},
		plannedEvent{event.SynergieRewardGranted, reward("c2", "b", 10_000, 30_000, 0.5, 0.4)},
		plannedEvent{event.SynergieRewardCapped, reward("c2", "b", 10_000, 0, 0.5, 0.4)})

	if p, err := collaborationRule(w.view(), collab("c1"), ruleT0); !errors.Is(err, errDuplicate) || p != nil {
		t.Fatalf("a repeated collaboration_id: plan %v, err %v; want errDuplicate", eventsOf(p), err)
	}
	unknown := collab("c3")
	unknown.Agents = []string{"a", "x"}
	p, err = collaborationRule(w.view(), unknown, ruleT0)
	checkRule(t, p, err, CodeNotFound)
}

func TestRegulationRuleJournalsTheDecisionAsItsPayload(t *testing.T) {
	d := eoc.Decision{WindowStart: ruleT0, WindowEnd: ruleT0.Add(time.Second), Windows: 1, Ops: 3, Score: 0.25}
	p := regulationRule(d)
	checkRule(t, p, nil, "", plannedEvent{event.EoCRegulated, d})
}
