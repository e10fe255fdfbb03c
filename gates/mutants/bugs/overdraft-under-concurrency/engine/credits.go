//go:build mutant

// Seeded bug overdraft-under-concurrency (gate B, check
// B5,B21,B22,B32,B47): consume checks a balance read before the KARMA call, so
// concurrent consumes overdraw.

package engine

import (
	"context"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/karma"
)

// Consume debits an agent; it never overdraws. KARMA is asked before the
// lock (bounded by its timeout, never failing); the anomaly detector runs
// under the lock behind a guard, so a failing detector only marks the event.
func (e *Engine) Consume(ctx context.Context, req Request, in CreditInput) (Result, error) {
	if err := e.validCredit(in); err != nil {
		return Result{}, err
	}
	stale, _ := e.Balance(in.AgentID)
	score := e.score(ctx, in.AgentID)
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) {
		return consumeRule(v, in, score, now, stale)
	})
}

// consumeRule debits the agent when its balance covers the amount; the
// KARMA score and the anomaly verdict only mark the event.
func consumeRule(v View, in CreditInput, score karma.Score, _ time.Time, stale int64) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if stale < in.AmountMilli {
		return nil, insufficient(a, in.AmountMilli, "requested")
	}
	meta := karmaMeta(score)
	verdict, derr := v.AnomalyVerdict(in.AgentID, in.AmountMilli)
	switch {
	case derr != nil:
		meta.AnomalyDetector = "unavailable"
	case verdict.Detected:
		meta.AnomalyDetected = true
		sc := verdict.Score
		meta.AnomalyScore = &sc
		meta.AnomalyReason = verdict.Reason
	}
	p := &plan{}
	p.add(event.CreditConsumed, event.Credit{AgentID: in.AgentID, AmountMilli: in.AmountMilli,
		BalanceAfterMilli: a.BalanceMilli - in.AmountMilli, Reason: in.Reason, MissionID: in.MissionID}, meta)
	return p, nil
}
