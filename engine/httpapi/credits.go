package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

type agentBody struct {
	Keyed
	AgentID    string   `json:"agent_id"`
	SkillLevel *float64 `json:"skill_level"`
	ActorID    string   `json:"actor_id,omitempty"`
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var b agentBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			skill := 0.5
			if b.SkillLevel != nil {
				skill = *b.SkillLevel
			}
			return s.eng.CreateAgent(ctx, req, b.AgentID, skill)
		},
		render: func(res engine.Result) (int, any) {
			a := payloadOf[event.Agent](res, 0)
			balance := int64(0)
			if len(res.Events) > 1 {
				balance = payloadOf[event.Credit](res, 1).BalanceAfterMilli
			}
			// 200 as the original answers (SPEC §6), not 201.
			return http.StatusOK, map[string]any{"agent_id": a.AgentID, "skill_level": a.SkillLevel,
				"initial_credits": money.Credits(balance), "balance": money.Credits(balance),
				"event_id": res.Primary().EventID, "created_at": res.Primary().Timestamp}
		}})
}

type creditBody struct {
	Keyed
	AgentID   string  `json:"agent_id"`
	Amount    *number `json:"amount"`
	Reason    string  `json:"reason"`
	MissionID string  `json:"mission_id,omitempty"`
	ActorID   string  `json:"actor_id,omitempty"`
}

// payloadOf is the typed payload of a result's i-th event (the engine
// hands them over typed: engine.Result.Payloads); nothing is decoded here.
func payloadOf[T any](res engine.Result, i int) T {
	var v T
	if i < len(res.Payloads) {
		v, _ = res.Payloads[i].(T)
	}
	return v
}

// creditView is the original response shape plus event_id and metadata of
// the result's i-th event, a credit.* event.
func creditView(res engine.Result, i int) map[string]any {
	ev, c := res.Events[i], payloadOf[event.Credit](res, i)
	return map[string]any{"agent_id": c.AgentID, "amount": money.Credits(c.AmountMilli),
		"balance_after": money.Credits(c.BalanceAfterMilli), "reason": c.Reason, "mission_id": nilIfEmpty(c.MissionID),
		"event_id": ev.EventID, "event_type": ev.EventType, "timestamp": ev.Timestamp.Format(time.RFC3339Nano),
		"metadata": metaView(ev)}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) credit(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b creditBody
		var in engine.CreditInput
		s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				amount, aerr := s.amount("amount", b.Amount)
				if aerr != nil {
					return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: aerr.detail}
				}
				in = engine.CreditInput{AgentID: b.AgentID, AmountMilli: amount, Reason: b.Reason, MissionID: b.MissionID}
				switch op {
				case "consume":
					return s.eng.Consume(ctx, req, in)
				case "refund":
					return s.eng.Refund(ctx, req, in)
				case "add":
					return s.eng.Add(ctx, req, in)
				default:
					return s.eng.Withdraw(ctx, req, in)
				}
			},
			render: renderCreditOrApproval})
	}
}

// renderCreditOrApproval renders a credit result, or the 202 of a gated
// add/withdraw.
func renderCreditOrApproval(res engine.Result) (int, any) {
	if res.Primary().EventType == event.ApprovalRequested {
		return renderApprovalRequest(res)
	}
	return http.StatusOK, creditView(res, 0)
}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	b, err := s.eng.Balance(id)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "balance": money.Credits(b), "balance_milli": b})
}

func (s *Server) balances(w http.ResponseWriter, r *http.Request) {
	all, err := s.eng.Balances()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := make(map[string]money.Credits, len(all))
	for id, b := range all {
		out[id] = money.Credits(b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"balances": out, "total_agents": len(out), "count": len(out)})
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	limit, aerr := pathInt(r, "limit", 50, 1, engine.MaxHistoryLimit)
	if aerr == nil {
		var off int
		off, aerr = pathInt(r, "offset", 0, 0, 1<<30)
		if aerr == nil {
			entries, total, err := s.eng.HistoryPage(id, off, limit)
			if err != nil {
				s.writeEngineError(w, r, err)
				return
			}
			out := make([]map[string]any, len(entries))
			for i, e := range entries {
				// entity_id/entity_type are the original's names for whose
				// ledger this is; amount is signed (consumes negative).
				out[i] = map[string]any{"event_id": e.EventID, "event_type": e.EventType, "seq": e.Seq,
					"timestamp": e.Timestamp.Format(time.RFC3339Nano), "entity_id": id, "entity_type": "agent",
					"amount": money.Credits(e.AmountMilli), "balance_after": money.Credits(e.BalanceAfterMilli),
					"reason": e.Reason, "mission_id": nilIfEmpty(e.MissionID)}
			}
			writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "history": out, "total_entries": total,
				"count": len(out), "offset": off, "limit": limit})
			return
		}
	}
	s.writeError(w, aerr)
}
