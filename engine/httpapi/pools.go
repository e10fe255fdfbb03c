package httpapi

import (
	"context"
	"net/http"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

// Each pool and mission route decodes into its own struct, so a field of a
// sibling route (to_pool_id on consume, rating on complete...) is refused
// as unknown (422 naming it) instead of being ignored. Field order and
// omitempty match the shared struct they replace, so request fingerprints
// of stored idempotency keys are unchanged.

type poolCreateBody struct {
	Keyed
	PoolID  string   `json:"pool_id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Members []string `json:"members,omitempty"`
	ActorID string   `json:"actor_id,omitempty"`
}

type poolMemberBody struct {
	Keyed
	AgentID string `json:"agent_id,omitempty"`
	ActorID string `json:"actor_id,omitempty"`
}

// poolActorBody is the body of DELETE .../members/{agent_id}: the agent is
// in the path.
type poolActorBody struct {
	Keyed
	ActorID string `json:"actor_id,omitempty"`
}

// poolMoveBody serves allocate, consume and refund.
type poolMoveBody struct {
	Keyed
	AgentID string  `json:"agent_id,omitempty"`
	Amount  *number `json:"amount,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	ActorID string  `json:"actor_id,omitempty"`
}

type poolTransferBody struct {
	Keyed
	ToPoolID string  `json:"to_pool_id,omitempty"`
	Amount   *number `json:"amount,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	ActorID  string  `json:"actor_id,omitempty"`
}

type poolCloseBody struct {
	Keyed
	RefundTo string `json:"refund_to,omitempty"`
	ActorID  string `json:"actor_id,omitempty"`
}

func renderEvent(status int) func(res engine.Result) (int, any) {
	return func(res engine.Result) (int, any) {
		ev := res.Primary()
		return status, map[string]any{"event_id": ev.EventID, "event_type": ev.EventType, "payload": payloadOf[any](res, 0), "events": len(res.Events)}
	}
}

func (s *Server) createPool(w http.ResponseWriter, r *http.Request) {
	var b poolCreateBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.CreatePool(ctx, req, engine.PoolInput{PoolID: b.PoolID, Name: b.Name, Members: b.Members})
		}, render: renderEvent(http.StatusCreated)})
}

func (s *Server) addPoolMember(w http.ResponseWriter, r *http.Request) {
	var b poolMemberBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.PoolMember(ctx, req, engine.PoolInput{PoolID: r.PathValue("id"), AgentID: b.AgentID}, true)
		}, render: renderEvent(http.StatusOK)})
}

func (s *Server) removePoolMember(w http.ResponseWriter, r *http.Request) {
	var b poolActorBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.PoolMember(ctx, req, engine.PoolInput{PoolID: r.PathValue("id"), AgentID: r.PathValue("agent_id")}, false)
		}, render: renderEvent(http.StatusOK)})
}

// poolMove serves allocate, consume and refund.
func (s *Server) poolMove(typ event.Type) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b poolMoveBody
		s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				amount, aerr := s.amount("amount", b.Amount)
				if aerr != nil {
					return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: aerr.detail}
				}
				return s.eng.PoolMove(ctx, req, typ, engine.PoolInput{PoolID: r.PathValue("id"), AgentID: b.AgentID,
					AmountMilli: amount, Reason: b.Reason})
			}, render: renderEvent(http.StatusOK)})
	}
}

func (s *Server) poolTransfer(w http.ResponseWriter, r *http.Request) {
	var b poolTransferBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			amount, aerr := s.amount("amount", b.Amount)
			if aerr != nil {
				return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: aerr.detail}
			}
			return s.eng.PoolMove(ctx, req, event.PoolTransferred, engine.PoolInput{PoolID: r.PathValue("id"),
				ToPoolID: b.ToPoolID, AmountMilli: amount, Reason: b.Reason})
		}, render: renderEvent(http.StatusOK)})
}

func (s *Server) closePool(w http.ResponseWriter, r *http.Request) {
	var b poolCloseBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.ClosePool(ctx, req, engine.PoolInput{PoolID: r.PathValue("id"), AgentID: b.RefundTo})
		}, render: renderEvent(http.StatusOK)})
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request) {
	p, err := s.eng.Pool(r.PathValue("id"))
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	members := []string{}
	for m := range p.Members {
		members = append(members, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"pool_id": p.ID, "name": p.Name, "balance": money.Credits(p.BalanceMilli),
		"members": members, "closed": p.Closed})
}
