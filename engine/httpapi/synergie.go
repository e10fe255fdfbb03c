package httpapi

import (
	"context"
	"net/http"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

type collaborationBody struct {
	Keyed
	CollaborationID    string             `json:"collaboration_id"`
	TeamID             string             `json:"team_id"`
	MissionID          string             `json:"mission_id,omitempty"`
	AgentIDs           []string           `json:"agent_ids"`
	ContributionScores map[string]float64 `json:"contribution_scores"`
	ActorID            string             `json:"actor_id,omitempty"`
}

func (s *Server) collaboration(w http.ResponseWriter, r *http.Request) {
	var b collaborationBody
	s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			return s.eng.RecordCollaboration(ctx, req, engine.CollaborationInput{CollaborationID: b.CollaborationID,
				TeamID: b.TeamID, MissionID: b.MissionID, AgentIDs: b.AgentIDs, ContributionScores: b.ContributionScores})
		},
		render: func(res engine.Result) (int, any) {
			if len(res.Events) == 0 {
				return http.StatusOK, map[string]any{"collaboration_id": b.CollaborationID, "duplicate": true, "rewards": []any{}}
			}
			rewards := []map[string]any{}
			for i, ev := range res.Events[1:] {
				p := payloadOf[event.Reward](res, i+1)
				kind := "granted"
				if ev.EventType == event.SynergieRewardCapped {
					kind = "capped"
				}
				rewards = append(rewards, map[string]any{"agent_id": p.AgentID, "kind": kind, "amount": money.Credits(p.AmountMilli),
					"karma_score": p.KarmaScore, "event_id": ev.EventID, "metadata": metaView(ev)})
			}
			return http.StatusCreated, map[string]any{"collaboration_id": b.CollaborationID, "duplicate": false,
				"event_id": res.Primary().EventID, "rewards": rewards}
		}})
}

func (s *Server) synergie(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	accs, err := s.eng.SynergieOf(id)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	teams := []map[string]any{}
	var granted, capped int64
	for _, a := range accs {
		granted += a.GrantedMilli
		capped += a.CappedMilli
		teams = append(teams, map[string]any{"team_id": a.TeamID, "granted": money.Credits(a.GrantedMilli),
			"capped": money.Credits(a.CappedMilli), "rewards": a.Rewards})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "teams": teams,
		"total_granted": money.Credits(granted), "total_capped": money.Credits(capped)})
}
