package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// Risk levels (orig).
const (
	RiskLow      = "LOW"
	RiskMedium   = "MEDIUM"
	RiskHigh     = "HIGH"
	RiskCritical = "CRITICAL"
)

// ApprovalInput is an explicit or implied approval request.
type ApprovalInput struct {
	ActionType    string // add | withdraw
	AgentID       string
	AmountMilli   int64
	Reason        string
	Justification string
}

// DecisionInput is an approve or reject call.
type DecisionInput struct {
	RequestID       string
	Justification   string
	ExpectedVersion int // 0 = any
}

// AutoApprover is the decider recorded on LOW requests.
const AutoApprover = "system:auto-approve"

// riskOf classifies an amount: its level, the distinct approvers it needs
// and how long it may stay pending.
func riskOf(a ApprovalConfig, amount int64) (level string, approvers int, timeout time.Duration) {
	switch {
	case amount >= a.CriticalFromMilli:
		return RiskCritical, 2, a.CriticalTimeout
	case amount >= a.HighFromMilli:
		return RiskHigh, 1, a.HighTimeout
	case amount >= a.MediumFromMilli:
		return RiskMedium, 1, a.MediumTimeout
	}
	return RiskLow, 0, a.MediumTimeout
}

// RequestApproval opens an approval request. LOW requests are approved
// and executed in the same transaction.
func (e *Engine) RequestApproval(ctx context.Context, req Request, in ApprovalInput) (Result, error) {
	if in.ActionType != "add" && in.ActionType != "withdraw" {
		return Result{}, refuse(CodeInvalid, nil, `action_type must be "add" or "withdraw"`)
	}
	if err := e.validCredit(CreditInput{AgentID: in.AgentID, AmountMilli: in.AmountMilli, Reason: in.Reason}); err != nil {
		return Result{}, err
	}
	if err := validText("justification", in.Justification); err != nil {
		return Result{}, err
	}
	if err := validID("requester_id", req.ActorID); err != nil {
		return Result{}, err
	}
	// The request id is drawn here, not in the rule: a rule is a function
	// of its view, input and time.
	r := approvalRequest{ApprovalInput: in, RequestID: uuid.NewString(), RequesterID: req.ActorID}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return requestApprovalRule(v, r, now) })
}

// approvalRequest is the input of requestApprovalRule.
type approvalRequest struct {
	ApprovalInput
	RequestID   string
	RequesterID string
}

// requestApprovalRule opens a request classified by its amount; a LOW one
// is approved and executed in the same plan.
func requestApprovalRule(v View, in approvalRequest, now time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	level, approvers, timeout := riskOf(v.Settings.Approval, in.AmountMilli)
	p := &plan{}
	ap := event.Approval{RequestID: in.RequestID, ActionType: in.ActionType, AgentID: in.AgentID,
		AmountMilli: in.AmountMilli, Reason: in.Reason, Justification: in.Justification, RequesterID: in.RequesterID,
		RiskLevel: level, RequiredApprovals: approvers, ExpiresAt: now.UTC().Add(timeout)}
	i := p.add(event.ApprovalRequested, ap, nil)
	if level == RiskLow {
		if err := execution(p, ap, a, i, AutoApprover, "below the MEDIUM threshold", 1); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// execution appends the terminal approval and the executed credit event
// (causation = the approval event) to p.
func execution(p *plan, ap event.Approval, a projection.AgentView, causedBy int, decider, just string, version int) error {
	typ, bal := event.CreditAllocated, a.BalanceMilli+ap.AmountMilli
	if ap.ActionType == "withdraw" {
		if a.BalanceMilli < ap.AmountMilli {
			return insufficient(a, ap.AmountMilli, "needed by the approved withdrawal")
		}
		typ, bal = event.CreditWithdrawn, a.BalanceMilli-ap.AmountMilli
	}
	d := p.addCaused(event.ApprovalApproved, event.Decision{RequestID: ap.RequestID, DeciderID: decider,
		Justification: just, Version: version}, causedBy, "")
	p.addCaused(typ, event.Credit{AgentID: a.ID, AmountMilli: ap.AmountMilli, BalanceAfterMilli: bal,
		Reason: "approval:" + ap.RequestID + ": " + ap.Reason}, d, "")
	return nil
}

// DecidedBody is the body of an already_decided refusal: the winner.
type DecidedBody struct {
	RequestID       string `json:"request_id"`
	Status          string `json:"status"`
	DecisionEventID string `json:"decision_event_id"`
	DecidedBy       string `json:"decided_by,omitempty"`
	Version         int    `json:"version"`
}

// pending returns the request if it can still be decided. An overdue
// request is expired right here (lazy expiry), in the same plan.
func pending(v View, p *plan, in DecisionInput, now time.Time) (projection.Approval, bool, error) {
	ap, ok := v.Approval(in.RequestID)
	if !ok {
		if t, old := v.DecidedTombstone(in.RequestID); old {
			return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: in.RequestID, Status: t.Status,
				DecisionEventID: t.DecisionEventID, DecidedBy: t.DecidedBy, Version: t.Version},
				"approval %q was already %s by %s (event %s)", in.RequestID, t.Status, orSystem(t.DecidedBy), t.DecisionEventID)
		}
		return ap, false, v.unknown("approval", in.RequestID)
	}
	if ap.Status != projection.StatusPending {
		return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},
			"approval %q was already %s by %s (event %s)", ap.RequestID, ap.Status, orSystem(ap.DecidedBy), ap.DecisionEventID)
	}
	if !now.Before(ap.ExpiresAt) {
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: ap.RequestID, Version: ap.Version}, -1, ap.RequestEventID)
		return ap, true, nil
	}
	if in.ExpectedVersion != 0 && in.ExpectedVersion != ap.Version {
		return ap, false, refuse(CodeVersionMismatch, DecidedBody{RequestID: ap.RequestID, Status: ap.Status, Version: ap.Version},
			"approval %q is at version %d, not %d", ap.RequestID, ap.Version, in.ExpectedVersion)
	}
	return ap, false, nil
}

func orSystem(s string) string {
	if s == "" {
		return "the system"
	}
	return s
}

// expiredRefusal is the answer to a decision that came too late: the
// command wrote approval.expired instead, and once that is committed the
// caller gets already_decided with status expired.
func expiredRefusal(ap projection.Approval) error {
	return refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: projection.StatusExpired, Version: ap.Version + 1},
		"approval %q expired at %s and can no longer be decided", ap.RequestID, ap.ExpiresAt.Format(time.RFC3339))
}

// Approve records an approval by req.ActorID. The first terminal decision
// wins; the gated action executes exactly once, in the same transaction.
func (e *Engine) Approve(ctx context.Context, req Request, in DecisionInput) (Result, error) {
	return e.decide(ctx, req, in, true)
}

// Reject records a rejection by req.ActorID.
func (e *Engine) Reject(ctx context.Context, req Request, in DecisionInput) (Result, error) {
	return e.decide(ctx, req, in, false)
}

func (e *Engine) decide(ctx context.Context, req Request, in DecisionInput, approve bool) (Result, error) {
	if err := validID("approver_id", req.ActorID); err != nil {
		return Result{}, err
	}
	if err := validText("justification", in.Justification); err != nil {
		return Result{}, err
	}
	d := decisionRequest{DecisionInput: in, DeciderID: req.ActorID, Approve: approve}
	var expired *projection.Approval
	res, err := e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		p, exp, err := decideRule(v, d, now)
		expired = exp // the committer ran it: execute returns after
		return p, err
	})
	if err == nil && expired != nil {
		return Result{}, expiredRefusal(*expired)
	}
	return res, err
}

// decisionRequest is the input of decideRule.
type decisionRequest struct {
	DecisionInput
	DeciderID string
	Approve   bool
}

// decideRule records an approval, a vote or a rejection by in.DeciderID;
// the decision that completes the approvals executes the gated action in
// the same plan. A request past its deadline is expired instead: the plan
// writes approval.expired and expired names the request, whose caller is
// answered already_decided once that is committed.
func decideRule(v View, in decisionRequest, now time.Time) (_ *plan, expired *projection.Approval, _ error) {
	p := &plan{}
	ap, exp, err := pending(v, p, in.DecisionInput, now)
	if err != nil {
		return nil, nil, err
	}
	if exp {
		return p, &ap, nil
	}
	if ap.RequesterID == in.DeciderID {
		return nil, nil, refuse(CodeFourEyes, nil, "the requester %q may not decide their own request %q", in.DeciderID, ap.RequestID)
	}
	if !in.Approve {
		p.addCaused(event.ApprovalRejected, event.Decision{RequestID: ap.RequestID, DeciderID: in.DeciderID,
			Justification: in.Justification, Version: ap.Version}, -1, ap.RequestEventID)
		return p, nil, nil
	}
	if (ap.RiskLevel == RiskHigh || ap.RiskLevel == RiskCritical) && in.Justification == "" {
		return nil, nil, refuse(CodeJustificationRequired, nil, "a %s approval needs a justification", ap.RiskLevel)
	}
	votes := 0
	for _, vote := range ap.Votes {
		if vote.EventType == event.ApprovalVoteRecorded {
			if vote.DeciderID == in.DeciderID {
				return nil, nil, refuse(CodeDuplicateApprover, nil,
					"%q already approved %q; a %s request needs %d distinct approvers", in.DeciderID, ap.RequestID, ap.RiskLevel, ap.RequiredApprovals)
			}
			votes++
		}
	}
	if votes+1 < ap.RequiredApprovals {
		p.addCaused(event.ApprovalVoteRecorded, event.Decision{RequestID: ap.RequestID, DeciderID: in.DeciderID,
			Justification: in.Justification, Version: ap.Version}, -1, ap.RequestEventID)
		return p, nil, nil
	}
	a, err := v.agent(ap.AgentID)
	if err != nil {
		return nil, nil, err
	}
	// The decision's own causation is the request; execution chains the
	// credit event to the decision.
	before := len(p.events)
	if err := execution(p, ap.Approval, a, -1, in.DeciderID, in.Justification, ap.Version); err != nil {
		return nil, nil, err
	}
	p.events[before].cause = ap.RequestEventID
	return p, nil, nil
}

// ExpireDue writes approval.expired for every pending request past its
// deadline and returns how many it expired.
func (e *Engine) ExpireDue(ctx context.Context) (int, error) {
	res, err := e.execute(ctx, Request{ActorID: "system:expiry"}, expireDueRule)
	if err == errNothingToDo {
		return 0, nil
	}
	return len(res.Events), err
}

// expireDueRule expires every pending request whose deadline is at or
// before now; with none due it is errNothingToDo (nothing is written).
func expireDueRule(v View, now time.Time) (*plan, error) {
	ids := v.PendingExpiringBefore(now)
	if len(ids) == 0 {
		return nil, errNothingToDo
	}
	p := &plan{}
	for _, id := range ids {
		ap, _ := v.Approval(id)
		p.addCaused(event.ApprovalExpired, event.Decision{RequestID: id, Version: ap.Version}, -1, ap.RequestEventID)
	}
	return p, nil
}

var errNothingToDo = fmt.Errorf("engine: nothing to do")

func (e *Engine) sweepLoop() {
	defer e.sweeping.Done()
	t := time.NewTicker(e.cfg.Approval.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-e.life.Done():
			return
		case <-t.C:
			// Bounded: a store that does not answer must not stall the
			// sweeper past its next tick, nor Close.
			ctx, cancel := context.WithTimeout(e.life, max(e.cfg.Approval.SweepInterval, time.Second))
			n, err := e.ExpireDue(ctx)
			cancel()
			if err != nil {
				if err != ErrClosed && e.life.Err() == nil {
					e.log.Warn("approval expiry sweep failed", "err", err)
				}
			} else if n > 0 {
				e.log.Info("approvals expired", "count", n)
			}
		}
	}
}

// Approval returns one request. A decided request evicted from memory is
// folded back from the journal.
func (e *Engine) Approval(id string) (projection.Approval, error) {
	var ap projection.Approval
	var ok, evicted bool
	if err := e.read(func(st *projection.State) {
		ap, ok = st.Approval(id)
		_, evicted = st.DecidedTombstone(id)
	}); err != nil {
		return ap, err
	}
	if !ok && evicted {
		trail := projection.NewApprovalTrail(id)
		if err := e.iterate(0, func(_ []byte, ev *event.Envelope) bool { trail.Apply(ev); return true }); err != nil {
			return ap, err
		}
		ap, ok = trail.Result()
	}
	if !ok {
		return ap, e.unknown("approval", id)
	}
	return ap, nil
}

// Approvals lists requests by status ("" = all).
func (e *Engine) Approvals(status string) ([]projection.Approval, error) {
	var out []projection.Approval
	err := e.read(func(st *projection.State) { out = st.Approvals(status) })
	return out, err
}

// AuditApprovals returns every request with at least one decision, newest
// last, and at least the newest `newest` decided ones: when memory keeps
// fewer (decided requests beyond Projection.DecidedKeep are evicted), the
// journal is folded again into a scratch projection that keeps that many.
func (e *Engine) AuditApprovals(newest int) ([]projection.Approval, error) {
	var out []projection.Approval
	var evicted int
	err := e.read(func(st *projection.State) {
		out = st.Approvals("")
		evicted = st.EvictedDecided()
	})
	if err != nil || evicted == 0 || newest <= e.cfg.Projection.DecidedKeepOrDefault() {
		return decidedOnly(out), err
	}
	cfg := e.cfg.Projection
	cfg.DecidedKeep = newest
	scratch := projection.New(cfg)
	var ferr error
	if err := e.iterate(0, func(_ []byte, ev *event.Envelope) bool {
		ferr = scratch.Apply(ev)
		return ferr == nil
	}); err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	return decidedOnly(scratch.Approvals("")), nil
}

// decidedOnly drops requests nobody has voted on yet.
func decidedOnly(all []projection.Approval) []projection.Approval {
	out := all[:0]
	for _, a := range all {
		if a.Status != projection.StatusPending || len(a.Votes) > 0 {
			out = append(out, a)
		}
	}
	return out
}
