//go:build mutant

// Seeded bug leaks-per-request (gate E, check E5): every consume leaks 256
// KiB and a goroutine.

package engine

import (
	"context"
	"time"
)

// Limits on identifiers and free text.
var leak [][]byte

// Consume debits an agent; it never overdraws. KARMA is asked before the
// lock (bounded by its timeout, never failing); the anomaly detector runs
// under the lock behind a guard, so a failing detector only marks the event.
func (e *Engine) Consume(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	score := e.score(ctx, in.AgentID)
	leak = append(leak, make([]byte, 256<<10))
	go func() { select {} }()
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now)
	})
}
