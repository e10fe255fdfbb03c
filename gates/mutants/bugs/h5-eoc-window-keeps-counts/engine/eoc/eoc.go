//go:build mutant

// Seeded bug h5-eoc-window-keeps-counts (blind hunt 5): a new EoC window is
// opened by moving the bounds of the previous one, not by starting from an
// empty window: its ops, anomaly and error counts carry over, so every
// eoc.regulated decision reports the consumes since the process started
// (ops grows window after window under a steady rate) and the load term
// grows with uptime: after about 20,000 consumes (2 x Window x NominalRate)
// the window score is 0.95, GET /eoc leaves the 0.1-0.9 bound (band
// critical_high) and backpressure climbs to 0.5 (throttling) under a steady,
// moderate load; a restart resets it. Breaks SPEC §5 (EoC: a score computed
// from recent activity; under anomaly chaos the score stays in 0.3-0.7 and
// never leaves 0.1-0.9; no throttle spiral).

package eoc

// Observe counts one operation into the open window. When o.At is at or past
// the open window's end, that window is closed (its Decision becomes due) and
// a new window containing o.At is opened. Operations timestamped before the
// end of the last folded decision are already accounted for and are ignored,
// so the engine may observe every replayed operation after replay; those
// timestamped before the open window (a clock step back) count into it.
func (s *State) Observe(o Observation) {
	if o.At.IsZero() {
		return
	}
	t := o.At.UnixNano()
	if s.hasEnd && t < s.lastEnd {
		return
	}
	if s.hasOpen && t >= s.open.end {
		s.closeOpen()
	}
	if !s.hasOpen {
		start := floorDiv(t, s.windowNs) * s.windowNs
		s.open.start, s.open.end = start, start+s.windowNs
		s.hasOpen = true
	}
	s.open.ops++
	if o.Anomaly {
		s.open.anomalies++
	}
	if o.Error {
		s.open.errors++
	}
}
