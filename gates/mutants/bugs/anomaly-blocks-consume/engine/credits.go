//go:build mutant

// Seeded bug anomaly-blocks-consume (gate D, check D9): an anomalous
// consume is refused instead of flagged.

package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/karma"
)

// consumeRule debits the agent when its balance covers the amount; the
// KARMA score and the anomaly verdict only mark the event.
func consumeRule(v View, in CreditInput, score karma.Score, _ time.Time) (*plan, error) {
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	if a.BalanceMilli < in.AmountMilli {
		return nil, insufficient(a, in.AmountMilli, "requested")
	}
	meta := karmaMeta(score)
	verdict, derr := v.AnomalyVerdict(in.AgentID, in.AmountMilli)
	switch {
	case derr != nil:
		meta.AnomalyDetector = "unavailable"
	case verdict.Detected:
		return nil, refuse(CodeInvalid, nil, "anomalous amount")
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
