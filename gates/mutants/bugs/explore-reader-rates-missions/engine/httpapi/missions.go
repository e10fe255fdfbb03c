//go:build mutant

// Seeded bug explore-reader-rates-missions (round 3, refused mutators): a
// reader's token may rate a mission, whose route is guarded for reading
// only. Breaks SPEC §6 (reader: GET only). The walk draws a rating about
// one command in a hundred and a reader for one mutation in thirty; the
// explorer's refused mutators send every accepted route again with each
// token that may not mutate.

package httpapi

import (
	"context"
	"net/http"

	"github.com/creditgate/creditgate/engine"
)

func (s *Server) rateMission(w http.ResponseWriter, r *http.Request) {
	var b missionRateBody
	s.mutate(w, r, mutation{access: accessRead, body: &b, actor: func() string { return or(b.ActorID, "anonymous") },
		run: func(ctx context.Context, req engine.Request) (engine.Result, error) {
			if b.Rating == nil {
				return engine.Result{}, &engine.RuleError{Code: engine.CodeInvalid, Detail: "rating is required"}
			}
			return s.eng.RateMission(ctx, req, engine.MissionInput{MissionID: r.PathValue("id"), Rating: *b.Rating})
		}, render: renderEvent(http.StatusOK)})
}
