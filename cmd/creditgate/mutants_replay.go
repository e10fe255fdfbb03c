package main

// Mutants of replay that leave the projections (and so the digest and the
// reference comparisons) right but lose state the engine keeps beside them:
// what the engine decides after a restart must be what it would have
// decided without one.
func init() {
	mutants = append(mutants,
		mutant{name: "replay-forgets-anomaly-norm", gate: "b",
			bug: "replay does not feed consumes to the anomaly detector, so after a restart every agent's norm is empty and the first anomaly goes unflagged",
			patches: []patch{marked("engine/engine.go", "replay",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif err := e.applyLocked(ev); err != nil {",
				"type replayBlind struct{ anomaly.Checker }\n\nfunc (replayBlind) Observe(string, int64) {}\n\nfunc (e *Engine) replay(ev *event.Envelope) error {\n\tsaved := e.checker\n\te.checker = replayBlind{saved}\n\tdefer func() { e.checker = saved }()\n\tif err := e.applyLocked(ev); err != nil {")}},
	)
}
