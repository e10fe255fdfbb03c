//go:build mutant

// Seeded bug slow-fallback-hides-torn-tail (gate D, check D26): two bugs: a
// consume on a KARMA fallback stalls 480 ms (a non-critical latency check
// fails first) and recovery keeps a torn tail (critical, in a later spec): the
// first failure must not hide the second.

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
		time.Sleep(480 * time.Millisecond)
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now)
	})
}
