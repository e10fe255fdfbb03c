//go:build mutant

// Seeded bug h5-service-may-decide (blind hunt 5): the decision permission
// admits the service role as well as approver and admin (meant for
// automated workflows), so a token with role service can approve or reject
// approval requests: POST /approvals/{id}/approve with a service token is
// 200 and executes the gated credit, instead of 403 forbidden. Operator and
// reader tokens are still refused. Breaks SPEC §6 (Auth: "decisions
// approver/admin; 401/403 otherwise").

package httpapi

func (p Principal) may(a access) bool {
	switch a {
	case accessRead:
		return true
	case accessMutate:
		return p.Role == RoleOperator || p.Role == RoleService || p.Role == RoleAdmin
	case accessDecide:
		return p.Role == RoleApprover || p.Role == RoleService || p.Role == RoleAdmin
	}
	return false
}
