//go:build mutant

// Seeded bug h11-rating-one-refused (blind hunt 11, in our engine): a mission rating of exactly
// 1 is refused as outside 0..1. Breaks the documented range of MissionRateRequest.rating
// (minimum 0, maximum 1, both inclusive, in the OpenAPI document). The grammar sent ratings of
// 0.5 only; it now sends every documented bound of a number.
package engine

import (
	"context"
	"math"
	"time"
)

func (e *Engine) RateMission(ctx context.Context, req Request, in MissionInput) (Result, error) {
	if math.IsNaN(in.Rating) || in.Rating < 0 || in.Rating >= 1 {
		return Result{}, refuse(CodeInvalid, nil, "rating must be within 0..1")
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return rateMissionRule(v, in, now) })
}
