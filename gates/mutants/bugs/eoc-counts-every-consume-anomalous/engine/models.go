//go:build mutant

// Seeded bug eoc-counts-every-consume-anomalous (gate D): the EoC fold counts every consume that carries metadata (all of them: KARMA source) as an anomaly, not only those flagged anomaly_detected

package engine

import (
	"encoding/json"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

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
		flagged := ev.Metadata != nil
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
