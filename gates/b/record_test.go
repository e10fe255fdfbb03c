package b_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// record records a check the spec declared with env.Require, and only when
// it applies to the target: otherwise Require has already recorded it as
// SKIP or N/A with the reason, once.
func record(env *harness.Env, id string, m harness.Measure) {
	if env.Applies(id) {
		env.Record(id, m)
	}
}

// recordFindings records audit findings as record does.
func recordFindings(env *harness.Env, fs []audit.Finding, variant string) {
	for _, f := range fs {
		if env.Applies(catalog.IDOf(f.Check)) {
			env.RecordFinding(f, variant)
		}
	}
}

// serves reports whether the backend serves every route, and names the
// ones it does not.
func serves(env *harness.Env, routes ...string) (bool, []string) {
	var missing []string
	for _, r := range routes {
		if !env.Routes.Has(r) {
			missing = append(missing, r)
		}
	}
	return len(missing) == 0, missing
}

// stateOf is what a refused request must leave unchanged, read through the
// backend's own routes: the digest and last seq (GET /digest) where it
// serves them, else the balances (GET /balances, the original's route) of
// this suite's agents — on a shared url target only those under its
// namespace, so other clients' writes do not count. ok is false when the
// backend serves neither or the read failed; how says which route was read.
func stateOf(ctx context.Context, env *harness.Env) (state, how string, ok bool) {
	switch {
	case env.Routes.Has(catalog.Digest):
		r := env.C.Get(ctx, "/api/credits/digest")
		if !r.OK() {
			return fmt.Sprintf("GET /digest answered %d", r.Status), "GET /api/credits/digest", false
		}
		return fmt.Sprintf("seq %v digest %v", r.Body["seq"], r.Body["digest"]), "GET /api/credits/digest", true
	case env.Routes.Has(catalog.Balances):
		r := env.C.Get(ctx, "/api/credits/balances")
		if !r.OK() {
			return fmt.Sprintf("GET /balances answered %d", r.Status), "GET /api/credits/balances", false
		}
		all, _ := r.Body["balances"].(map[string]any)
		own := map[string]any{}
		for id, v := range all {
			if strings.HasPrefix(id, env.NS) {
				own[id] = v
			}
		}
		b, _ := json.Marshal(own) // map keys sorted: a canonical form
		return string(b), "GET /api/credits/balances", true
	}
	return "", "neither GET /api/credits/digest nor GET /api/credits/balances", false
}

// foldFixtures gives a later fold comparison something of every kind to
// compare, through the routes the backend serves: a collaboration of two
// new agents (synergie totals, the cap, B4 and B9) and two approval
// requests, one approved and one pending (B3, B8, B12).
func foldFixtures(ctx context.Context, env *harness.Env, prefix string) {
	if !env.Routes.Has(catalog.Agents) {
		return
	}
	a, b := env.ID(prefix+"-fold-a"), env.ID(prefix+"-fold-b")
	for _, id := range []string{a, b} {
		err := env.C.CreateAgent(ctx, id, 100)
		harness.Ensure(err == nil, "creating agent %s must succeed: %v", id, err)
	}
	if env.Routes.Has(catalog.Collaborations) {
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/synergie/collaborations", Kind: history.KindCollaboration,
			Key: prefix + "-fold-collab", Entity: env.ID(prefix + "-fold-c"),
			Body: map[string]any{"collaboration_id": env.ID(prefix + "-fold-c"), "team_id": env.ID(prefix + "-fold-team"),
				"agent_ids": []string{a, b}, "contribution_scores": map[string]float64{a: 0.8, b: 0.6}}})
		harness.Ensure(r.OK(), "recording a collaboration of %s and %s must succeed; it answered %d %s", a, b, r.Status, r.Raw)
	}
	if ok, _ := serves(env, catalog.ApprovalRequest, catalog.Approve); ok {
		for i, decide := range []bool{true, false} {
			id, r := env.C.RequestApproval(ctx, a, prefix+"-requester", 600.5, "", fmt.Sprintf("%s-fold-appr-%d", prefix, i))
			harness.Ensure(id != "", "an approval request for 600.5 credits must answer a request_id; it answered %d %s", r.Status, r.Raw)
			if decide {
				d := env.C.Decide(ctx, id, prefix+"-approver", true, "ok", fmt.Sprintf("%s-fold-appr-dec-%d", prefix, i))
				harness.Ensure(d.OK(), "approving request %s must succeed; it answered %d %s", id, d.Status, d.Raw)
			}
		}
	}
}

// only keeps the findings of the listed checks (a judge that decides
// checks of two gates records each gate's in its own suite).
func only(fs []audit.Finding, ids ...string) []audit.Finding {
	var out []audit.Finding
	for _, f := range fs {
		for _, id := range ids {
			if catalog.IDOf(f.Check) == id {
				out = append(out, f)
			}
		}
	}
	return out
}
