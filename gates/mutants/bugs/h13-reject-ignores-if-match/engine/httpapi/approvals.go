//go:build mutant

// Seeded bug h13-reject-ignores-if-match (blind hunt 13, in our engine): the
// If-Match header is read on the approve route only; a rejection carrying a
// stale version there is applied. Breaks SPEC §5 ("Decisions use optimistic
// concurrency (the request's version; If-Match / expected_version
// optional)"). C36 sent stale versions with approvals only; it now sends
// each form with a rejection too.
package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/creditgate/creditgate/engine"
)

func (s *Server) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b decisionBody
		id := r.PathValue("id")
		s.mutate(w, r, mutation{access: accessDecide, body: &b, actor: func() string { return b.ApproverID },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				in := engine.DecisionInput{RequestID: id, Justification: or(b.Justification, b.Reason), ExpectedVersion: b.ExpectedVersion}
				if v := r.Header.Get("If-Match"); approve && v != "" && in.ExpectedVersion == 0 {
					if err := json.Unmarshal([]byte(strings.Trim(v, `"`)), &in.ExpectedVersion); err != nil {
						return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "If-Match must be the request version (an integer)"}
					}
				}
				if approve {
					return s.eng.Approve(ctx, req, in)
				}
				return s.eng.Reject(ctx, req, in)
			},
			render: func(res engine.Result) (int, any) { return renderDecision(res) }})
	}
}
