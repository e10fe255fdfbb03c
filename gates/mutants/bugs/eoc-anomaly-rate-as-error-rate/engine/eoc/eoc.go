//go:build mutant

// Seeded bug eoc-anomaly-rate-as-error-rate (gate D): the EoC window passes its anomaly rate as the error rate and vice versa (swapped arguments), so anomalies raise the pressure that drives backpressure

package eoc

import (
	"time"
)

// decide computes the Decision for w from the folded state without changing
// it.
func (s *State) decide(w window) Decision {
	score, pressure, reg := s.score, s.pressure, s.reg
	var steps int64
	if s.hasEnd && w.start > s.lastEnd {
		idle := (w.start - s.lastEnd) / s.windowNs
		for i := int64(0); i < idle && i < maxIdleSteps; i++ {
			p, q := windowInputs(0, 0, 0)
			score, pressure = s.smooth(score, pressure, p, q)
			reg = s.regulate(reg, score, pressure)
			steps++
		}
	}
	dur := float64(w.end-w.start) / float64(time.Second)
	load := float64(w.ops) / float64(dur*s.cfg.NominalRate)
	p, q := windowInputs(load, ratio(w.anomalies, w.ops), ratio(w.errors, w.ops))
	score, pressure = s.smooth(score, pressure, p, q)
	reg = s.regulate(reg, score, pressure)
	steps++
	return Decision{
		WindowStart: time.Unix(0, w.start).UTC(),
		WindowEnd:   time.Unix(0, w.end).UTC(),
		Windows:     steps,
		Ops:         w.ops,
		Anomalies:   w.anomalies,
		Errors:      w.errors,
		Score:       score,
		Pressure:    pressure,
		Band:        BandOf(score),
		Previous:    s.reg,
		Regulation:  reg,
		Changed:     reg != s.reg,
	}
}
