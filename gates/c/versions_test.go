package c_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
)

// SPEC §5: "Decisions use optimistic concurrency (the request's version;
// If-Match / expected_version optional)". The client may leave the version
// out; when it sends one the request has moved past, the decision is
// refused. Each form on a CRITICAL request of its own: the version is read
// (GET /approvals/{id}, as the backend counts it), one approver votes, and a
// second approver sends the version read before that vote. A backend that
// ignores the form decides the request on a view it never had.
var _ = Describe("Gate C: optimistic concurrency on decisions", Ordered, ContinueOnFailure, harness.Checks("C36"), func() {
	var env *harness.Env
	var agent string

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "C", nil)
		agent = env.ID("gate-c-versions-agent")
		if env.Routes.Has(catalog.Agents) {
			err := env.C.CreateAgent(ctx, agent, 100)
			harness.Ensure(err == nil, "the versions' agent %s must be created with 100 credits: %v", agent, err)
		}
	}, NodeTimeout(2*time.Minute))

	It("refuses a decision carrying a version the request has moved past, in expected_version and in If-Match, and it changes nothing", Label("critical"), func(ctx SpecContext) {
		env.Require("C36")
		// Each form with an approval and with a rejection: a backend may
		// read the version on one verb's path only.
		type form struct {
			name   string
			decide func(ctx context.Context, id, approver, key string, version any) scenarios.Reply
		}
		var forms []form
		for _, approve := range []bool{true, false} {
			if !approve && !env.Routes.Has(catalog.Reject) {
				continue // not served: the approving forms alone
			}
			verb := "reject"
			if approve {
				verb = "approve"
			}
			forms = append(forms,
				form{"expected_version, " + verb, func(ctx context.Context, id, approver, key string, version any) scenarios.Reply {
					return env.C.DecideAt(ctx, id, approver, approve, "second pair of eyes", key, version)
				}},
				form{"If-Match, " + verb, func(ctx context.Context, id, approver, key string, version any) scenarios.Reply {
					return env.C.DecideIfMatch(ctx, id, approver, approve, "second pair of eyes", key, version)
				}})
		}
		for _, f := range forms {
			slug := strings.NewReplacer(", ", "-", "_", "-").Replace(f.name)
			id, r := env.C.RequestApproval(ctx, agent, "gate-c-versions-requester", 50_000_000, "gate c versions", "gate-c-versions-"+slug)
			harness.Ensure(id != "" && r.Status == 202, "POST /approvals for 50,000 credits must open a pending request (202 with its request_id): got %d %s", r.Status, r.Raw)
			version := func() (any, scenarios.Reply) {
				g := env.C.Get(ctx, "/api/credits/approvals/"+id)
				harness.Ensure(g.OK(), "GET /approvals/%s must answer the request: got %d %s", id, g.Status, g.Raw)
				return g.Body["version"], g
			}
			seen, _ := version()
			if seen == nil {
				env.Record("C36", harness.Measure{Variant: f.name, Detail: "GET /approvals/{id} answers no version member, so no version can be sent back (SPEC §5 names the request's version)"})
				continue
			}
			vote := env.C.Decide(ctx, id, "gate-c-versions-a1", true, "reviewed", "gate-c-versions-a1-"+slug)
			harness.Ensure(vote.OK() && vote.Str("status") == "pending", "the first vote on a CRITICAL request must be recorded and leave it pending: got %d %s", vote.Status, vote.Raw)
			moved, _ := version()
			if fmt.Sprint(moved) == fmt.Sprint(seen) {
				env.Record("C36", harness.Measure{Variant: f.name, Detail: fmt.Sprintf("the request's version stayed %v across a vote, so no version sent back is stale", seen)})
				continue
			}
			before, berr := env.C.BalanceMilli(ctx, agent)
			stale := f.decide(ctx, id, "gate-c-versions-a2", "gate-c-versions-a2-"+slug, seen)
			after, state := version()
			now, aerr := env.C.BalanceMilli(ctx, agent)
			refused := stale.Status >= 400 && stale.Status < 500 && stale.Code() != "already_decided"
			unchanged := state.Str("status") == "pending" && fmt.Sprint(after) == fmt.Sprint(moved) && berr == nil && aerr == nil && now == before
			env.Record("C36", harness.Measure{OK: refused && unchanged, Samples: 1, Variant: f.name,
				Measured:  fmt.Sprintf("%d %s; request %s at version %v; balance %d → %d milli", stale.Status, stale.Code(), state.Str("status"), after, before, now),
				Threshold: "4xx (not already_decided), the request still pending at its version, the balance unchanged",
				Detail: fmt.Sprintf("request %s: version %v read, a vote moved it to %v, a second approver sent %v in %s: %s",
					id, seen, moved, seen, f.name, stale.Raw)})
		}
	})
})
