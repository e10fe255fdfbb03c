package d_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// D59: SPEC §4 makes every read model a fold of the journal, so "state
// after replay == state before" — judged here from the backend's own
// views, for any backend: every GET it serves of the entities the restart
// round trip touched (balances, histories, rewards, a mission, a pool with
// a member removed, a pending approval) answers the same after a kill -9
// at rest as right before it. A fact a backend keeps only in memory, or
// rebuilds from its journal differently, shows as a view that changed
// while no command ran.

// volatileMember names members that may change with the clock alone
// (relative times, uptime, ages); they are left out of the comparison.
var volatileMember = regexp.MustCompile(`(?i)(^|_)(now|uptime|age|elapsed|remaining|expires_in|ttl|seconds_left)(_|$)|_in_(ms|s|seconds)$`)

// restartViews is the set of GET paths D59 reads before and after.
type restartViews struct {
	paths  []string
	before map[string]any
}

// viewPaths lists the views of the entities, each only where the backend
// serves its route.
func viewPaths(env *harness.Env, agents []string, mission, pool, approval string) []string {
	var out []string
	add := func(route, path string) {
		if env.Routes.Has(route) {
			out = append(out, path)
		}
	}
	for _, a := range agents {
		add(catalog.Balance, "/api/credits/balance/"+a)
		add(catalog.History, "/api/credits/history/"+a+"?limit=50")
		add(catalog.Synergie, "/api/credits/synergie/"+a)
	}
	if mission != "" {
		add(catalog.MissionGet, "/api/credits/missions/"+mission)
	}
	if pool != "" {
		add(catalog.PoolGet, "/api/credits/pools/"+pool)
	}
	if approval != "" {
		add(catalog.ApprovalGet, "/api/credits/approvals/"+approval)
	}
	return out
}

// read answers every path's body with its volatile members left out; a
// view that does not answer 200 is kept as its status.
func (v *restartViews) read(ctx context.Context, env *harness.Env) map[string]any {
	out := map[string]any{}
	for _, p := range v.paths {
		r := env.C.Get(ctx, p)
		if !r.OK() {
			out[p] = fmt.Sprintf("status %d", r.Status)
			continue
		}
		d := json.NewDecoder(bytes.NewReader(r.Raw))
		d.UseNumber()
		var doc any
		if d.Decode(&doc) != nil {
			out[p] = "not JSON: " + string(r.Raw[:min(len(r.Raw), 80)])
			continue
		}
		out[p] = stable(doc)
	}
	return out
}

func stable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, x := range t {
			if !volatileMember.MatchString(k) {
				m[k] = stable(x)
			}
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = stable(x)
		}
		return out
	}
	return v
}

// firstDiff names the first member (by path) where a and b differ.
func firstDiff(path string, a, b any) string {
	switch ta := a.(type) {
	case map[string]any:
		tb, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range ta {
			keys[k] = true
		}
		for k := range tb {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if !reflect.DeepEqual(ta[k], tb[k]) {
				return firstDiff(path+"."+k, ta[k], tb[k])
			}
		}
	case []any:
		tb, ok := b.([]any)
		if !ok || len(ta) != len(tb) {
			break
		}
		for i := range ta {
			if !reflect.DeepEqual(ta[i], tb[i]) {
				return firstDiff(fmt.Sprintf("%s[%d]", path, i), ta[i], tb[i])
			}
		}
	}
	show := func(x any) string {
		b, _ := json.Marshal(x)
		return string(b[:min(len(b), 120)])
	}
	return fmt.Sprintf("%s: %s before, %s after", path, show(a), show(b))
}

// compare reads the views again and records D59.
func (v *restartViews) compare(ctx context.Context, env *harness.Env) harness.Measure {
	after := v.read(ctx, env)
	var diffs []string
	for _, p := range v.paths {
		if !reflect.DeepEqual(v.before[p], after[p]) {
			diffs = append(diffs, firstDiff(p, v.before[p], after[p]))
		}
	}
	return harness.Measure{OK: len(diffs) == 0, Samples: len(v.paths), Measured: len(diffs), Threshold: 0,
		Detail: fmt.Sprintf("%d views (balances, histories, rewards, a mission, a pool with a member removed, a pending approval, as served) read right before a kill -9 at rest and right after the restart, nothing sent in between; members that move with the clock alone (%s) left out\n%s",
			len(v.paths), volatileMember.String(), strings.Join(diffs, "\n"))}
}

// viewFixtures adds what only D59 needs to the once-only fixture: a
// consume naming a mission (its history entry carries the mission_id a
// replay must keep), a pool with two members, an allocation and a member
// removed, and an approval left pending. Each only where its routes are
// served; a refusal leaves that view out.
func viewFixtures(ctx context.Context, env *harness.Env, a, b string) (pool, approval, missionRef string) {
	// Its own agent: the black-box judge folds a and b from the workload's
	// writes alone.
	if m := env.ID("gate-d-views-mref"); env.C.CreateAgent(ctx, m, 10) == nil {
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: env.ID("gate-d-views-mission-consume"),
			Body: map[string]any{"agent_id": m, "amount": json.Number("0.5"), "reason": "views", "mission_id": env.ID("gate-d-views-m")}})
		if r.OK() {
			missionRef = m
		}
	}
	if env.Routes.Has(catalog.PoolCreate) && env.Routes.Has(catalog.PoolAllocate) && env.Routes.Has(catalog.PoolMemberRemove) {
		p := env.ID("gate-d-views-pool")
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/pools", Kind: history.KindPoolCreate, Entity: p, Key: p + "-create",
			Body: map[string]any{"pool_id": p, "members": []string{a, b}}})
		if r.OK() {
			env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + p + "/allocate", Kind: history.KindPoolAllocate, Entity: p, Key: p + "-alloc",
				Body: map[string]any{"amount": json.Number("12.5"), "reason": "views"}})
			env.C.Do(ctx, scenarios.Call{Method: "DELETE", Path: "/api/credits/pools/" + p + "/members/" + b, Kind: history.KindPoolMember, Entity: p, Key: p + "-remove"})
			pool = p
		}
	}
	if env.Routes.Has(catalog.ApprovalRequest) {
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/approvals", Kind: history.KindApprovalRequest, Key: env.ID("gate-d-views-approval"),
			Body: map[string]any{"action_type": "add", "agent_id": a, "amount": json.Number("600"), "reason": "views", "justification": "kept pending across a kill -9"}})
		if r.Status == 202 || r.OK() {
			approval = r.Str("request_id")
		}
	}
	return pool, approval, missionRef
}
