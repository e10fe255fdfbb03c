//go:build mutant

// Seeded bug slow-consume (gate E, check E1): every consume stalls 1.2 s
// (P95 above 1000 ms).

package engine

import (
	"context"
	"time"
)

// Consume debits an agent; it never overdraws. KARMA is asked before the
// lock (bounded by its timeout, never failing); the anomaly detector runs
// under the lock behind a guard, so a failing detector only marks the event.
func (e *Engine) Consume(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	score := e.score(ctx, in.AgentID)
	time.Sleep(1200 * time.Millisecond)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now)
	})
}
