//go:build mutant

// Seeded bug karma-outage-fails-consume (gate D, check D2): a consume fails
// when KARMA cannot give a live score.

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/karma"
)

// Consume debits an agent; it never overdraws. KARMA is asked before the
// lock (bounded by its timeout, never failing); the anomaly detector runs
// under the lock behind a guard, so a failing detector only marks the event.
func (e *Engine) Consume(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	score := e.score(ctx, in.AgentID)
	if score.Source != karma.SourceLive {
		return Result{}, ErrClosed
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now)
	})
}
