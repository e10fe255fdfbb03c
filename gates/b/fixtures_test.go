package b_test

import (
	"context"
	"fmt"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

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
		harness.Accepted(r, "recording a collaboration of %s and %s", a, b)
	}
	if ok, _ := env.Serves(catalog.ApprovalRequest, catalog.Approve); ok {
		for i, decide := range []bool{true, false} {
			id, r := env.C.RequestApproval(ctx, a, prefix+"-requester", 600_500, "", fmt.Sprintf("%s-fold-appr-%d", prefix, i))
			harness.Ensure(id != "", "an approval request for 600.5 credits must answer a request_id; it answered %d %s", r.Status, r.Raw)
			if decide {
				d := env.C.Decide(ctx, id, prefix+"-approver", true, "ok", fmt.Sprintf("%s-fold-appr-dec-%d", prefix, i))
				harness.Accepted(d, "approving request %s", id)
			}
		}
	}
}
