//go:build mutant

// Seeded bug explore-withdraw-max-exclusive (round 3, boundary sweep): POST
// /withdraw refuses an amount equal to CREDITD_MAX_AMOUNT, which every
// other route admits. Breaks SPEC §1 (only amounts above the maximum are
// rejected). The walk draws the maximum for one money command in sixty;
// the explorer's boundary sweep sends every money route at it.

package httpapi

import (
	"context"
	"net/http"

	"github.com/creditgate/creditgate/engine"
)

func (s *Server) credit(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b creditBody
		var in engine.CreditInput
		s.mutate(w, r, mutation{access: accessMutate, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
			run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
				amount, aerr := s.amount("amount", b.Amount)
				if aerr != nil {
					return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: aerr.detail}
				}
				if op == "withdraw" && amount >= s.maxAmount {
					return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "amount too large"}
				}
				in = engine.CreditInput{AgentID: b.AgentID, AmountMilli: amount, Reason: b.Reason, MissionID: b.MissionID}
				switch op {
				case "consume":
					return s.eng.Consume(ctx, req, in)
				case "refund":
					return s.eng.Refund(ctx, req, in)
				case "add":
					return s.eng.Add(ctx, req, in)
				default:
					return s.eng.Withdraw(ctx, req, in)
				}
			},
			render: renderCreditOrApproval})
	}
}
