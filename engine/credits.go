package engine

import (
	"context"
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// Limits on identifiers and free text.
const (
	maxIDLen     = 128
	maxReasonLen = 1024
	// MaxKeyLen bounds an idempotency key.
	MaxKeyLen = 200
)

// IDAlphabet and KeyAlphabet are the documented character sets of ids
// (agent, pool, mission, team, collaboration, approver…) and idempotency
// keys. Both are printable ASCII, so every accepted id is valid UTF-8, is
// journaled byte for byte (no U+FFFD substitution that could make two
// distinct ids or keys collapse after a restart) and fits a URL path
// segment; '#' is reserved for the engine's derived keys ("<key>#<n>").
const (
	IDAlphabet  = "[A-Za-z0-9._:@+=-]"
	KeyAlphabet = "[A-Za-z0-9._:@/+=-]"
)

func idByte(c byte, slash bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == ':', c == '@', c == '+', c == '=', c == '-':
		return true
	}
	return slash && c == '/'
}

func inAlphabet(s string, maxLen int, slash bool) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idByte(s[i], slash) {
			return false
		}
	}
	return true
}

// ValidID reports whether id is 1..128 characters of IDAlphabet.
func ValidID(id string) bool { return inAlphabet(id, maxIDLen, false) }

// ValidKey reports whether an idempotency key is 1..MaxKeyLen characters of
// KeyAlphabet.
func ValidKey(key string) bool {
	return inAlphabet(key, MaxKeyLen, true)
}

func validID(field, id string) error {
	if !ValidID(id) {
		return refuse(CodeInvalid, nil, "%s must be 1..%d characters of %s", field, maxIDLen, IDAlphabet)
	}
	return nil
}

func validText(field, s string) error {
	if len(s) > maxReasonLen {
		return refuse(CodeInvalid, nil, "%s must be at most %d characters", field, maxReasonLen)
	}
	return nil
}

func (e *Engine) validAmount(field string, m int64) error {
	if m <= 0 {
		return refuse(CodeInvalid, nil, "%s must be greater than zero", field)
	}
	if m > e.cfg.MaxAmountMilli {
		return refuse(CodeInvalid, nil, "%s exceeds the maximum amount %s", field, money.Format(e.cfg.MaxAmountMilli))
	}
	return nil
}

// CreateAgent registers an agent and allocates skill_level × 100 credits.
func (e *Engine) CreateAgent(ctx context.Context, req Request, agentID string, skill float64) (Result, error) {
	if err := validID("agent_id", agentID); err != nil {
		return Result{}, err
	}
	if math.IsNaN(skill) || skill < 0 || skill > 1 {
		return Result{}, refuse(CodeInvalid, nil, "skill_level must be within 0..1")
	}
	in := agentInput{AgentID: agentID, SkillLevel: skill}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return createAgentRule(v, in, now) })
}

// agentInput registers an agent.
type agentInput struct {
	AgentID    string
	SkillLevel float64
}

// createAgentRule registers a new agent with its skill_level × 100 credits.
func createAgentRule(v View, in agentInput, _ time.Time) (*plan, error) {
	if _, ok := v.Agent(in.AgentID); ok {
		return nil, refuse(CodeAgentExists, nil, "agent %q already exists", in.AgentID)
	}
	if q := v.quarantined("agent", in.AgentID); q != nil {
		return nil, q
	}
	p := &plan{}
	i := p.add(event.AgentRegistered, event.Agent{AgentID: in.AgentID, SkillLevel: in.SkillLevel}, nil)
	if amount := int64(math.Round(in.SkillLevel * 100 * float64(money.PerCredit))); amount > 0 {
		p.addCaused(event.CreditAllocated, event.Credit{AgentID: in.AgentID, AmountMilli: amount,
			BalanceAfterMilli: amount, Reason: "agent_created"}, i, "")
	}
	return p, nil
}

// CreditInput is a consume, refund, add or withdraw request.
type CreditInput struct {
	AgentID     string
	AmountMilli int64
	Reason      string
	MissionID   string
}

func (e *Engine) validCredit(in CreditInput) error {
	if err := validID("agent_id", in.AgentID); err != nil {
		return err
	}
	if in.MissionID != "" {
		if err := validID("mission_id", in.MissionID); err != nil {
			return err
		}
	}
	if err := validText("reason", in.Reason); err != nil {
		return err
	}
	return e.validAmount("amount", in.AmountMilli)
}

// InsufficientBody is the body of an insufficient_credits refusal.
type InsufficientBody struct {
	AgentID   string        `json:"agent_id"`
	Balance   money.Credits `json:"balance"`
	Requested money.Credits `json:"requested"`
}

// insufficient is the refusal of a debit the balance does not cover.
func insufficient(a projection.AgentView, amountMilli int64, what string) *RuleError {
	return refuse(CodeInsufficientCredits, InsufficientBody{AgentID: a.ID, Balance: money.Credits(a.BalanceMilli),
		Requested: money.Credits(amountMilli)}, "agent %q has %s credits, %s %s", a.ID,
		money.Format(a.BalanceMilli), money.Format(amountMilli), what)
}

// Consume debits an agent; it never overdraws. KARMA is asked before the
// lock (bounded by its timeout, never failing); the anomaly detector runs
// under the lock behind a guard, so a failing detector only marks the event.
func (e *Engine) Consume(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	score := e.score(ctx, in.AgentID)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now)
	})
}

// consumeRule debits the agent when its balance covers the amount; the
// KARMA score and the anomaly verdict only mark the event.
func consumeRule(v View, in CreditInput, score karma.Score, _ time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if a.BalanceMilli < in.AmountMilli {
		return nil, insufficient(a, in.AmountMilli, "requested")
	}
	meta := karmaMeta(score)
	verdict, derr := v.AnomalyVerdict(in.AgentID, in.AmountMilli)
	switch {
	case derr != nil:
		meta.AnomalyDetector = "unavailable"
	case verdict.Detected:
		meta.AnomalyDetected = true
		sc := verdict.Score
		meta.AnomalyScore = &sc
		meta.AnomalyReason = verdict.Reason
	}
	p := &plan{}
	p.add(event.CreditConsumed, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, meta)
	return p, nil
}

func karmaMeta(s karma.Score) *event.Metadata {
	v := s.Value
	return &event.Metadata{KarmaSource: string(s.Source), KarmaScore: &v}
}

// score asks KARMA; without a scorer it is the documented fallback.
func (e *Engine) score(ctx context.Context, agentID string) karma.Score {
	if e.scorer == nil {
		return karma.Score{Value: 0.5, Source: karma.SourceFallback}
	}
	return e.scorer.Score(ctx, agentID)
}

// RefundExceedsBody is the body of a refund_exceeds_consumed refusal.
type RefundExceedsBody struct {
	MissionID  string        `json:"mission_id"`
	Consumed   money.Credits `json:"consumed"`
	Refunded   money.Credits `json:"refunded"`
	Refundable money.Credits `json:"refundable"`
	Requested  money.Credits `json:"requested"`
}

// Refund credits an agent back. A refund is bounded by what it names (see
// docs/events.md, "Money paths"):
//   - with the mission_id of a mission this engine ran for the agent, it may
//     not exceed the mission's consumed − refunded (409
//     refund_exceeds_consumed), whatever the amount;
//   - without one (no mission_id, or one the engine never started — the
//     original API's free-text mission_id) it is an unreferenced credit,
//     which, like add, applies directly only below the approval threshold;
//     at or above it the refund is refused (422 approval_required): grant
//     such amounts through POST /add, which opens an approval.
func (e *Engine) Refund(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return refundRule(v, in, now) })
}

// refundRule credits the agent back within the refund bound.
func refundRule(v View, in CreditInput, _ time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if err := refundBound(v, in); err != nil {
		return nil, err
	}
	p := &plan{}
	p.add(event.CreditRefunded, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli + in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil)
	return p, nil
}

// refundBound is the refund guard: bounded by the named mission, or
// below the approval threshold when it names none.
func refundBound(v View, in CreditInput) error {
	m, known := v.Mission(in.MissionID)
	if in.MissionID != "" && !known {
		return v.unknown("mission", in.MissionID)
	}
	if in.MissionID != "" {
		if m.AgentID != in.AgentID {
			return refuse(CodeInvalid, nil, "mission_id: mission %q belongs to agent %q, not %q", in.MissionID, m.AgentID, in.AgentID)
		}
		room := max(m.ConsumedMilli-m.RefundedMilli, 0)
		if in.AmountMilli > room {
			return refuse(CodeRefundExceedsConsumed, RefundExceedsBody{MissionID: in.MissionID, Consumed: money.Credits(m.ConsumedMilli),
				Refunded: money.Credits(m.RefundedMilli), Refundable: money.Credits(room), Requested: money.Credits(in.AmountMilli)},
				"mission %q has %s credits left to refund, %s requested", in.MissionID, money.Format(room), money.Format(in.AmountMilli))
		}
		return nil
	}
	if threshold := v.Settings.Approval.ThresholdMilli; in.AmountMilli >= threshold {
		return refuse(CodeApprovalRequired, nil, "amount: a refund of %s credits or more must name the mission_id of a mission whose unrefunded consumption covers it; grant other credits through POST /add (human approval)",
			money.Format(threshold))
	}
	return nil
}

func (e *Engine) directCredit(ctx context.Context, req Request, in CreditInput, typ event.Type) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return directCreditRule(v, in, typ, now) })
}

// directCreditRule credits an agent below the approval threshold (typ is
// credit.allocated for an add).
func directCreditRule(v View, in CreditInput, typ event.Type, _ time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	p := &plan{}
	p.add(typ, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli + in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil)
	return p, nil
}

// Add grants credits; at or above the approval threshold it opens a pending
// approval request instead (the result's primary event is then
// approval.requested).
func (e *Engine) Add(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if in.AmountMilli >= e.cfg.Approval.ThresholdMilli {
		return e.RequestApproval(ctx, req, ApprovalInput{ActionType: "add", AgentID: in.AgentID,
			AmountMilli: in.AmountMilli, Reason: in.Reason})
	}
	return e.directCredit(ctx, req, in, event.CreditAllocated)
}

// Withdraw removes credits (never below zero); at or above the threshold it
// opens a pending approval request instead.
func (e *Engine) Withdraw(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if in.AmountMilli >= e.cfg.Approval.ThresholdMilli {
		return e.RequestApproval(ctx, req, ApprovalInput{ActionType: "withdraw", AgentID: in.AgentID,
			AmountMilli: in.AmountMilli, Reason: in.Reason})
	}
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now) })
}

// withdrawRule debits an agent below the approval threshold, never below
// zero.
func withdrawRule(v View, in CreditInput, _ time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if a.BalanceMilli < in.AmountMilli {
		return nil, insufficient(a, in.AmountMilli, "requested")
	}
	p := &plan{}
	p.add(event.CreditWithdrawn, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason}, nil)
	return p, nil
}
