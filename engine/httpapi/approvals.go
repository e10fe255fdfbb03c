package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

type approvalBody struct {
	Keyed
	ActionType    string  `json:"action_type"`
	AgentID       string  `json:"agent_id"`
	Amount        *number `json:"amount"`
	Reason        string  `json:"reason"`
	Justification string  `json:"justification,omitempty"`
	RequesterID   string  `json:"requester_id,omitempty"`
}

func (s *Server) requestApproval(w http.ResponseWriter, r *http.Request) {
	var b approvalBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return b.RequesterID },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			amount, aerr := s.amount("amount", b.Amount)
			if aerr != nil {
				return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: aerr.detail}
			}
			return s.eng.RequestApproval(ctx, req, engine.ApprovalInput{ActionType: b.ActionType, AgentID: b.AgentID,
				AmountMilli: amount, Reason: b.Reason, Justification: b.Justification})
		},
		render: renderApprovalRequest})
}

// renderApprovalRequest renders approval.requested (and, for LOW, its
// immediate execution) as 202 — or 200 when auto-approved.
func renderApprovalRequest(res engine.Result) (int, any) {
	a := payloadOf[event.Approval](res, 0)
	body := map[string]any{"request_id": a.RequestID, "status": projection.StatusPending, "risk_level": a.RiskLevel,
		"version": 1, "action_type": a.ActionType, "agent_id": a.AgentID, "amount": money.Credits(a.AmountMilli),
		"reason": a.Reason, "requester_id": a.RequesterID, "required_approvals": a.RequiredApprovals,
		"expires_at": a.ExpiresAt, "event_id": res.Primary().EventID}
	if len(res.Events) >= 3 { // LOW: approved and executed in the same transaction
		body["status"] = projection.StatusApproved
		body["version"] = 2
		body["decision_event_id"] = res.Events[1].EventID
		body["executed"] = creditView(res, 2)
		return http.StatusOK, body
	}
	return http.StatusAccepted, body
}

type decisionBody struct {
	Keyed
	ApproverID      string `json:"approver_id,omitempty"`
	Justification   string `json:"justification,omitempty"`
	Reason          string `json:"reason,omitempty"`
	ExpectedVersion int    `json:"expected_version,omitempty"`
}

func (s *Server) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b decisionBody
		id := r.PathValue("id")
		s.mutate(w, r, mutation{access: accessDecide, body: &b, actor: func() string { return b.ApproverID },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				in := engine.DecisionInput{RequestID: id, Justification: or(b.Justification, b.Reason), ExpectedVersion: b.ExpectedVersion}
				if v := r.Header.Get("If-Match"); v != "" && in.ExpectedVersion == 0 {
					// The version bare (3) or as an entity tag ("3", RFC 9110).
					if err := json.Unmarshal([]byte(strings.Trim(v, `"`)), &in.ExpectedVersion); err != nil {
						return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "If-Match must be the request version (an integer)"}
					}
				}
				if approve {
					return s.eng.Approve(ctx, req, in)
				}
				return s.eng.Reject(ctx, req, in)
			},
			render: func(res engine.Result) (int, any) { return renderDecision(res) }})
	}
}

func renderDecision(res engine.Result) (int, any) {
	ev := res.Primary()
	d := payloadOf[event.Decision](res, 0)
	status := map[string]string{event.ApprovalApproved: projection.StatusApproved, event.ApprovalRejected: projection.StatusRejected,
		event.ApprovalVoteRecorded: projection.StatusPending, event.ApprovalExpired: projection.StatusExpired}[ev.EventType]
	body := map[string]any{"request_id": d.RequestID, "status": status, "decision": ev.EventType,
		"decision_event_id": ev.EventID, "decided_by": d.DeciderID, "version": d.Version + 1}
	if ev.EventType == event.ApprovalExpired {
		body["code"] = string(engine.CodeAlreadyDecided)
		body["detail"] = "the request expired before this decision"
		return http.StatusConflict, body
	}
	if len(res.Events) > 1 {
		body["executed"] = creditView(res, 1)
	}
	return http.StatusOK, body
}

func approvalView(a projection.Approval) map[string]any {
	return map[string]any{"request_id": a.RequestID, "status": a.Status, "risk_level": a.RiskLevel, "version": a.Version,
		"action_type": a.ActionType, "agent_id": a.AgentID, "amount": money.Credits(a.AmountMilli), "reason": a.Reason,
		"justification": a.Justification, "requester_id": a.RequesterID, "required_approvals": a.RequiredApprovals,
		"created_at": a.CreatedAt, "expires_at": a.ExpiresAt, "request_event_id": a.RequestEventID,
		"decisions": a.Votes, "decision_event_id": nilIfEmpty(a.DecisionEventID), "decided_by": nilIfEmpty(a.DecidedBy),
		"executed_event_id": nilIfEmpty(a.ExecutedEventID)}
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	switch status {
	case "", projection.StatusPending, projection.StatusApproved, projection.StatusRejected, projection.StatusExpired:
	default:
		s.writeError(w, &apiError{http.StatusUnprocessableEntity, "invalid", "status must be pending, approved, rejected or expired"})
		return
	}
	limit, aerr := pathInt(r, "limit", 100, 1, 1000)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	all, err := s.eng.Approvals(status)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := []map[string]any{}
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- { // newest first
		out = append(out, approvalView(all[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvals": out, "count": len(out), "total": len(all)})
}

func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) {
	a, err := s.eng.Approval(r.PathValue("id"))
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, approvalView(a))
}

// audit lists decided requests with every decision event id, newest first.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	limit, aerr := pathInt(r, "limit", 100, 1, 100_000)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	all, err := s.eng.AuditApprovals(limit)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := []map[string]any{}
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		a := all[i]
		ids := make([]string, len(a.Votes))
		for j, v := range a.Votes {
			ids[j] = v.EventID
		}
		v := approvalView(a)
		v["decision_event_ids"] = ids
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": out, "count": len(out)})
}
