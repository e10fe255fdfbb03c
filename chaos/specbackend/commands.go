package specbackend

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Req carries what every mutation shares: idempotency key, principal, correlation id.
type Req struct {
	Key   string
	Actor string
	Corr  string
}

func hashOf(kind string, in any) string {
	b, _ := json.Marshal(in)
	h := sha256.Sum256(append([]byte(kind+"\n"), b...))
	return hex.EncodeToString(h[:16])
}

func (e *Engine) run(kind string, r Req, in any, d decideFunc) *Response {
	hkind := kind
	if e.cfg.Defects.Has(DefectH11IdemKeyIgnoresRoute) {
		hkind = "" // defect: the fingerprint covers body and principal, not the route
	}
	if m, ok := in.(MoneyIn); ok && e.cfg.Defects.Has(DefectH13KeyHashIgnoresReason) {
		m.Reason = "" // defect: the free-text reason is left out of the fingerprint
		in = m
	}
	return e.exec(&cmd{kind: kind, key: r.Key, hash: hashOf(hkind, struct {
		Actor string
		In    any
	}{r.Actor, in}), actor: r.Actor, corr: r.Corr, decide: d})
}

func notFound(what, id string) *APIError {
	return &APIError{Status: 404, Code: "not_found", Detail: fmt.Sprintf("%s %q not found", what, id)}
}

func insufficient(agentID string, balance, want int64) *APIError {
	return &APIError{Status: 409, Code: "insufficient_credits", Detail: fmt.Sprintf("agent %q has %s credits, %s requested", agentID, formatMilli(balance), formatMilli(want)),
		Extra: map[string]any{"agent_id": agentID, "balance": formatMilli(balance), "requested": formatMilli(want)}}
}

// CreateAgentIn: POST /agents.
type CreateAgentIn struct {
	AgentID  string
	SkillPPM int64
}

func (e *Engine) CreateAgent(r Req, in CreateAgentIn) *Response {
	return e.run("create_agent", r, in, func(st *State, p *plan) *APIError {
		if st.Agents[in.AgentID] != nil {
			return &APIError{Status: 409, Code: "agent_exists", Detail: fmt.Sprintf("agent %q already exists", in.AgentID), Extra: map[string]any{"agent_id": in.AgentID}}
		}
		initial := (in.SkillPPM + 5) / 10 // skill x 100 credits, in milli, rounded half up
		reg := p.emit("agent.registered", pAgent{AgentID: in.AgentID, SkillLevelPPM: in.SkillPPM, InitialMilli: initial}, nil, Meta{})
		if initial > 0 {
			p.emit("credit.allocated", pCredit{EntityID: in.AgentID, EntityType: "agent", AgentID: in.AgentID, AmountMilli: initial,
				BalanceAfterMilli: initial, Reason: "initial_allocation"}, strPtr(reg.EventID), Meta{})
		}
		return nil
	})
}

// MoneyIn: consume, refund, add, withdraw.
type MoneyIn struct {
	AgentID       string
	AmountMilli   int64
	Reason        string
	MissionID     *string
	Justification string
}

func (e *Engine) Consume(r Req, in MoneyIn) *Response {
	ci, src := e.karma.score(in.AgentID)
	var anomalous bool
	resp := e.run("consume", r, in, func(st *State, p *plan) *APIError {
		a := st.Agents[in.AgentID]
		if a == nil {
			return notFound("agent", in.AgentID)
		}
		if a.BalanceMilli < in.AmountMilli {
			return insufficient(in.AgentID, a.BalanceMilli, in.AmountMilli)
		}
		m := Meta{KarmaSource: src, KarmaScore: &ci}
		norm := a.Stats
		if e.cfg.Defects.Has(DefectH13AnomalyGlobalNorm) {
			norm = st.globalStats // defect: one norm for all agents, not the agent's own
		}
		flag, score, reason, ok := detectAnomaly(norm, in.AmountMilli, &e.cfg)
		if !ok {
			e.detectorFails.Add(1)
			m.AnomalyDetector = "unavailable"
		} else {
			m.AnomalyDetector = "ok"
			m.AnomalyDetected = &flag
			m.AnomalyScore = &score
			m.AnomalyReason = reason
		}
		anomalous = flag
		p.emit("credit.consumed", pCredit{EntityID: in.AgentID, EntityType: "agent", AgentID: in.AgentID, AmountMilli: in.AmountMilli,
			BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil, m)
		return nil
	})
	if resp.Status == 200 && !resp.Replayed {
		e.eoc.consume(anomalous)
	}
	return resp
}

func (e *Engine) Refund(r Req, in MoneyIn) *Response {
	return e.run("refund", r, in, func(st *State, p *plan) *APIError {
		a := st.Agents[in.AgentID]
		if a == nil {
			return notFound("agent", in.AgentID)
		}
		if a.BalanceMilli > e.cfg.MaxAmountMilli*1000-in.AmountMilli {
			return fieldErr("amount", "balance would overflow")
		}
		if in.MissionID != nil {
			// A mission's refund returns what it consumed to its own agent.
			if m := st.Missions[*in.MissionID]; m != nil && m.AgentID != in.AgentID {
				return &APIError{Status: 409, Code: "mission_of_another_agent",
					Detail: fmt.Sprintf("mission %q belongs to agent %q, not %q", *in.MissionID, m.AgentID, in.AgentID)}
			}
			if ae := refundLimit(st, *in.MissionID, in.AmountMilli); ae != nil {
				return ae
			}
		}
		p.emit("credit.refunded", pCredit{EntityID: in.AgentID, EntityType: "agent", AgentID: in.AgentID, AmountMilli: in.AmountMilli,
			BalanceAfterMilli: a.BalanceMilli + in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil, Meta{})
		return nil
	})
}

func (e *Engine) Add(r Req, in MoneyIn) *Response {
	return e.run("add", r, in, func(st *State, p *plan) *APIError {
		a := st.Agents[in.AgentID]
		if a == nil {
			return notFound("agent", in.AgentID)
		}
		if in.AmountMilli >= e.cfg.ApprovalThresholdMilli {
			return e.requestApproval(st, p, ApprovalIn{ActionType: "add", AgentID: in.AgentID, AmountMilli: in.AmountMilli, Reason: in.Reason, Justification: in.Justification})
		}
		if a.BalanceMilli > e.cfg.MaxAmountMilli*1000-in.AmountMilli {
			return fieldErr("amount", "balance would overflow")
		}
		p.emit("credit.allocated", pCredit{EntityID: in.AgentID, EntityType: "agent", AgentID: in.AgentID, AmountMilli: in.AmountMilli,
			BalanceAfterMilli: a.BalanceMilli + in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil, Meta{})
		return nil
	})
}

// Withdraw removes credits by an operator. It never overdraws: 409 insufficient_credits.
func (e *Engine) Withdraw(r Req, in MoneyIn) *Response {
	return e.run("withdraw", r, in, func(st *State, p *plan) *APIError {
		a := st.Agents[in.AgentID]
		if a == nil && e.cfg.Defects.Has(DefectH13WithdrawUnknownAgent409) {
			return insufficient(in.AgentID, 0, in.AmountMilli) // defect: balance looked up with a zero default first
		}
		if a == nil {
			return notFound("agent", in.AgentID)
		}
		if a.BalanceMilli < in.AmountMilli {
			return insufficient(in.AgentID, a.BalanceMilli, in.AmountMilli)
		}
		if in.AmountMilli >= e.cfg.ApprovalThresholdMilli {
			return e.requestApproval(st, p, ApprovalIn{ActionType: "withdraw", AgentID: in.AgentID, AmountMilli: in.AmountMilli, Reason: in.Reason, Justification: in.Justification})
		}
		p.emit("credit.withdrawn", pCredit{EntityID: in.AgentID, EntityType: "agent", AgentID: in.AgentID, AmountMilli: in.AmountMilli,
			BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, nil, Meta{})
		return nil
	})
}

// refundLimit refuses a refund naming a mission beyond what the mission consumed minus
// what refunds naming it already returned.
func refundLimit(st *State, missionID string, amount int64) *APIError {
	avail := st.RefundableMilli(missionID)
	if amount <= avail {
		return nil
	}
	var consumed, refunded int64
	if mm := st.MissionMoney[missionID]; mm != nil {
		consumed, refunded = mm.ConsumedMilli, mm.RefundedMilli
	}
	return &APIError{Status: 409, Code: "refund_exceeds_consumed",
		Detail: fmt.Sprintf("refunds naming mission %q are limited to what it consumed: %s refundable, %s requested", missionID, formatMilli(avail), formatMilli(amount)),
		Extra: map[string]any{"mission_id": missionID, "consumed": formatMilli(consumed), "refunded": formatMilli(refunded),
			"refundable": formatMilli(avail), "requested": formatMilli(amount)}}
}

// ApprovalIn: POST /approvals (and gated add/withdraw).
type ApprovalIn struct {
	ActionType    string
	AgentID       string
	AmountMilli   int64
	Reason        string
	Justification string
}

func (e *Engine) RequestApproval(r Req, in ApprovalIn) *Response {
	return e.run("request_approval", r, in, func(st *State, p *plan) *APIError {
		a := st.Agents[in.AgentID]
		if a == nil {
			return notFound("agent", in.AgentID)
		}
		if in.ActionType == "withdraw" && a.BalanceMilli < in.AmountMilli {
			return insufficient(in.AgentID, a.BalanceMilli, in.AmountMilli)
		}
		return e.requestApproval(st, p, in)
	})
}

func (e *Engine) risk(amount int64) (string, int, time.Duration) {
	switch {
	case amount >= e.cfg.CriticalMilli && !(amount == e.cfg.CriticalMilli && e.cfg.Defects.Has(DefectH9CriticalBoundExclusive)):
		// (defect: "above" the critical threshold instead of "from" it)
		return "CRITICAL", 2, e.cfg.TimeoutCritical
	case amount >= e.cfg.HighMilli:
		return "HIGH", 1, e.cfg.TimeoutHigh
	case amount >= e.cfg.MediumMilli:
		return "MEDIUM", 1, e.cfg.TimeoutMedium
	}
	return "LOW", 0, e.cfg.TimeoutMedium
}

func (e *Engine) requestApproval(st *State, p *plan, in ApprovalIn) *APIError {
	level, required, timeout := e.risk(in.AmountMilli)
	id := "apr-" + newUUID()
	req := p.emit("approval.requested", pApproval{RequestID: id, ActionType: in.ActionType, AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		Reason: in.Reason, Justification: in.Justification, RequesterID: p.actor, RiskLevel: level, RequiredApprovals: required,
		TimeoutSeconds: int64(timeout / time.Second), ExpiresAt: p.now.Add(timeout).Format(time.RFC3339Nano), Version: 1}, nil, Meta{})
	if level == "LOW" {
		ap := p.emit("approval.approved", pApproval{RequestID: id, ApproverID: "system:auto", Version: 2, Auto: true}, strPtr(req.EventID), Meta{})
		ap.ActorID = "system:auto" // LOW risk: the system decides, never the requester
		e.emitExecution(st, p, &Approval{ID: id, ActionType: in.ActionType, AgentID: in.AgentID, AmountMilli: in.AmountMilli, Reason: in.Reason}, ap.EventID)
	}
	return nil
}

func (e *Engine) emitExecution(st *State, p *plan, a *Approval, causation string) {
	ag := st.Agents[a.AgentID]
	typ, after := "credit.allocated", ag.BalanceMilli+a.AmountMilli
	if a.ActionType == "withdraw" {
		typ, after = "credit.withdrawn", ag.BalanceMilli-a.AmountMilli
	}
	p.emit(typ, pCredit{EntityID: a.AgentID, EntityType: "agent", AgentID: a.AgentID, AmountMilli: a.AmountMilli, BalanceAfterMilli: after,
		Reason: a.Reason, ApprovalID: a.ID}, strPtr(causation), Meta{})
}

// DecisionIn: POST /approvals/{id}/approve|reject.
type DecisionIn struct {
	RequestID       string
	Approve         bool
	Justification   string
	ExpectedVersion *int64
}

func alreadyDecided(a *Approval) *APIError {
	return &APIError{Status: 409, Code: "already_decided", Detail: fmt.Sprintf("approval %s is already %s", a.ID, a.Status),
		Extra: map[string]any{"request_id": a.ID, "status": a.Status, "version": a.Version, "decision": a.Decision}}
}

func (e *Engine) Decide(r Req, in DecisionIn) *Response {
	kind := "reject"
	if in.Approve {
		kind = "approve"
	}
	return e.run(kind, r, in, func(st *State, p *plan) *APIError {
		a := st.Approvals[in.RequestID]
		if a == nil {
			return notFound("approval", in.RequestID)
		}
		decided := a.Status != "pending"
		if e.cfg.Defects.Has(DefectH7ApprovalRejectNotFinal) {
			decided = a.Status == "approved" || a.Status == "expired" // defect: a rejection is not final
		}
		if decided {
			return alreadyDecided(a)
		}
		p.corr = a.CorrelationID
		if !p.now.Before(a.expires) && !e.cfg.Defects.Has(DefectH11ExpiryTimerOnly) { // defect: left to the timer
			emitExpired(p, a) // lazily applied on access: the expiry wins, the caller gets 409 already_decided naming it
			return nil
		}
		// defect: the four-eyes check guards only the decision that completes a request
		firstVote := in.Approve && len(a.Votes)+1 < a.Required
		if p.actor == a.Requester && !(firstVote && e.cfg.Defects.Has(DefectFourEyesFirstVote)) {
			return &APIError{Status: 403, Code: "four_eyes_violation", Detail: "the requester may not decide their own request",
				Extra: map[string]any{"request_id": a.ID, "requester_id": a.Requester}}
		}
		if in.ExpectedVersion != nil && *in.ExpectedVersion != a.Version {
			return &APIError{Status: 409, Code: "version_conflict", Detail: fmt.Sprintf("expected version %d, current %d", *in.ExpectedVersion, a.Version),
				Extra: map[string]any{"request_id": a.ID, "version": a.Version, "status": a.Status}}
		}
		if !in.Approve {
			p.emit("approval.rejected", pApproval{RequestID: a.ID, ApproverID: p.actor, Reason: in.Justification, Version: a.Version + 1}, strPtr(a.RequestEventID), Meta{})
			return nil
		}
		for _, v := range a.Votes {
			if v.ApproverID == p.actor {
				return &APIError{Status: 409, Code: "duplicate_approver", Detail: "this approver already voted; CRITICAL needs two distinct approvers",
					Extra: map[string]any{"request_id": a.ID, "version": a.Version}}
			}
		}
		needsJustification := a.Risk == "HIGH" || a.Risk == "CRITICAL"
		if e.cfg.Defects.Has(DefectH14HighNoJustification) {
			needsJustification = a.Risk == "CRITICAL" // defect: only the two-approver level is checked
		}
		if needsJustification && a.Justification == "" && strings.TrimSpace(in.Justification) == "" {
			return fieldErr("justification", "required to approve a "+a.Risk+" request")
		}
		if len(a.Votes)+1 < a.Required {
			p.emit("approval.vote_recorded", pApproval{RequestID: a.ID, ApproverID: p.actor, Justification: in.Justification,
				RequiredApprovals: a.Required, Version: a.Version + 1}, strPtr(a.RequestEventID), Meta{})
			return nil
		}
		if a.ActionType == "withdraw" && !e.cfg.Defects.Has(DefectH9WithdrawApprovalNoRecheck) { // defect: checked at request time only
			if ag := st.Agents[a.AgentID]; ag.BalanceMilli < a.AmountMilli {
				return insufficient(a.AgentID, ag.BalanceMilli, a.AmountMilli)
			}
		}
		approvers := []string{}
		for _, v := range a.Votes {
			approvers = append(approvers, v.ApproverID)
		}
		approvers = append(approvers, p.actor)
		ap := p.emit("approval.approved", pApproval{RequestID: a.ID, ApproverID: p.actor, Approvers: approvers, Justification: in.Justification,
			RequiredApprovals: a.Required, Version: a.Version + 1}, strPtr(a.RequestEventID), Meta{})
		cause := ap.EventID
		if e.cfg.Defects.Has(DefectH13ApprovalExecCausationRequest) {
			cause = a.RequestEventID // defect: the execution is taken to be caused by the request
		}
		e.emitExecution(st, p, a, cause)
		return nil
	})
}

// CollabIn: POST /synergie/collaborations.
type CollabIn struct {
	CollaborationID string
	TeamID          string
	MissionID       *string
	AgentIDs        []string
	Contrib         map[string]int64
}

// RecordCollaboration pays reward = base x contribution x (0.5 + CI) per agent, capped per
// agent and team; the part above the cap is journaled as synergie.reward_capped.
func (e *Engine) RecordCollaboration(r Req, in CollabIn) *Response {
	type ks struct {
		ci  float64
		src string
	}
	karma := map[string]ks{}
	for _, id := range in.AgentIDs {
		ci, src := e.karma.score(id)
		karma[id] = ks{ci, src}
	}
	chash := hashOf("collab", in)
	var atArrival map[string]int64 // DefectH15SynergieEarnedAtArrival
	if e.cfg.Defects.Has(DefectH15SynergieEarnedAtArrival) {
		atArrival = map[string]int64{}
		e.view(func(rs *State) {
			for _, id := range in.AgentIDs {
				if t := rs.Synergie[id][in.TeamID]; t != nil {
					atArrival[id] = t.GrantedMilli
				}
			}
		})
	}
	return e.run("collaboration", r, in, func(st *State, p *plan) *APIError {
		if ref, ok := st.collabs[st.collabKey(in.TeamID, in.CollaborationID)]; ok {
			if ref.hash != chash {
				return &APIError{Status: 409, Code: "idempotency_key_conflict", Detail: "collaboration_id was already recorded with different content",
					Extra: map[string]any{"collaboration_id": in.CollaborationID}}
			}
			return &APIError{replayFirst: ref.firstSeq, replayN: ref.n, replayKind: "collaboration"}
		}
		for _, id := range in.AgentIDs {
			if st.Agents[id] == nil {
				return notFound("agent", id)
			}
		}
		col := p.emit("synergie.collaboration_recorded", pCollab{CollaborationID: in.CollaborationID, TeamID: in.TeamID, MissionID: in.MissionID,
			AgentIDs: in.AgentIDs, ContributionPPM: in.Contrib, BaseRewardMilli: e.cfg.SynergieBaseMilli, CollabHash: chash}, nil, Meta{})
		for _, id := range in.AgentIDs {
			k := karma[id]
			ciPPM := int64(k.ci*1_000_000 + 0.5)
			weightPPM := 500_000 + ciPPM
			raw := e.cfg.SynergieBaseMilli * in.Contrib[id] / 1_000_000 * weightPPM / 1_000_000
			var earned int64
			if t := st.Synergie[id][in.TeamID]; t != nil {
				earned = t.GrantedMilli
			}
			if atArrival != nil {
				earned = atArrival[id] // defect: what the read model said when the request arrived
			}
			if e.cfg.Defects.Has(DefectH13SynergieCapAcrossTeams) {
				earned = 0 // defect: what the agent earned in every team counts against the cap
				for _, t := range st.Synergie[id] {
					earned += t.GrantedMilli
				}
			}
			paid := min(raw, max(0, e.cfg.SynergieCapMilli-earned))
			if e.cfg.Defects.Has(DefectSynergieCapOvershoot) {
				// defect: the cap is checked before the reward, so the crossing reward is paid in full
				paid = 0
				if earned < e.cfg.SynergieCapMilli {
					paid = raw
				}
			}
			ci := k.ci
			m := Meta{KarmaSource: k.src, KarmaScore: &ci}
			if paid > 0 {
				p.emit("synergie.reward_granted", pCredit{EntityID: id, EntityType: "agent", AgentID: id, AmountMilli: paid,
					BalanceAfterMilli: st.Agents[id].BalanceMilli + paid, Reason: "synergie:" + in.CollaborationID, MissionID: in.MissionID,
					CollaborationID: in.CollaborationID, TeamID: in.TeamID, ContributionPPM: in.Contrib[id], KarmaScorePPM: ciPPM, RawRewardMilli: raw},
					strPtr(col.EventID), m)
			}
			if raw > paid {
				p.emit("synergie.reward_capped", pCapped{CollaborationID: in.CollaborationID, TeamID: in.TeamID, AgentID: id, AmountMilli: raw - paid,
					RawRewardMilli: raw, PaidMilli: paid, CapMilli: e.cfg.SynergieCapMilli, EarnedBeforeMilli: earned}, strPtr(col.EventID), m)
			}
		}
		return nil
	})
}

// Pools.

type PoolIn struct {
	PoolID, Name string
	AgentID      string // member / consumer / refund source / closing beneficiary
	FromAgentID  string // allocate: debit this agent instead of granting
	ToPoolID     string
	AmountMilli  int64
	Reason       string
}

func (e *Engine) Pool(op string, r Req, in PoolIn) *Response {
	return e.run("pool_"+op, r, in, func(st *State, p *plan) *APIError {
		pl := st.Pools[in.PoolID]
		if op == "create" {
			if pl != nil {
				return &APIError{Status: 409, Code: "pool_exists", Detail: fmt.Sprintf("pool %q already exists", in.PoolID)}
			}
			p.emit("pool.created", pPool{PoolID: in.PoolID, Name: in.Name, OwnerID: p.actor}, nil, Meta{})
			return nil
		}
		if pl == nil {
			return notFound("pool", in.PoolID)
		}
		if pl.Closed {
			return &APIError{Status: 409, Code: "pool_closed", Detail: fmt.Sprintf("pool %q is closed", in.PoolID)}
		}
		agent := func(id string) (*Agent, *APIError) {
			a := st.Agents[id]
			if a == nil {
				return nil, notFound("agent", id)
			}
			return a, nil
		}
		switch op {
		case "add_member":
			if _, ae := agent(in.AgentID); ae != nil {
				return ae
			}
			if pl.Members[in.AgentID] {
				return &APIError{Status: 409, Code: "already_member", Detail: "agent is already a member"}
			}
			p.emit("pool.member_added", pPool{PoolID: in.PoolID, AgentID: in.AgentID, PoolBalanceAfterMilli: pl.BalanceMilli}, nil, Meta{})
		case "remove_member":
			if !pl.Members[in.AgentID] {
				return notFound("pool member", in.AgentID)
			}
			p.emit("pool.member_removed", pPool{PoolID: in.PoolID, AgentID: in.AgentID, PoolBalanceAfterMilli: pl.BalanceMilli}, nil, Meta{})
		case "allocate":
			pp := pPool{PoolID: in.PoolID, AmountMilli: in.AmountMilli, PoolBalanceAfterMilli: pl.BalanceMilli + in.AmountMilli, Reason: in.Reason}
			if in.FromAgentID != "" {
				a, ae := agent(in.FromAgentID)
				if ae != nil {
					return ae
				}
				if a.BalanceMilli < in.AmountMilli && !e.cfg.Defects.Has(DefectH14PoolAllocateNoOverdraftCheck) { // defect: "allocate grants credits"
					return insufficient(a.ID, a.BalanceMilli, in.AmountMilli)
				}
				after := a.BalanceMilli - in.AmountMilli
				pp.AgentID, pp.AgentBalanceAfterMilli = a.ID, &after
			}
			p.emit("pool.allocated", pp, nil, Meta{})
		case "consume":
			member := pl.Members[in.AgentID]
			if e.cfg.Defects.Has(DefectH7PoolFormerMemberConsume) {
				member = pl.everMembers[in.AgentID] // defect: "was ever added" taken for "is a member"
			}
			if !member {
				return &APIError{Status: 403, Code: "not_a_member", Detail: fmt.Sprintf("agent %q is not a member of pool %q", in.AgentID, in.PoolID)}
			}
			if pl.BalanceMilli < in.AmountMilli {
				return &APIError{Status: 409, Code: "insufficient_credits", Detail: "pool balance too low",
					Extra: map[string]any{"pool_id": in.PoolID, "balance": formatMilli(pl.BalanceMilli), "requested": formatMilli(in.AmountMilli)}}
			}
			p.emit("pool.consumed", pPool{PoolID: in.PoolID, AgentID: in.AgentID, AmountMilli: in.AmountMilli, PoolBalanceAfterMilli: pl.BalanceMilli - in.AmountMilli, Reason: in.Reason}, nil, Meta{})
		case "refund":
			if in.AmountMilli > pl.ConsumedMilli-pl.RefundedMilli {
				return &APIError{Status: 409, Code: "refund_exceeds_consumed", Detail: fmt.Sprintf("pool refunds are limited to consumed-but-unrefunded credits (%s)", formatMilli(pl.ConsumedMilli-pl.RefundedMilli))}
			}
			p.emit("pool.refunded", pPool{PoolID: in.PoolID, AgentID: in.AgentID, AmountMilli: in.AmountMilli, PoolBalanceAfterMilli: pl.BalanceMilli + in.AmountMilli, Reason: in.Reason}, nil, Meta{})
		case "transfer":
			to := st.Pools[in.ToPoolID]
			if to == nil {
				return notFound("pool", in.ToPoolID)
			}
			if to.Closed {
				return &APIError{Status: 409, Code: "pool_closed", Detail: fmt.Sprintf("pool %q is closed", in.ToPoolID)}
			}
			if in.ToPoolID == in.PoolID {
				return fieldErr("to_pool_id", "must differ from the source pool")
			}
			if pl.BalanceMilli < in.AmountMilli {
				return &APIError{Status: 409, Code: "insufficient_credits", Detail: "pool balance too low",
					Extra: map[string]any{"pool_id": in.PoolID, "balance": formatMilli(pl.BalanceMilli), "requested": formatMilli(in.AmountMilli)}}
			}
			toAfter := to.BalanceMilli + in.AmountMilli
			p.emit("pool.transferred", pPool{PoolID: in.PoolID, ToPoolID: in.ToPoolID, AmountMilli: in.AmountMilli,
				PoolBalanceAfterMilli: pl.BalanceMilli - in.AmountMilli, ToBalanceAfterMilli: &toAfter, Reason: in.Reason}, nil, Meta{})
		case "close":
			pp := pPool{PoolID: in.PoolID, AmountMilli: pl.BalanceMilli, PoolBalanceAfterMilli: 0, Reason: in.Reason}
			// A remainder paid to an agent grants it credits: at or above
			// the approval threshold that needs a human gate, which a close
			// does not have (allocations below the threshold, then a close,
			// would grant any amount without one).
			if pl.BalanceMilli >= e.cfg.ApprovalThresholdMilli {
				return &APIError{Status: 422, Code: "approval_required", Detail: fmt.Sprintf("the pool holds %s, at or above the approval threshold %s: a close would grant it to an agent without approval",
					formatMilli(pl.BalanceMilli), formatMilli(e.cfg.ApprovalThresholdMilli))}
			}
			if pl.BalanceMilli > 0 {
				a, ae := agent(in.AgentID)
				if ae != nil {
					return ae
				}
				after := a.BalanceMilli + pl.BalanceMilli
				pp.AgentID, pp.AgentBalanceAfterMilli = a.ID, &after
			}
			p.emit("pool.closed", pp, nil, Meta{})
		default:
			panic("specbackend: unknown pool op " + op)
		}
		return nil
	})
}

// Missions.

var missionBase = map[string]int64{"general": 10, "code_review": 15, "deployment": 20, "research": 25, "architecture": 30}
var complexityHalves = map[string]int64{"low": 1, "medium": 2, "high": 4} // multiplier x 2

// estimateScaled is a mission's estimate, base x complexity x (1 - 0.3 x
// skill), in milli-credits times 2e7 (the complexity's halves and the
// skill's parts per 1e7 kept exact).
func estimateScaled(missionType, complexity string, skillPPM int64) int64 {
	base, ok := missionBase[missionType]
	if !ok {
		base = 10
	}
	c, ok := complexityHalves[complexity]
	if !ok {
		c = 2
	}
	return base * MilliPerCredit * c * (10_000_000 - 3*skillPPM)
}

const estimateScale = 2 * 10_000_000

// MissionEstimateMilli: base x complexity x (1 - 0.3 x skill), rounded (half up) to 0.1 credits.
func MissionEstimateMilli(missionType, complexity string, skillPPM int64) int64 {
	const d = estimateScale * 100
	return (estimateScaled(missionType, complexity, skillPPM) + d/2) / d * 100
}

// missionEstimateTruncMilli is MissionEstimateMilli truncated (not rounded) to 0.1
// credits (DefectH9MissionEstimateTruncated).
func missionEstimateTruncMilli(missionType, complexity string, skillPPM int64) int64 {
	return estimateScaled(missionType, complexity, skillPPM) / (estimateScale * 100) * 100 // defect: truncated to 0.1, not rounded
}

// missionEstimateExactMilli is the estimate rounded to the milli-credit only
// (DefectH14MissionCompleteUnroundedEstimate).
func missionEstimateExactMilli(missionType, complexity string, skillPPM int64) int64 {
	return (estimateScaled(missionType, complexity, skillPPM) + estimateScale/2) / estimateScale
}

type MissionIn struct {
	MissionID, AgentID, MissionType, Complexity string
	ActualMilli                                 *int64
	RefundPPM                                   *int64
}

func (e *Engine) Mission(op string, r Req, in MissionIn) *Response {
	return e.run("mission_"+op, r, in, func(st *State, p *plan) *APIError {
		m := st.Missions[in.MissionID]
		if op == "start" {
			if m != nil {
				return &APIError{Status: 409, Code: "mission_exists", Detail: fmt.Sprintf("mission %q already exists", in.MissionID)}
			}
			a := st.Agents[in.AgentID]
			if a == nil {
				return notFound("agent", in.AgentID)
			}
			est := MissionEstimateMilli(in.MissionType, in.Complexity, a.SkillPPM)
			if e.cfg.Defects.Has(DefectH9MissionEstimateTruncated) {
				est = missionEstimateTruncMilli(in.MissionType, in.Complexity, a.SkillPPM)
			}
			if a.BalanceMilli < est {
				return insufficient(a.ID, a.BalanceMilli, est)
			}
			s := p.emit("mission.started", pMission{MissionID: in.MissionID, AgentID: in.AgentID, MissionType: in.MissionType, Complexity: in.Complexity,
				SkillLevelPPM: a.SkillPPM, EstimateMilli: est}, nil, Meta{})
			if est > 0 {
				mid := in.MissionID
				p.emit("credit.consumed", pCredit{EntityID: a.ID, EntityType: "agent", AgentID: a.ID, AmountMilli: est, BalanceAfterMilli: a.BalanceMilli - est,
					Reason: "mission_start:" + in.MissionType, MissionID: &mid}, strPtr(s.EventID), Meta{})
			}
			return nil
		}
		if m == nil {
			return notFound("mission", in.MissionID)
		}
		finished := m.Status != "running"
		if e.cfg.Defects.Has(DefectH7MissionZeroRefundReopen) {
			finished = m.RefundMilli > 0 // defect: "already refunded" taken for "finished"
		}
		if finished {
			return &APIError{Status: 409, Code: "mission_finished", Detail: fmt.Sprintf("mission %q is already %s", m.ID, m.Status),
				Extra: map[string]any{"mission_id": m.ID, "status": m.Status}}
		}
		var refund int64
		pm := pMission{MissionID: m.ID, AgentID: m.AgentID}
		switch op {
		case "complete":
			refund = max(0, m.EstimateMilli-*in.ActualMilli)
			if e.cfg.Defects.Has(DefectH14MissionCompleteUnroundedEstimate) {
				// defect: the estimate recomputed, unrounded, from the mission's parameters
				refund = max(0, missionEstimateExactMilli(m.Type, m.Complexity, m.SkillPPM)-*in.ActualMilli)
			}
			pm.ActualMilli = *in.ActualMilli
		case "fail":
			share := e.cfg.MissionRefundPPM
			if in.RefundPPM != nil && !(*in.RefundPPM == 0 && e.cfg.Defects.Has(DefectMissionFailZeroPercent)) {
				share = *in.RefundPPM // defect: 0 is taken for "not given" and gets the default share
			}
			refund = m.EstimateMilli * share / 1_000_000
			pm.RefundPPM = share
		case "cancel":
			refund = m.EstimateMilli
		default:
			panic("specbackend: unknown mission op " + op)
		}
		if refund > 0 {
			if ae := refundLimit(st, m.ID, refund); ae != nil {
				return ae
			}
		}
		pm.RefundMilli = refund
		pm.ConsumeEvent = m.ConsumeEventID
		typ := map[string]string{"complete": "mission.completed", "fail": "mission.failed", "cancel": "mission.cancelled"}[op]
		end := p.emit(typ, pm, nil, Meta{})
		if op == "complete" && e.cfg.Defects.Has(DefectH13MissionOverrunCharged) {
			// defect: an actual cost above the estimate is settled by charging the difference
			if a := st.Agents[m.AgentID]; *in.ActualMilli > m.EstimateMilli && a.BalanceMilli >= *in.ActualMilli-m.EstimateMilli {
				over, mid := *in.ActualMilli-m.EstimateMilli, m.ID
				p.emit("credit.consumed", pCredit{EntityID: a.ID, EntityType: "agent", AgentID: a.ID, AmountMilli: over, BalanceAfterMilli: a.BalanceMilli - over,
					Reason: "mission_overrun", MissionID: &mid}, strPtr(end.EventID), Meta{})
			}
		}
		if refund > 0 {
			a := st.Agents[m.AgentID]
			mid := m.ID
			var cause *string
			if m.ConsumeEventID != "" {
				cause = strPtr(m.ConsumeEventID)
			}
			p.emit("credit.refunded", pCredit{EntityID: a.ID, EntityType: "agent", AgentID: a.ID, AmountMilli: refund, BalanceAfterMilli: a.BalanceMilli + refund,
				Reason: "mission_" + op, MissionID: &mid}, cause, Meta{})
		}
		return nil
	})
}

// respond builds a command's answer from its events only, so a keyed retry after a
// restart gets the same answer as the first call.
func respond(kind string, evs []*Event) *Response {
	ev := evs[0]
	ok := func(b map[string]any) *Response { return &Response{Status: 200, Body: b} }
	switch kind {
	case "create_agent":
		pa := decodePayload[pAgent](ev)
		id := ev.EventID
		if len(evs) > 1 {
			id = evs[1].EventID
		}
		return ok(map[string]any{"agent_id": pa.AgentID, "initial_credits": formatMilli(pa.InitialMilli), "balance": formatMilli(pa.InitialMilli),
			"skill_level": formatPPM(pa.SkillLevelPPM), "event_id": id, "registered_event_id": ev.EventID, "timestamp": ev.Timestamp})
	case "consume", "refund", "add", "withdraw":
		if ev.EventType == "approval.requested" {
			return approvalResponse(evs)
		}
		pc := decodePayload[pCredit](ev)
		b := map[string]any{"agent_id": pc.AgentID, "amount": formatMilli(pc.AmountMilli), "balance_after": formatMilli(pc.BalanceAfterMilli),
			"reason": pc.Reason, "mission_id": pc.MissionID, "event_id": ev.EventID, "timestamp": ev.Timestamp, "metadata": ev.Metadata}
		return ok(b)
	case "request_approval":
		return approvalResponse(evs)
	case "expire", "eoc": // system commands: nobody reads the answer
		return ok(map[string]any{"event_id": ev.EventID, "event_type": ev.EventType})
	case "approve", "reject":
		pa := decodePayload[pApproval](ev)
		switch ev.EventType {
		case "approval.expired":
			return &Response{Status: 409, Body: map[string]any{"detail": "approval " + pa.RequestID + " expired at " + pa.ExpiresAt, "code": "already_decided",
				"request_id": pa.RequestID, "status": "expired", "version": pa.Version, "decision": Decision{EventType: ev.EventType, EventID: ev.EventID, ActorID: ev.ActorID, Timestamp: ev.Timestamp}}}
		case "approval.vote_recorded":
			return ok(map[string]any{"request_id": pa.RequestID, "status": "pending", "version": pa.Version, "votes": 1,
				"required_approvals": pa.RequiredApprovals, "event_id": ev.EventID, "decision_event_id": nil})
		}
		b := map[string]any{"request_id": pa.RequestID, "status": strings.TrimPrefix(ev.EventType, "approval."), "version": pa.Version,
			"event_id": ev.EventID, "decision_event_id": ev.EventID, "approver_id": pa.ApproverID}
		if len(evs) > 1 {
			pc := decodePayload[pCredit](evs[1])
			b["executed_event_id"] = evs[1].EventID
			b["agent_id"], b["amount"], b["balance_after"] = pc.AgentID, formatMilli(pc.AmountMilli), formatMilli(pc.BalanceAfterMilli)
			b["approvers"] = pa.Approvers
		}
		return ok(b)
	case "collaboration":
		pc := decodePayload[pCollab](ev)
		type rw struct {
			AgentID       string      `json:"agent_id"`
			Contribution  json.Number `json:"contribution"`
			Reward        json.Number `json:"reward"`
			Capped        json.Number `json:"capped"`
			Raw           json.Number `json:"raw_reward"`
			BalanceAfter  json.Number `json:"balance_after,omitempty"`
			KarmaSource   string      `json:"karma_source"`
			KarmaScore    float64     `json:"karma_score"`
			EventID       string      `json:"event_id,omitempty"`
			CappedEventID string      `json:"capped_event_id,omitempty"`
		}
		rows := map[string]*rw{}
		for _, id := range pc.AgentIDs {
			rows[id] = &rw{AgentID: id, Contribution: formatPPM(pc.ContributionPPM[id]), Reward: "0", Capped: "0", Raw: "0", KarmaSource: "fallback", KarmaScore: FallbackCI}
		}
		var paid, capped int64
		for _, x := range evs[1:] {
			switch x.EventType {
			case "synergie.reward_granted":
				g := decodePayload[pCredit](x)
				r := rows[g.AgentID]
				r.Reward, r.Raw, r.BalanceAfter, r.EventID = formatMilli(g.AmountMilli), formatMilli(g.RawRewardMilli), formatMilli(g.BalanceAfterMilli), x.EventID
				paid += g.AmountMilli
				if x.Metadata.KarmaScore != nil {
					r.KarmaSource, r.KarmaScore = x.Metadata.KarmaSource, *x.Metadata.KarmaScore
				}
			case "synergie.reward_capped":
				c := decodePayload[pCapped](x)
				r := rows[c.AgentID]
				r.Capped, r.Raw, r.CappedEventID = formatMilli(c.AmountMilli), formatMilli(c.RawRewardMilli), x.EventID
				capped += c.AmountMilli
				if x.Metadata.KarmaScore != nil {
					r.KarmaSource, r.KarmaScore = x.Metadata.KarmaSource, *x.Metadata.KarmaScore
				}
			}
		}
		list := make([]*rw, 0, len(rows))
		for _, id := range pc.AgentIDs {
			list = append(list, rows[id])
		}
		return ok(map[string]any{"collaboration_id": pc.CollaborationID, "team_id": pc.TeamID, "mission_id": pc.MissionID, "event_id": ev.EventID,
			"rewards": list, "total_rewarded": formatMilli(paid), "total_capped": formatMilli(capped)})
	}
	if strings.HasPrefix(kind, "pool_") {
		pp := decodePayload[pPool](ev)
		b := map[string]any{"pool_id": pp.PoolID, "event_id": ev.EventID, "event_type": ev.EventType, "balance": formatMilli(pp.PoolBalanceAfterMilli)}
		if pp.AmountMilli != 0 {
			b["amount"] = formatMilli(pp.AmountMilli)
		}
		if pp.AgentID != "" {
			b["agent_id"] = pp.AgentID
		}
		if pp.AgentBalanceAfterMilli != nil {
			b["agent_balance_after"] = formatMilli(*pp.AgentBalanceAfterMilli)
		}
		if pp.ToPoolID != "" {
			b["to_pool_id"] = pp.ToPoolID
			b["to_pool_balance_after"] = formatMilli(*pp.ToBalanceAfterMilli)
		}
		if kind == "pool_create" {
			return &Response{Status: 201, Body: b}
		}
		return ok(b)
	}
	if strings.HasPrefix(kind, "mission_") {
		pm := decodePayload[pMission](ev)
		b := map[string]any{"mission_id": pm.MissionID, "agent_id": pm.AgentID, "status": map[string]string{"mission.started": "running", "mission.completed": "completed",
			"mission.failed": "failed", "mission.cancelled": "cancelled"}[ev.EventType], "event_id": ev.EventID}
		if ev.EventType == "mission.started" {
			b["mission_type"], b["complexity"], b["estimated_cost"] = pm.MissionType, pm.Complexity, formatMilli(pm.EstimateMilli)
		} else {
			b["refund"] = formatMilli(pm.RefundMilli)
		}
		if len(evs) > 1 {
			pc := decodePayload[pCredit](evs[1])
			b["balance_after"] = formatMilli(pc.BalanceAfterMilli)
			b["credit_event_id"] = evs[1].EventID
		}
		if kind == "mission_start" {
			return &Response{Status: 201, Body: b}
		}
		return ok(b)
	}
	panic("specbackend: respond: unknown command kind " + kind)
}

func approvalResponse(evs []*Event) *Response {
	ev := evs[0]
	pa := decodePayload[pApproval](ev)
	b := map[string]any{"request_id": pa.RequestID, "status": "pending", "risk_level": pa.RiskLevel, "version": pa.Version,
		"approval_required": true, "action_type": pa.ActionType, "agent_id": pa.AgentID, "amount": formatMilli(pa.AmountMilli),
		"reason": pa.Reason, "justification": pa.Justification, "requester_id": pa.RequesterID, "required_approvals": pa.RequiredApprovals,
		"expires_at": pa.ExpiresAt, "timeout_seconds": pa.TimeoutSeconds, "event_id": ev.EventID}
	if len(evs) >= 3 { // LOW: auto-approved and executed
		pc := decodePayload[pCredit](evs[2])
		b["status"], b["version"], b["approval_required"] = "approved", 2, false
		b["decision_event_id"], b["executed_event_id"], b["balance_after"] = evs[1].EventID, evs[2].EventID, formatMilli(pc.BalanceAfterMilli)
	}
	return &Response{Status: 202, Body: b}
}

// approvalView renders a request with its decisions (GET /approvals/{id}).
func approvalView(a *Approval, now time.Time) map[string]any {
	status := a.Status
	if status == "pending" && !now.Before(a.expires) {
		status = "expired" // lazily: the timer journals approval.expired shortly
	}
	decisions := []map[string]any{}
	ids := []string{}
	for _, v := range a.Votes {
		if a.Decision != nil && v.EventID == a.Decision.EventID {
			continue
		}
		decisions = append(decisions, map[string]any{"event_type": "approval.vote_recorded", "event_id": v.EventID, "actor_id": v.ApproverID, "timestamp": v.Timestamp})
		ids = append(ids, v.EventID)
	}
	if a.Decision != nil {
		decisions = append(decisions, map[string]any{"event_type": a.Decision.EventType, "event_id": a.Decision.EventID, "actor_id": a.Decision.ActorID, "timestamp": a.Decision.Timestamp})
		ids = append(ids, a.Decision.EventID)
	}
	approvers := []string{}
	for _, v := range a.Votes {
		approvers = append(approvers, v.ApproverID)
	}
	sort.Strings(approvers)
	return map[string]any{"request_id": a.ID, "status": status, "risk_level": a.Risk, "version": a.Version, "action_type": a.ActionType,
		"agent_id": a.AgentID, "amount": formatMilli(a.AmountMilli), "reason": a.Reason, "justification": a.Justification,
		"requester_id": a.Requester, "required_approvals": a.Required, "approvers": approvers, "created_at": a.CreatedAt, "expires_at": a.ExpiresAt,
		"request_event_id": a.RequestEventID, "decisions": decisions, "decision_event_ids": ids, "decision": a.Decision,
		"executed_event_id": nilIfEmpty(a.ExecutedEventID)}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
