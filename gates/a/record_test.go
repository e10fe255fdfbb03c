package a_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
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
