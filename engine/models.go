package engine

import (
	"encoding/json"
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// models holds every read model the engine folds events into: the
// projections (balances, ledgers, approvals, missions, pools, synergie),
// the anomaly detector's per-agent statistics and the EoC state. One
// constructor and one apply serve open, replay, catch-up and reload alike
// (a reload starts from a fresh one). The engine guards it with e.mu.
type models struct {
	st      *projection.State
	checker anomaly.Checker
	eoc     *eoc.State
	last    time.Time // the newest timestamp folded (Engine.nowLocked)
}

// newModels returns empty read models for cfg. A custom cfg.Checker is
// used as given: it cannot be reset, so a reload keeps its statistics.
func newModels(cfg Config) models {
	m := models{st: projection.New(cfg.Projection), checker: cfg.Checker, eoc: eoc.New(cfg.EoC)}
	if m.checker == nil {
		m.checker = anomaly.New(cfg.Anomaly)
	}
	return m
}

// apply folds one event into every read model.
func (m *models) apply(ev *event.Envelope) error {
	if err := m.st.Apply(ev); err != nil {
		return err
	}
	if ev.Timestamp.After(m.last) {
		m.last = ev.Timestamp
	}
	switch ev.EventType {
	case event.CreditConsumed:
		p, err := projection.DecodeCredit(ev.Payload)
		if err != nil {
			return err
		}
		flagged := ev.Metadata != nil && ev.Metadata.AnomalyDetected
		// A failing detector must not fail a fold either.
		_ = anomaly.GuardObserve(func() { m.checker.Observe(p.AgentID, p.AmountMilli) })
		m.eoc.Observe(eoc.Observation{At: ev.Timestamp, Anomaly: flagged})
	case event.EoCRegulated:
		var d eoc.Decision
		if err := json.Unmarshal(ev.Payload, &d); err != nil {
			return err
		}
		if err := m.eoc.ApplyRegulated(d); err != nil {
			return err
		}
	}
	return nil
}
