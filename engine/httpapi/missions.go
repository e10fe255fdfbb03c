package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

// One body struct per mission route, as for the pools (pools.go).
type missionStartBody struct {
	Keyed
	MissionID   string `json:"mission_id,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	MissionType string `json:"mission_type,omitempty"`
	Complexity  string `json:"complexity,omitempty"`
	ActorID     string `json:"actor_id,omitempty"`
}

// missionEndBody serves complete, fail and cancel.
type missionEndBody struct {
	Keyed
	ActualCost *number `json:"actual_cost,omitempty"`
	ActorID    string  `json:"actor_id,omitempty"`
}

type missionRateBody struct {
	Keyed
	Rating  *float64 `json:"rating,omitempty"`
	ActorID string   `json:"actor_id,omitempty"`
}

func (s *Server) startMission(w http.ResponseWriter, r *http.Request) {
	var b missionStartBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.StartMission(ctx, req, engine.MissionInput{MissionID: b.MissionID, AgentID: b.AgentID,
				MissionType: b.MissionType, Complexity: b.Complexity})
		}, render: renderEvent(http.StatusCreated)})
}

func (s *Server) endMission(typ event.Type) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b missionEndBody
		s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				var actual int64
				if b.ActualCost != nil {
					// Zero is allowed in any spelling: 0, 0.0, 0e0.
					m, err := money.ParseNonNegative(json.Number(*b.ActualCost), s.maxAmount)
					if err != nil {
						return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "actual_cost " + err.Error()}
					}
					actual = m
				}
				return s.eng.EndMission(ctx, req, typ, engine.MissionInput{MissionID: r.PathValue("id"), ActualMilli: actual})
			}, render: renderEvent(http.StatusOK)})
	}
}

func (s *Server) rateMission(w http.ResponseWriter, r *http.Request) {
	var b missionRateBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			if b.Rating == nil {
				return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "rating is required"}
			}
			return s.eng.RateMission(ctx, req, engine.MissionInput{MissionID: r.PathValue("id"), Rating: *b.Rating})
		}, render: renderEvent(http.StatusOK)})
}

func (s *Server) getMission(w http.ResponseWriter, r *http.Request) {
	m, err := s.eng.Mission(r.PathValue("id"))
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"mission_id": m.MissionID, "agent_id": m.AgentID, "status": m.Status,
		"mission_type": m.MissionType, "complexity": m.Complexity, "estimate": money.Credits(m.EstimateMilli),
		"consumed": money.Credits(m.ConsumedMilli), "refunded": money.Credits(m.RefundedMilli), "rating": m.Rating})
}
