package specbackend

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

const api = "/api/credits"

// Version of this backend.
const Version = "spec-backend/1.0"

func (s *Server) routeTable() []route {
	G, P, D := http.MethodGet, http.MethodPost, http.MethodDelete
	return []route{
		{G, "/api/health", "health (liveness + components)", authPublic, s.health},
		{G, "/livez", "liveness", authPublic, s.livez},
		{G, "/readyz", "readiness", authPublic, s.readyz},
		{G, "/metrics", "Prometheus text metrics", authPublic, func(rc *reqCtx) *Response { s.prometheus(rc.w); return nil }},
		{G, "/openapi.json", "this OpenAPI document", authPublic, s.openapi},
		{G, api + "/openapi.json", "this OpenAPI document", authPublic, s.openapi},
		{G, api + "/health", "health", authPublic, s.health},
		{G, api + "/health/live", "liveness", authPublic, s.livez},
		{G, api + "/health/ready", "readiness", authPublic, s.readyz},
		{G, api + "/info", "service info", authRead, s.info},
		{P, api + "/agents", "create an agent (skill_level x 100 credits)", authMutate, s.createAgent},
		{P, api + "/consume", "consume credits", authMutate, s.money("consume")},
		{P, api + "/refund", "refund credits", authMutate, s.money("refund")},
		{P, api + "/add", "add credits (>= threshold: 202 + approval)", authMutate, s.money("add")},
		{P, api + "/withdraw", "withdraw credits (>= threshold: 202 + approval)", authMutate, s.money("withdraw")},
		{G, api + "/balance/{agent_id}", "one balance", authRead, s.balance},
		{G, api + "/balances", "all balances", authRead, s.balances},
		{G, api + "/history/{agent_id}", "ledger, newest first (?limit=&offset=)", authRead, s.history},
		{G, api + "/metrics", "metrics (JSON, original shape)", authRead, s.metricsJSON},
		{P, api + "/approvals", "request an approval", authMutate, s.requestApproval},
		{G, api + "/approvals", "list approvals (?status=&limit=)", authRead, s.listApprovals},
		{G, api + "/approvals/pending", "pending approvals", authRead, s.pendingApprovals},
		{G, api + "/approvals/audit", "decided requests with decision event ids (?limit=)", authRead, s.audit},
		{G, api + "/approvals/{request_id}", "one approval with its decisions", authRead, s.getApproval},
		{P, api + "/approvals/{request_id}/approve", "approve", authDecide, s.decide(true)},
		{P, api + "/approvals/{request_id}/reject", "reject", authDecide, s.decide(false)},
		{P, api + "/synergie/collaborations", "record a collaboration; pays capped rewards", authMutate, s.collab},
		{G, api + "/synergie/{agent_id}", "an agent's synergie rewards", authRead, s.synergie},
		{G, api + "/eoc", "Edge-of-Chaos score", authRead, s.eocView},
		{G, api + "/karma/status", "KARMA client status", authRead, s.karmaStatus},
		{P, api + "/pools", "create a pool", authMutate, s.pool("create")},
		{G, api + "/pools", "list pools", authRead, s.listPools},
		{G, api + "/pools/{pool_id}", "one pool", authRead, s.getPool},
		{P, api + "/pools/{pool_id}/members", "add a member {agent_id}", authMutate, s.pool("add_member")},
		{D, api + "/pools/{pool_id}/members/{agent_id}", "remove a member", authMutate, s.pool("remove_member")},
		{P, api + "/pools/{pool_id}/allocate", "allocate {amount, from_agent_id?}", authMutate, s.pool("allocate")},
		{P, api + "/pools/{pool_id}/consume", "member consumes {agent_id, amount}", authMutate, s.pool("consume")},
		{P, api + "/pools/{pool_id}/refund", "refund into the pool {amount}", authMutate, s.pool("refund")},
		{P, api + "/pools/{pool_id}/transfer", "transfer {to_pool_id, amount}", authMutate, s.pool("transfer")},
		{P, api + "/pools/{pool_id}/close", "close; remainder to {agent_id}", authMutate, s.pool("close")},
		{P, api + "/missions", "start a mission (consumes the estimate)", authMutate, s.mission("start")},
		{G, api + "/missions/{mission_id}", "one mission", authRead, s.getMission},
		{P, api + "/missions/{mission_id}/complete", "complete {actual_cost}", authMutate, s.mission("complete")},
		{P, api + "/missions/{mission_id}/fail", "fail {refund_percentage?}", authMutate, s.mission("fail")},
		{P, api + "/missions/{mission_id}/cancel", "cancel (refund 100%)", authMutate, s.mission("cancel")},
		{G, api + "/events", "journal as JSONL (?after_seq=&limit=)", authRead, s.events},
		{G, api + "/digest", "state digest", authRead, s.digest},
		{G, api + "/journal/verify", "recovery / verification report", authRead, s.verify},
	}
}

func nowISO(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (s *Server) health(rc *reqCtx) *Response {
	status, j, k := s.e.Health()
	if rc.route == "GET "+api+"/health" && j == "degraded" && s.e.cfg.Defects.Has(DefectH13CreditsHealthIgnoresRecovery) {
		// defect: the original's route answers from the live journal state only
		j = "ok"
		if ks := s.e.karma.status(); !ks.Configured || k == "healthy" {
			status = "ok"
		}
	}
	code := 200
	if status == "failed" {
		code = 503
	}
	karma := k
	if ks := s.e.karma.status(); !ks.Configured {
		karma = "not_configured"
	} else if k != "healthy" {
		karma = "degraded"
	}
	return &Response{Status: code, Body: map[string]any{"status": status, "timestamp": nowISO(s.e.cfg.Clock()),
		"components": map[string]any{"journal": j, "karma": karma}, "journal": j, "karma": karma, "version": Version}}
}

func (s *Server) livez(rc *reqCtx) *Response {
	return ok200(map[string]any{"status": "ok", "timestamp": nowISO(s.e.cfg.Clock())})
}

func (s *Server) readyz(rc *reqCtx) *Response {
	if !s.e.Ready() {
		return &Response{Status: 503, Body: map[string]any{"detail": "not ready (journal failed or shutting down)", "code": "not_ready", "status": "not_ready"}}
	}
	return ok200(map[string]any{"status": "ready", "timestamp": nowISO(s.e.cfg.Clock())})
}

func (s *Server) info(rc *reqCtx) *Response {
	var total int64
	s.e.view(func(st *State) { total = st.Seq })
	return ok200(map[string]any{"name": "spec-backend (creditgate second implementation)", "version": Version,
		"config": map[string]any{"event_sourcing_enabled": true, "event_sourcing_metrics": map[string]any{"total_events": total,
			"fsync": !s.e.cfg.NoFsync, "recovery_mode": s.e.cfg.Recovery}}})
}

func (s *Server) createAgent(rc *reqCtx) *Response {
	if ae := rc.decode(); ae != nil {
		return errResp(ae)
	}
	id, ae := rc.str("agent_id", true, true)
	if ae != nil {
		return errResp(ae)
	}
	skill, ae := rc.unit("skill_level", true)
	if ae != nil {
		return errResp(ae)
	}
	r, ae := rc.req("actor_id", false)
	if ae != nil {
		return errResp(ae)
	}
	return s.e.CreateAgent(r, CreateAgentIn{AgentID: id, SkillPPM: *skill})
}

func (s *Server) money(kind string) func(*reqCtx) *Response {
	return func(rc *reqCtx) *Response {
		if ae := rc.decode(); ae != nil {
			return errResp(ae)
		}
		var in MoneyIn
		var ae *APIError
		if in.AgentID, ae = rc.str("agent_id", true, true); ae != nil {
			return errResp(ae)
		}
		if in.AmountMilli, ae = rc.amount("amount"); ae != nil {
			return errResp(ae)
		}
		if in.Reason, ae = rc.str("reason", false, false); ae != nil {
			return errResp(ae)
		}
		if in.MissionID, ae = rc.optStr("mission_id", true); ae != nil {
			return errResp(ae)
		}
		if in.Justification, ae = rc.str("justification", false, false); ae != nil {
			return errResp(ae)
		}
		r, ae := rc.req("actor_id", false)
		if ae != nil {
			return errResp(ae)
		}
		switch kind {
		case "consume":
			return s.e.Consume(r, in)
		case "refund":
			return s.e.Refund(r, in)
		case "add":
			return s.e.Add(r, in)
		}
		return s.e.Withdraw(r, in)
	}
}

func (s *Server) balance(rc *reqCtx) *Response {
	id, ae := rc.pathID("agent_id")
	if ae != nil {
		return errResp(ae)
	}
	var resp *Response
	s.e.view(func(st *State) {
		a := st.Agents[id]
		if a == nil {
			resp = errResp(notFound("agent", id))
			return
		}
		resp = ok200(map[string]any{"agent_id": id, "balance": formatMilli(a.BalanceMilli), "balance_milli": a.BalanceMilli})
	})
	return resp
}

func (s *Server) balances(rc *reqCtx) *Response {
	out := map[string]any{}
	s.e.view(func(st *State) {
		for id, a := range st.Agents {
			if a.BalanceMilli == 0 && s.e.cfg.Defects.Has(DefectH14BalancesOmitZero) {
				continue // defect: only "active accounts" are listed
			}
			out[id] = formatMilli(a.BalanceMilli)
		}
	})
	return ok200(map[string]any{"balances": out, "total_agents": len(out)})
}

func (s *Server) history(rc *reqCtx) *Response {
	id, ae := rc.pathID("agent_id")
	if ae != nil {
		return errResp(ae)
	}
	limit, ae := rc.queryInt("limit", 100, 1, 1000)
	if ae != nil {
		return errResp(ae)
	}
	offset, ae := rc.queryInt("offset", 0, 0, 1<<40)
	if ae != nil {
		return errResp(ae)
	}
	entries, total, found, truncated, err := s.e.History(id, int(offset), int(limit))
	if !found {
		return errResp(notFound("agent", id))
	}
	if err != nil {
		return errResp(apiErr(503, "journal_unavailable", err.Error()))
	}
	list := []map[string]any{}
	format := formatMilli
	if s.e.cfg.Defects.Has(DefectH13HistoryFractionZeros) {
		format = formatSignedNoPad // defect: a hand-written signed formatter
	}
	for _, le := range entries {
		list = append(list, map[string]any{"event_id": le.EventID, "event_type": le.EventType, "seq": le.Seq, "timestamp": le.Timestamp,
			"entity_id": id, "entity_type": "agent", "amount": format(le.AmountMilli), "balance_after": format(le.BalanceAfterMilli),
			"reason": le.Reason, "mission_id": le.MissionID})
	}
	if s.e.cfg.Defects.Has(DefectH13HistoryTotalRing) {
		total = min(total, int64(s.e.cfg.LedgerKeep)) // defect: the in-memory entries taken for the ledger
	}
	return ok200(map[string]any{"agent_id": id, "history": list, "total_entries": total, "offset": offset, "returned": len(list), "truncated": truncated})
}

func (s *Server) metricsJSON(rc *reqCtx) *Response {
	size, last := s.e.j.durable()
	byType := map[string]int64{}
	s.e.view(func(st *State) {
		for k, v := range st.EventsByType {
			byType[k] = v
		}
	})
	rep := s.e.report
	replayedAt := rep.ReplayedAtUnix
	if s.e.cfg.Defects.Has(DefectH14MetricsReplayTsMillis) {
		replayedAt = math.Round(replayedAt * 1000) // defect: Unix milliseconds
	}
	return ok200(map[string]any{
		"journal": map[string]any{"total_events": last, "file_size_mb": float64(size) / (1 << 20), "idempotency_violations": 0,
			"file_path": s.e.cfg.JournalPath, "fsync_enabled": !s.e.cfg.NoFsync, "batches": s.e.j.batches.Load(), "fsyncs": s.e.j.syncs.Load(),
			"idempotent_replays": s.e.replays.Load(), "idempotency_conflicts": s.e.conflicts.Load()},
		"event_bus": map[string]any{"total_published": s.e.published.Load(), "total_subscriber_errors": 0, "subscribers_by_type": byType},
		"replay": map[string]any{"total_events": rep.EventsReplayed, "replay_duration_seconds": rep.ReplayDurationSeconds,
			"last_replay_timestamp": replayedAt, "integrity_errors_count": len(rep.Quarantined) + rep.IntegrityErrors,
			"snapshot_used": nil, "events_skipped_by_snapshot": 0, "snapshot_restore_duration_seconds": 0},
	})
}

func (s *Server) requestApproval(rc *reqCtx) *Response {
	if ae := rc.decode(); ae != nil {
		return errResp(ae)
	}
	var in ApprovalIn
	var ae *APIError
	if in.ActionType, ae = rc.str("action_type", true, true); ae != nil {
		return errResp(ae)
	}
	if in.ActionType != "add" && in.ActionType != "withdraw" {
		return errResp(fieldErr("action_type", `must be "add" or "withdraw"`))
	}
	if in.AgentID, ae = rc.str("agent_id", true, true); ae != nil {
		return errResp(ae)
	}
	if in.AmountMilli, ae = rc.amount("amount"); ae != nil {
		return errResp(ae)
	}
	if in.Reason, ae = rc.str("reason", false, false); ae != nil {
		return errResp(ae)
	}
	if in.Justification, ae = rc.str("justification", false, false); ae != nil {
		return errResp(ae)
	}
	field := "requester_id"
	if _, ok := rc.raw("requester_id"); !ok {
		field = "actor_id"
	}
	r, ae := rc.req(field, false)
	if ae != nil {
		return errResp(ae)
	}
	return s.e.RequestApproval(r, in)
}

func (s *Server) listFiltered(rc *reqCtx, status string, decidedOnly bool) *Response {
	limit, ae := rc.queryInt("limit", 100, 1, 1000)
	if ae != nil {
		return errResp(ae)
	}
	switch status {
	case "", "all", "pending", "approved", "rejected", "expired":
	default:
		return errResp(fieldErr("status", "must be pending, approved, rejected, expired or all"))
	}
	now := s.e.cfg.Clock()
	list := []map[string]any{}
	total := 0
	s.e.view(func(st *State) {
		for i := len(st.approvalOrder) - 1; i >= 0; i-- {
			v := approvalView(st.Approvals[st.approvalOrder[i]], now)
			if status != "" && status != "all" && v["status"] != status {
				continue
			}
			if status == "pending" && len(st.Approvals[st.approvalOrder[i]].Votes) > 0 && s.e.cfg.Defects.Has(DefectH13PendingListOmitsVoted) {
				continue // defect: a request with a vote is taken for one being decided
			}
			if decidedOnly && st.Approvals[st.approvalOrder[i]].Decision == nil {
				continue
			}
			if decidedOnly && s.e.cfg.Defects.Has(DefectH11AuditOmitsExpired) && st.Approvals[st.approvalOrder[i]].Decision.EventType == "approval.expired" {
				continue // defect: an expiry is not taken for a decision
			}
			total++
			if len(list) < int(limit) {
				list = append(list, v)
			}
		}
	})
	key := "approvals"
	if decidedOnly {
		key = "entries"
	}
	return ok200(map[string]any{key: list, "total": total, "count": len(list)})
}

func (s *Server) listApprovals(rc *reqCtx) *Response {
	return s.listFiltered(rc, rc.r.URL.Query().Get("status"), false)
}
func (s *Server) pendingApprovals(rc *reqCtx) *Response { return s.listFiltered(rc, "pending", false) }
func (s *Server) audit(rc *reqCtx) *Response            { return s.listFiltered(rc, "", true) }

func (s *Server) getApproval(rc *reqCtx) *Response {
	id, ae := rc.pathID("request_id")
	if ae != nil {
		return errResp(ae)
	}
	var resp *Response
	now := s.e.cfg.Clock()
	s.e.view(func(st *State) {
		a := st.Approvals[id]
		if a == nil {
			resp = errResp(notFound("approval", id))
			return
		}
		resp = ok200(approvalView(a, now))
	})
	return resp
}

func (s *Server) decide(approve bool) func(*reqCtx) *Response {
	return func(rc *reqCtx) *Response {
		if ae := rc.decode(); ae != nil {
			return errResp(ae)
		}
		var in DecisionIn
		var ae *APIError
		in.Approve = approve
		if in.RequestID, ae = rc.pathID("request_id"); ae != nil {
			return errResp(ae)
		}
		if in.Justification, ae = rc.str("justification", false, false); ae != nil {
			return errResp(ae)
		}
		if in.Justification == "" {
			if in.Justification, ae = rc.str("reason", false, false); ae != nil {
				return errResp(ae)
			}
		}
		if v, ok := rc.raw("expected_version"); ok {
			var n int64
			if _, err := fmt.Sscanf(string(v), "%d", &n); err != nil || fmt.Sprint(n) != string(v) {
				return errResp(fieldErr("expected_version", "must be an integer"))
			}
			in.ExpectedVersion = &n
		} else if im := strings.Trim(strings.TrimSpace(rc.r.Header.Get("If-Match")), `"`); im != "" && !s.e.cfg.Defects.Has(DefectH11IfMatchIgnored) {
			var n int64
			if _, err := fmt.Sscanf(im, "%d", &n); err != nil {
				return errResp(fieldErr("If-Match", "must be a version number"))
			}
			in.ExpectedVersion = &n
		}
		field := "approver_id"
		if _, ok := rc.raw("approver_id"); !ok {
			if _, ok := rc.raw("actor_id"); ok {
				field = "actor_id"
			}
		}
		r, ae := rc.req(field, true)
		if ae != nil {
			return errResp(ae)
		}
		return s.e.Decide(r, in)
	}
}

func (s *Server) collab(rc *reqCtx) *Response {
	if ae := rc.decode(); ae != nil {
		return errResp(ae)
	}
	var in CollabIn
	var ae *APIError
	if in.CollaborationID, ae = rc.str("collaboration_id", true, true); ae != nil {
		return errResp(ae)
	}
	if in.TeamID, ae = rc.str("team_id", true, true); ae != nil {
		return errResp(ae)
	}
	if in.MissionID, ae = rc.optStr("mission_id", true); ae != nil {
		return errResp(ae)
	}
	raw, ok := rc.raw("agent_ids")
	if !ok {
		return errResp(fieldErr("agent_ids", "is required"))
	}
	var ids []any
	if jsonUnmarshal(raw, &ids) != nil {
		return errResp(fieldErr("agent_ids", "must be an array of strings"))
	}
	if len(ids) > 100 {
		return errResp(fieldErr("agent_ids", "at most 100 agents"))
	}
	if len(ids) < 2 && s.e.cfg.Defects.Has(DefectH9SynergieTeamDupAgents) {
		return errResp(fieldErr("agent_ids", "a team needs at least 2 agents")) // defect: counted before de-duplication
	}
	seen := map[string]bool{}
	for _, x := range ids {
		id, isStr := x.(string)
		id = strings.TrimSpace(id)
		if !isStr || id == "" || len(id) > 128 || validText(id, true) != "" {
			return errResp(fieldErr("agent_ids", "must be an array of non-empty agent ids"))
		}
		if !seen[id] {
			seen[id] = true
			in.AgentIDs = append(in.AgentIDs, id)
		}
	}
	if len(in.AgentIDs) < 2 && !s.e.cfg.Defects.Has(DefectH9SynergieTeamDupAgents) {
		return errResp(fieldErr("agent_ids", "a team needs at least 2 distinct agents"))
	}
	raw, ok = rc.raw("contribution_scores")
	if !ok {
		return errResp(fieldErr("contribution_scores", "is required"))
	}
	var scores map[string]jsonRaw
	if jsonUnmarshal(raw, &scores) != nil {
		return errResp(fieldErr("contribution_scores", "must be an object {agent_id: 0..1}"))
	}
	in.Contrib = map[string]int64{}
	for k, v := range scores {
		if !seen[strings.TrimSpace(k)] {
			return errResp(fieldErr("contribution_scores", fmt.Sprintf("agent %q is not in agent_ids", k)))
		}
		p, why := parseUnitPPM(v)
		if why != "" {
			return errResp(fieldErr("contribution_scores", k+": "+why))
		}
		in.Contrib[strings.TrimSpace(k)] = p
	}
	for _, id := range in.AgentIDs {
		if _, ok := in.Contrib[id]; !ok {
			return errResp(fieldErr("contribution_scores", fmt.Sprintf("missing score for agent %q", id)))
		}
	}
	r, ae := rc.req("actor_id", false)
	if ae != nil {
		return errResp(ae)
	}
	return s.e.RecordCollaboration(r, in)
}

func (s *Server) synergie(rc *reqCtx) *Response {
	id, ae := rc.pathID("agent_id")
	if ae != nil {
		return errResp(ae)
	}
	var resp *Response
	s.e.view(func(st *State) {
		if st.Agents[id] == nil {
			resp = errResp(notFound("agent", id))
			return
		}
		teams := map[string]any{}
		var g, c int64
		for team, t := range st.Synergie[id] {
			teams[team] = map[string]any{"granted": formatMilli(t.GrantedMilli), "capped": formatMilli(t.CappedMilli), "rewards": t.Rewards,
				"remaining": formatMilli(max(0, s.e.cfg.SynergieCapMilli-t.GrantedMilli))}
			g += t.GrantedMilli
			c += t.CappedMilli
		}
		resp = ok200(map[string]any{"agent_id": id, "total_granted": formatMilli(g), "total_capped": formatMilli(c), "teams": teams,
			"cap_per_team": formatMilli(s.e.cfg.SynergieCapMilli)})
	})
	return resp
}

func (s *Server) eocView(rc *reqCtx) *Response {
	return ok200(s.e.EoCView())
}

func (s *Server) karmaStatus(rc *reqCtx) *Response { return ok200(s.e.karma.status()) }

func (s *Server) pool(op string) func(*reqCtx) *Response {
	return func(rc *reqCtx) *Response {
		if ae := rc.decode(); ae != nil {
			return errResp(ae)
		}
		var in PoolIn
		var ae *APIError
		if op == "create" {
			in.PoolID, ae = rc.str("pool_id", true, true)
		} else {
			in.PoolID, ae = rc.pathID("pool_id")
		}
		if ae != nil {
			return errResp(ae)
		}
		if in.Name, ae = rc.str("name", false, false); ae != nil {
			return errResp(ae)
		}
		if op == "remove_member" {
			in.AgentID, ae = rc.pathID("agent_id")
		} else {
			in.AgentID, ae = rc.str("agent_id", op == "add_member" || op == "consume", true)
		}
		if ae != nil {
			return errResp(ae)
		}
		if in.FromAgentID, ae = rc.str("from_agent_id", false, true); ae != nil {
			return errResp(ae)
		}
		if in.ToPoolID, ae = rc.str("to_pool_id", op == "transfer", true); ae != nil {
			return errResp(ae)
		}
		if in.Reason, ae = rc.str("reason", false, false); ae != nil {
			return errResp(ae)
		}
		switch op {
		case "allocate", "consume", "refund", "transfer":
			if in.AmountMilli, ae = rc.amount("amount"); ae != nil {
				return errResp(ae)
			}
		}
		r, ae := rc.req("actor_id", false)
		if ae != nil {
			return errResp(ae)
		}
		return s.e.Pool(op, r, in)
	}
}

func poolView(p *Pool) map[string]any {
	members := sortedKeys(p.Members)
	return map[string]any{"pool_id": p.ID, "name": p.Name, "owner_id": p.Owner, "balance": formatMilli(p.BalanceMilli), "members": members,
		"allocated": formatMilli(p.AllocatedMilli), "consumed": formatMilli(p.ConsumedMilli), "refunded": formatMilli(p.RefundedMilli),
		"closed": p.Closed, "created_at": p.CreatedAt}
}

func (s *Server) listPools(rc *reqCtx) *Response {
	list := []map[string]any{}
	s.e.view(func(st *State) {
		for _, id := range sortedKeys(st.Pools) {
			list = append(list, poolView(st.Pools[id]))
		}
	})
	return ok200(map[string]any{"pools": list, "total": len(list)})
}

func (s *Server) getPool(rc *reqCtx) *Response {
	id, ae := rc.pathID("pool_id")
	if ae != nil {
		return errResp(ae)
	}
	var resp *Response
	s.e.view(func(st *State) {
		if p := st.Pools[id]; p != nil {
			resp = ok200(poolView(p))
		} else {
			resp = errResp(notFound("pool", id))
		}
	})
	return resp
}

func (s *Server) mission(op string) func(*reqCtx) *Response {
	return func(rc *reqCtx) *Response {
		if ae := rc.decode(); ae != nil {
			return errResp(ae)
		}
		var in MissionIn
		var ae *APIError
		if op == "start" {
			if in.MissionID, ae = rc.str("mission_id", true, true); ae != nil {
				return errResp(ae)
			}
			if in.AgentID, ae = rc.str("agent_id", true, true); ae != nil {
				return errResp(ae)
			}
			if in.MissionType, ae = rc.str("mission_type", false, true); ae != nil {
				return errResp(ae)
			}
			if in.MissionType == "" {
				in.MissionType = "general"
			}
			if _, known := missionBase[in.MissionType]; !known && s.e.cfg.Defects.Has(DefectH13MissionUnknownTypeRefused) {
				// defect: an unknown type is refused instead of costing the unknown-type base
				return errResp(fieldErr("mission_type", "must be general, code_review, deployment, research or architecture"))
			}
			if in.Complexity, ae = rc.str("complexity", false, true); ae != nil {
				return errResp(ae)
			}
			if in.Complexity == "" {
				in.Complexity = "medium"
			}
			if _, ok := complexityHalves[in.Complexity]; !ok {
				return errResp(fieldErr("complexity", "must be low, medium or high"))
			}
		} else if in.MissionID, ae = rc.pathID("mission_id"); ae != nil {
			return errResp(ae)
		}
		if op == "complete" {
			raw, ok := rc.raw("actual_cost")
			if !ok {
				return errResp(fieldErr("actual_cost", "is required"))
			}
			r, why := parseExactNumber(raw)
			var m int64
			if r == nil {
				return errResp(fieldErr("actual_cost", why))
			}
			if r.Sign() != 0 {
				if m, why = parseAmountMilli(raw, s.e.cfg.MaxAmountMilli); why != "" {
					return errResp(fieldErr("actual_cost", why))
				}
			}
			in.ActualMilli = &m
		}
		if op == "fail" {
			if in.RefundPPM, ae = rc.unit("refund_percentage", false); ae != nil {
				return errResp(ae)
			}
		}
		if _, ae := rc.str("reason", false, false); ae != nil {
			return errResp(ae)
		}
		r, ae := rc.req("actor_id", false)
		if ae != nil {
			return errResp(ae)
		}
		return s.e.Mission(op, r, in)
	}
}

func (s *Server) getMission(rc *reqCtx) *Response {
	id, ae := rc.pathID("mission_id")
	if ae != nil {
		return errResp(ae)
	}
	var resp *Response
	s.e.view(func(st *State) {
		m := st.Missions[id]
		if m == nil {
			resp = errResp(notFound("mission", id))
			return
		}
		var mm MissionMoney
		if x := st.MissionMoney[id]; x != nil {
			mm = *x
		}
		// refunded: every credit.refunded naming the mission (its end refund and POST /refund)
		resp = ok200(map[string]any{"mission_id": m.ID, "agent_id": m.AgentID, "mission_type": m.Type, "complexity": m.Complexity,
			"estimated_cost": formatMilli(m.EstimateMilli), "consumed": formatMilli(mm.ConsumedMilli), "refunded": formatMilli(mm.RefundedMilli),
			"end_refund": formatMilli(m.RefundMilli), "refundable": formatMilli(mm.ConsumedMilli - mm.RefundedMilli), "status": m.Status,
			"consume_event_id": m.ConsumeEventID, "started_at": m.StartedAt})
	})
	return resp
}

func (s *Server) events(rc *reqCtx) *Response {
	after, ae := rc.queryInt("after_seq", 0, 0, 1<<62)
	if ae != nil {
		return errResp(ae)
	}
	limit, ae := rc.queryInt("limit", 1000, 1, 10000)
	if ae != nil {
		return errResp(ae)
	}
	if s.e.cfg.Defects.Has(DefectH7EventsIndexRoundUp) {
		after = (after + sparseEvery - 1) / sparseEvery * sparseEvery // defect: index slot rounded up, not down
	}
	lines, err := s.e.j.readLines(after, int(limit))
	if err != nil {
		return errResp(apiErr(503, "journal_unavailable", err.Error()))
	}
	_, last := s.e.j.durable()
	rc.w.Header().Set("Content-Type", "application/x-ndjson")
	rc.w.Header().Set("X-Last-Seq", fmt.Sprint(last))
	rc.w.WriteHeader(200)
	for _, l := range lines {
		rc.w.Write(l)
	}
	return nil
}

func (s *Server) digest(rc *reqCtx) *Response {
	var seq int64
	var d string
	s.e.view(func(st *State) { seq, d = st.Seq, st.Digest() })
	return ok200(map[string]any{"seq": seq, "digest": d})
}

func (s *Server) verify(rc *reqCtx) *Response {
	size, last := s.e.j.durable()
	state := "ok"
	errText := ""
	if err := s.e.j.stickyErr(); err != nil {
		state, errText = "failed", err.Error()
	}
	ok := s.e.report.Status != "degraded" && state == "ok"
	return ok200(map[string]any{"ok": ok, "recovery": s.e.report, "journal_state": state, "journal_error": errText,
		"durable_last_seq": last, "durable_size_bytes": size, "checksum": "crc32c over the line without its checksum field",
		"torn_tails": boolInt(s.e.report.TornTail != nil), "quarantined_lines": len(s.e.report.Quarantined)})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) openapi(rc *reqCtx) *Response {
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		m := paths[rt.path]
		if m == nil {
			m = map[string]any{}
			paths[rt.path] = m
		}
		var params []map[string]any
		for _, seg := range strings.Split(rt.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		op := map[string]any{"summary": rt.summary, "operationId": strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.path),
			"x-auth":    []string{"public", "read", "mutate", "decide"}[rt.auth],
			"responses": map[string]any{"200": map[string]any{"description": "ok"}, "default": map[string]any{"description": `error {"detail","code"}`}}}
		if params != nil {
			op["parameters"] = params
		}
		if members, ok := requestBodies[rt.method+" "+rt.path]; ok && rt.method == http.MethodPost {
			props := map[string]any{"idempotency_key": map[string]any{"type": "string"}}
			for _, m := range members {
				props[m] = memberSchema(m)
			}
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
				"type": "object", "additionalProperties": false, "properties": props}}}}
		}
		m[strings.ToLower(rt.method)] = op
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return ok200(map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": "creditgate spec-backend", "version": Version},
		"servers": []map[string]any{{"url": "/"}}, "paths": paths,
		"components": map[string]any{"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}}})
}

// Prometheus text at /metrics.
func (s *Server) prometheus(w http.ResponseWriter) {
	var b strings.Builder
	size, last := s.e.j.durable()
	status, _, _ := s.e.Health()
	ks := s.e.karma.status()
	var live eocProj
	s.e.view(func(st *State) { live = st.EoC })
	var byType map[string]int64
	var agents, approvalsPending int
	var anomalies int64
	now := s.e.cfg.Clock()
	s.e.view(func(st *State) {
		byType = map[string]int64{}
		for k, v := range st.EventsByType {
			byType[k] = v
		}
		agents = len(st.Agents)
		anomalies = st.AnomaliesFlag
		for _, a := range st.Approvals {
			if a.Status == "pending" && now.Before(a.expires) {
				approvalsPending++
			}
		}
	})
	g := func(name, help, typ string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	g("specbackend_journal_last_seq", "Last durable journal seq.", "gauge", last)
	g("specbackend_journal_size_bytes", "Durable journal size.", "gauge", size)
	g("specbackend_journal_batches_total", "Group-commit batches written.", "counter", s.e.j.batches.Load())
	g("specbackend_journal_fsyncs_total", "fdatasync calls.", "counter", s.e.j.syncs.Load())
	g("specbackend_journal_fsync_seconds_total", "Time in fdatasync.", "counter", float64(s.e.j.syncNs.Load())/1e9)
	g("specbackend_journal_failed", "1 when the journal refused appends (sticky error).", "gauge", boolInt(s.e.j.stickyErr() != nil))
	g("specbackend_journal_quarantined_lines", "Lines quarantined at the last start.", "gauge", len(s.e.report.Quarantined))
	g("specbackend_journal_torn_tails", "Torn tails cut at the last start.", "gauge", boolInt(s.e.report.TornTail != nil))
	g("specbackend_replay_events", "Events replayed at start.", "gauge", s.e.report.EventsReplayed)
	g("specbackend_replay_seconds", "Replay duration at start.", "gauge", s.e.report.ReplayDurationSeconds)
	g("specbackend_idempotent_replays_total", "Keyed retries answered from the journal.", "counter", s.e.replays.Load())
	g("specbackend_idempotency_conflicts_total", "Keys reused with a different request.", "counter", s.e.conflicts.Load())
	g("specbackend_agents", "Agents.", "gauge", agents)
	g("specbackend_approvals_pending", "Pending approvals.", "gauge", approvalsPending)
	g("specbackend_anomalies_flagged_total", "Consumes flagged anomalous.", "counter", anomalies)
	g("specbackend_anomaly_detector_failures_total", "Detector failures (isolated).", "counter", s.e.detectorFails.Load())
	g("specbackend_eoc_score", "Edge-of-Chaos score.", "gauge", live.Score)
	g("specbackend_eoc_backpressure", "Advisory backpressure level.", "gauge", live.Backpress)
	g("specbackend_karma_fallback_total", "KARMA fallbacks to CI 0.5.", "counter", ks.FallbackCount)
	g("specbackend_karma_healthy", "1 when KARMA is healthy.", "gauge", boolInt(ks.State == "healthy"))
	g("specbackend_health_ok", "1 when overall health is ok.", "gauge", boolInt(status == "ok"))
	g("specbackend_http_inflight", "Requests in flight.", "gauge", s.inflight.Load())
	b.WriteString("# HELP specbackend_events_total Events by type.\n# TYPE specbackend_events_total counter\n")
	for _, k := range sortedKeys(byType) {
		fmt.Fprintf(&b, "specbackend_events_total{type=%q} %d\n", k, byType[k])
	}
	b.WriteString("# HELP specbackend_http_requests_total Requests by route and status class.\n# TYPE specbackend_http_requests_total counter\n")
	var lat strings.Builder
	lat.WriteString("# HELP specbackend_http_request_seconds_total Summed latency by route.\n# TYPE specbackend_http_request_seconds_total counter\n")
	var keys []string
	s.stats.Range(func(k, _ any) bool { keys = append(keys, k.(string)); return true })
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := s.stats.Load(k)
		st := v.(*routeStats)
		for c := 1; c < 6; c++ {
			if n := st.count[c].Load(); n > 0 {
				fmt.Fprintf(&b, "specbackend_http_requests_total{route=%q,code=\"%dxx\"} %d\n", k, c, n)
			}
		}
		fmt.Fprintf(&lat, "specbackend_http_request_seconds_total{route=%q} %g\n", k, float64(st.latNs.Load())/1e9)
	}
	b.WriteString(lat.String())
	fmt.Fprintf(&b, "# HELP specbackend_fsync_enabled 1 when appends are fdatasynced.\n# TYPE specbackend_fsync_enabled gauge\nspecbackend_fsync_enabled %d\n", boolInt(!s.e.cfg.NoFsync))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(200)
	w.Write([]byte(b.String()))
}
