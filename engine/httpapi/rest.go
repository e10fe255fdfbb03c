package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

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
			for _, ev := range res.Events[1:] {
				var p event.Reward
				_ = json.Unmarshal(ev.Payload, &p)
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
		var payload any
		_ = json.Unmarshal(ev.Payload, &payload)
		return status, map[string]any{"event_id": ev.EventID, "event_type": ev.EventType, "payload": payload, "events": len(res.Events)}
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

func (s *Server) eoc(w http.ResponseWriter, r *http.Request) {
	snap, err := s.eng.EoC()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *Server) karmaStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.eng.KarmaStatus())
}

// Journal export limits: a slow or stalled reader must never hold the
// journal (its read lock blocks Close, hence shutdown) nor pin memory.
const (
	// MaxExports is how many GET /events run at once; more get 503.
	MaxExports = 8
	// exportWriteTimeout bounds the network write of one chunk.
	exportWriteTimeout = 15 * time.Second
	exportChunkLines   = 4096
	exportChunkBytes   = 1 << 20
)

// events streams the journal as JSONL in seq order (durable lines only). It
// copies a bounded chunk out of the journal, releases it, then writes the
// chunk under a write deadline, and resumes after the chunk's last seq: the
// journal's read lock is never held across a network write, so a client
// that stops reading delays neither appends nor Close, and is cut off after
// exportWriteTimeout.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseUint(or(r.URL.Query().Get("after_seq"), "0"), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		s.writeError(w, &apiError{http.StatusUnprocessableEntity, "invalid", "after_seq must be a non-negative integer"})
		return
	}
	// A seq is an int64 in every store (a database casts it): beyond that
	// the request is malformed, not "everything from seq 1".
	if err != nil || after > math.MaxInt64 {
		s.writeError(w, &apiError{http.StatusBadRequest, "bad_request", "after_seq must be at most 9223372036854775807"})
		return
	}
	limit, aerr := pathInt(r, "limit", 10_000, 1, 1_000_000)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	select {
	case s.exports <- struct{}{}:
		defer func() { <-s.exports }()
	default:
		w.Header().Set("Retry-After", "1")
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "too_many_exports",
			fmt.Sprintf("at most %d journal exports run at once; retry later", MaxExports)})
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	var chunk []byte
	n, next, wrote := 0, after, false
	for n < limit && r.Context().Err() == nil {
		chunk = chunk[:0]
		lines := 0
		ierr := s.eng.Events(next, func(line []byte, ev *event.Envelope) bool {
			chunk = append(chunk, line...)
			next = ev.Seq
			lines++
			n++
			return n < limit && lines < exportChunkLines && len(chunk) < exportChunkBytes
		})
		if ierr != nil && !wrote && lines == 0 {
			s.writeEngineError(w, r, ierr)
			return
		}
		if lines == 0 {
			break
		}
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
		if _, err := w.Write(chunk); err != nil {
			return // the client is gone or too slow: stop, holding nothing
		}
		wrote = true
		//mutant:events-next-chunk
		if ierr != nil || (lines < exportChunkLines && len(chunk) < exportChunkBytes) {
			break // the journal ended (or failed) inside this chunk
		}
	}
}

func (s *Server) digest(w http.ResponseWriter, r *http.Request) {
	seq, d, err := s.eng.Digest()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": seq, "digest": d})
}

func (s *Server) verify(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.eng.Recovery())
}
