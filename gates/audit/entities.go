package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/scenarios/money"
)

// PoolView is GET /api/credits/pools/{id}.
type PoolView struct {
	BalanceMilli int64
	Members      []string // sorted
	Closed       bool
}

// MissionView is GET /api/credits/missions/{id}.
type MissionView struct {
	AgentID, Status                             string
	EstimateMilli, ConsumedMilli, RefundedMilli int64
	Rating                                      float64
	// Unserved names the amounts the answer left out ("estimate", …):
	// SPEC §6 leaves the mission view to the backend ("document them"),
	// so they are not compared — unless the backend is our engine.
	Unserved string
}

// EntityState is what the per-entity read routes say about every agent,
// pool and mission the model knows.
type EntityState struct {
	AgentBalances map[string]int64 // GET /balance/{id}
	Pools         map[string]PoolView
	Missions      map[string]MissionView
	Approvals     map[string]ApprovalState // GET /approvals/{id}
}

// FetchEntities reads GET /balance/{id} of every agent, /pools/{id} of
// every pool and /missions/{id} of every mission the model knows.
func (c *APIClient) FetchEntities(ctx context.Context, m *Model) (*EntityState, error) {
	st := &EntityState{AgentBalances: map[string]int64{}, Pools: map[string]PoolView{}, Missions: map[string]MissionView{},
		Approvals: map[string]ApprovalState{}}
	for _, id := range m.ApprovalIDs() {
		a, err := c.Approval(ctx, id)
		if err != nil {
			return nil, err
		}
		st.Approvals[id] = a
	}
	shareDecisionFields(st.Approvals)
	for _, id := range sortedKeys(m.Agents) {
		var r struct {
			Balance json.Number `json:"balance"`
		}
		if err := c.getJSON(ctx, "/api/credits/balance/"+url.PathEscape(id), &r); err != nil {
			return nil, err
		}
		v, err := milli("balance of "+id, r.Balance)
		if err != nil {
			return nil, err
		}
		st.AgentBalances[id] = v
	}
	for _, id := range sortedKeys(m.Pools) {
		var r struct {
			Balance json.Number `json:"balance"`
			Members []string    `json:"members"`
			Closed  bool        `json:"closed"`
		}
		if err := c.getJSON(ctx, "/api/credits/pools/"+url.PathEscape(id), &r); err != nil {
			return nil, err
		}
		v, err := milli("pool balance", r.Balance)
		if err != nil {
			return nil, err
		}
		sort.Strings(r.Members)
		st.Pools[id] = PoolView{BalanceMilli: v, Members: r.Members, Closed: r.Closed}
	}
	for _, id := range sortedKeys(m.Missions) {
		var r struct {
			AgentID  string       `json:"agent_id"`
			Status   string       `json:"status"`
			Estimate *json.Number `json:"estimate"`
			Consumed *json.Number `json:"consumed"`
			Refunded *json.Number `json:"refunded"`
			Rating   float64      `json:"rating"`
		}
		if err := c.getJSON(ctx, "/api/credits/missions/"+url.PathEscape(id), &r); err != nil {
			return nil, err
		}
		mv := MissionView{AgentID: r.AgentID, Status: r.Status, Rating: r.Rating}
		var err error
		var unserved []string
		for _, f := range []struct {
			name string
			dst  *int64
			n    *json.Number
		}{{"estimate", &mv.EstimateMilli, r.Estimate}, {"consumed", &mv.ConsumedMilli, r.Consumed}, {"refunded", &mv.RefundedMilli, r.Refunded}} {
			if f.n == nil {
				unserved = append(unserved, f.name)
				continue
			}
			if *f.dst, err = milli("mission "+id, *f.n); err != nil {
				return nil, err
			}
		}
		mv.Unserved = strings.Join(unserved, ", ")
		st.Missions[id] = mv
	}
	return st, nil
}

// FetchEntities reads the per-entity routes into api.Entities.
func FetchEntities(ctx context.Context, baseURL, token string, m *Model, api *APIState) error {
	ent, err := (&APIClient{BaseURL: baseURL, Token: token}).FetchEntities(ctx, m)
	if err != nil {
		return err
	}
	api.Entities = ent
	return nil
}

// Entity checks.
const (
	CheckFormulas = "B11 derived amounts equal the documented formulas (agent allocation, mission estimate/refund, synergie reward, KARMA fallback, risk level, EoC)"
	CheckEntities = "B12 GET /balance/{id}, /pools/{id}, /missions/{id} and /approvals/{id} equal the reference fold"
)

// FormulaCheck: every amount or score an event derives by a documented
// formula equals the model's recomputation from the events it derives from.
func FormulaCheck(m *Model) Finding {
	var v violations
	for _, p := range m.Problems {
		if p.Kind == ProblemFormula {
			v.add("%s", p)
		}
	}
	return v.finding(CheckFormulas, countMeasured(&v, m.FormulaChecks, "recomputed amounts"), "0", "")
}

// CompareEntities: each agent's single-balance read, each pool's balance,
// members and closed flag, each mission's status and amounts equal the
// model's. Skipped (passes with a note) when the entities were not fetched.
func CompareEntities(m *Model, api APIState) Finding {
	var v violations
	ent := api.Entities
	if ent == nil {
		return v.finding(CheckEntities, "not fetched", "0 (exact)", "the per-entity routes were not read")
	}
	for _, id := range sortedKeys(m.Agents) {
		if got, ok := ent.AgentBalances[id]; !ok || got != m.Balances[id] {
			v.add("GET /balance/%s: %s, model %s", id, money.FormatMilli(got), money.FormatMilli(m.Balances[id]))
		}
	}
	for _, id := range sortedKeys(m.Pools) {
		p := m.Pools[id]
		got := ent.Pools[id]
		var members []string
		for a, in := range p.Members {
			if in {
				members = append(members, a)
			}
		}
		sort.Strings(members)
		if got.BalanceMilli != p.BalanceMilli || got.Closed != p.Closed || strings.Join(got.Members, ",") != strings.Join(members, ",") {
			v.add("GET /pools/%s: balance %s closed %v members %v, model %s %v %v", id, money.FormatMilli(got.BalanceMilli), got.Closed,
				got.Members, money.FormatMilli(p.BalanceMilli), p.Closed, members)
		}
	}
	for _, id := range sortedKeys(m.Missions) {
		ms := m.Missions[id]
		got := ent.Missions[id]
		want := MissionView{AgentID: ms.AgentID, Status: ms.Status, EstimateMilli: ms.EstimateMilli,
			ConsumedMilli: ms.ConsumedMilli, RefundedMilli: ms.RefundedMilli, Rating: ms.Rating}
		if got.Unserved != "" && api.AllFields {
			v.add("GET /missions/%s serves no %s, which our engine always serves", id, got.Unserved)
		}
		for _, f := range strings.Split(got.Unserved, ", ") {
			switch f { // not served, not compared
			case "estimate":
				want.EstimateMilli = got.EstimateMilli
			case "consumed":
				want.ConsumedMilli = got.ConsumedMilli
			case "refunded":
				want.RefundedMilli = got.RefundedMilli
			}
		}
		want.Unserved = got.Unserved
		if got != want {
			v.add("GET /missions/%s: %+v, model %+v", id, got, want)
		}
	}
	for _, id := range m.ApprovalIDs() {
		got, ok := ent.Approvals[id]
		if !ok {
			v.add("GET /approvals/%s: not read", id)
			continue
		}
		if d := approvalDiffs(*m.Approvals[id], got); len(d) > 0 {
			v.add("GET /approvals/%s: %s", id, strings.Join(d, "; "))
		}
	}
	n := len(m.Agents) + len(m.Pools) + len(m.Missions) + len(m.Approvals)
	return v.finding(CheckEntities, countMeasured(&v, n, "entities"), "0 (exact)",
		fmt.Sprintf("%d agents, %d pools, %d missions, %d approvals (every field the journal fixes)%s", len(m.Agents), len(m.Pools), len(m.Missions),
			len(m.Approvals), approvalsNotServed(ent.Approvals)))
}
