package httpapi

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/creditgate/creditgate/engine"
)

// Role names a permission set.
type Role string

// Roles: reads need any role; mutations operator, service or admin;
// approval decisions approver or admin.
const (
	RoleReader   Role = "reader"
	RoleOperator Role = "operator"
	RoleService  Role = "service"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

// Principal is an authenticated caller.
type Principal struct {
	Name string
	Role Role
}

// Tokens maps bearer tokens to principals. Empty means dev mode: no auth,
// identity taken from the request body.
type Tokens map[string]Principal

// ParseTokens reads "token=principal:role,token2=principal2:role2". A
// token given twice is refused: which principal and role it carries would
// depend on the order of the entries. Errors name entries by position and
// principal, never by the token: they end up in logs.
func ParseTokens(s string) (Tokens, error) {
	t := Tokens{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		tok, rest, ok := strings.Cut(item, "=")
		name, role, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || tok == "" || name == "" {
			return nil, fmt.Errorf("token entry %d: want token=principal:role", i+1)
		}
		if prev, dup := t[tok]; dup {
			return nil, fmt.Errorf("token entry %d (principal %q) repeats the token of principal %q: each token must appear once", i+1, name, prev.Name)
		}
		if !engine.ValidID(name) {
			return nil, fmt.Errorf("token entry for %q: a principal is 1..128 characters of %s (it is journaled as an id)", name, engine.IDAlphabet)
		}
		switch Role(role) {
		case RoleReader, RoleOperator, RoleService, RoleApprover, RoleAdmin:
		default:
			return nil, fmt.Errorf("token entry for %q: unknown role %q", name, role)
		}
		t[tok] = Principal{Name: name, Role: Role(role)}
	}
	return t, nil
}

type access int

const (
	accessRead access = iota
	accessMutate
	accessDecide
)

func (p Principal) may(a access) bool {
	switch a {
	case accessRead:
		return true
	case accessMutate:
		return p.Role == RoleOperator || p.Role == RoleService || p.Role == RoleAdmin
	case accessDecide:
		return p.Role == RoleApprover || p.Role == RoleAdmin
	}
	return false
}

// authenticate returns the principal of a request, or an API error. In dev
// mode (no tokens) it returns ok with an empty principal.
func (s *Server) authenticate(r *http.Request, a access) (Principal, *apiError) {
	if len(s.tokens) == 0 {
		return Principal{}, nil
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, &apiError{http.StatusUnauthorized, "unauthorized", "a bearer token is required"}
	}
	for known, p := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(known), []byte(tok)) == 1 {
			if !p.may(a) {
				return p, &apiError{http.StatusForbidden, "forbidden", fmt.Sprintf("role %q may not do this", p.Role)}
			}
			return p, nil
		}
	}
	return Principal{}, &apiError{http.StatusUnauthorized, "unauthorized", "unknown token"}
}
