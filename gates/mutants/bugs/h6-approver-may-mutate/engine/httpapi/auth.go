//go:build mutant

// Seeded bug h6-approver-may-mutate (blind hunt 6): with tokens configured, a token of role approver
// may perform mutations (consume, add, withdraw, refund, agents, pools, missions, synergie, POST
// /approvals), breaking SPEC §6 Auth 'mutations operator/service/admin, decisions approver/admin;
// 401/403 otherwise': Principal.may now admits every role but reader for mutations. Reader tokens are
// still refused (403), deciding is unchanged, and dev mode is unaffected. A client sees:
// CREDITD_TOKENS=top=otto:operator,tap=bob:approver,trd=rita:reader; POST /agents with top; POST
// /consume {agent_id, amount 1} with Bearer tap → 200 credit.consumed (should be 403 forbidden); with
// trd still 403. An approver can also open a request (POST /add 600 → 202, requester bob) that another
// approver then approves.

package httpapi

func (p Principal) may(a access) bool {
	switch a {
	case accessRead:
		return true
	case accessMutate:
		// Every role but the read-only one may change state.
		return p.Role != RoleReader
	case accessDecide:
		return p.Role == RoleApprover || p.Role == RoleAdmin
	}
	return false
}
