package catalog

// exploreChecks are the generated checks (issue 17, "Explore, don't
// script"; STYLE 22): a seeded generative workload over every route, judged
// by the reference model (gates/audit/explore.go), with engine settings
// drawn per seed; and a fuzzer generated from the request grammar.
var exploreChecks = []Check{
	{ID: "A24", Gate: "A", Critical: true, Title: "generated grammar: no 5xx",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume, Add, Withdraw, Refund, ApprovalRequest, Approve, PoolCreate, PoolAllocate, MissionStart, OpenAPI)},
	{ID: "A25", Gate: "A", Critical: true, Title: "generated grammar: every invalid request refused, every valid one accepted",
		Rules: rs("§1 input", "§6 errors", "§3 idempotent retry"), Routes: rs(Agents, Consume, Add, Withdraw, Refund, ApprovalRequest, Approve, PoolCreate, PoolAllocate, MissionStart, OpenAPI)},
	{ID: "A26", Gate: "A", Critical: true, Title: "generated grammar: refused requests changed nothing (digest and seq)",
		Rules: rs("§6 errors"), Routes: rs(Agents, Consume, Digest)},

	{ID: "B47", Gate: "B", Critical: true, Title: "generated commands: every answer is what the rules predict",
		Rules: rs("§5 consume", "§5 every money path", "§5 missions", "§5 pools", "§5 risk levels", "§5 executes once", "§3 idempotent retry", "§3 key conflict",
			"§3 keys survive restarts", "§3 durability", "§6 auth"),
		Routes: exploreRoutes, Needs: caps(CapWriter), Uses: exploreFaults},
	{ID: "B48", Gate: "B", Critical: true, Title: "generated commands: the final state equals the model",
		Rules: rs("§1 exact", "§4 reads current", "§4 projections", "§3 durability"), Routes: exploreRoutes, Needs: caps(CapWriter),
		Uses: exploreFaults},
	{ID: "C31", Gate: "C", Critical: true, Title: "generated decisions: the acting principal is the token's, never the body's; four-eyes holds",
		Rules: rs("§5 four eyes", "§6 auth"), Routes: append(rs(ApprovalRequest, ApprovalGet, Approve, Reject), exploreRoutes...), Needs: caps(CapTokens), Uses: exploreFaults},
	{ID: "C32", Gate: "C", Critical: true, Title: "generated settings: gating, risk levels, timeouts and limits follow the backend's settings",
		Rules: rs("§5 risk levels", "§5 expiry", "§1 input"), Routes: append(rs(Withdraw, ApprovalRequest, ApprovalGet, Approve, Reject), exploreRoutes...), Needs: caps(CapSettings, CapTokens), Uses: exploreFaults},
}

// exploreFaults are the faults the generated workload lands among its
// commands where the target offers them (kill -9, clean restart, power
// cut, KARMA down/slow); elsewhere they are skipped with the reason.
var exploreFaults = caps(CapCrash, CapRestart, CapPowerLoss, CapKarmaControl)

// exploreRoutes are the routes the generated workload drives.
var exploreRoutes = rs(Agents, Consume, Refund, Add, Balance)

// ExploreForeignRoutes are the routes the generated workload draws on for
// a backend other than our engine: those whose answers SPEC §6 fixes (the
// original's shapes) and the human gate's, whose effects the model follows
// from the rules and the balances (a request's request_id, status,
// risk_level; a decision's already_decided). Pools, missions and
// collaborations answer in shapes the SPEC leaves to the backend, which
// the reference model cannot read for another backend without guessing.
var ExploreForeignRoutes = rs(Agents, Consume, Refund, Add, Balance, Withdraw, ApprovalRequest, ApprovalGet, Approve, Reject)

// ExploreIdentityRoutes are the routes whose acting principal matters
// (the human gate's): on a backend without auth the principal is the
// body's, which the model does not follow, so they are not explored there.
var ExploreIdentityRoutes = rs(ApprovalRequest, ApprovalGet, Approve, Reject)

// ExploreRoutes are the routes the generated workload draws its commands
// on: those of exploreRoutes it needs, the rest where the backend serves
// them (a step on a route it does not serve is not sent; the detail names
// the routes left out).
var ExploreRoutes = rs(Agents, Consume, Refund, Add, Withdraw, Balance, ApprovalRequest, ApprovalGet, Approve, Reject,
	PoolCreate, PoolGet, PoolMemberAdd, PoolMemberRemove, PoolAllocate, PoolConsume, PoolRefund, PoolTransfer, PoolClose,
	MissionStart, MissionGet, MissionComplete, MissionFail, MissionCancel, MissionRate, Collaborations)
