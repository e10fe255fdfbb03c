package main

// Mutants of replay that lose state the engine keeps beside the balances
// and ledgers: what the engine says and decides after a restart must be
// what it would have without one. Our digest covers these states too; the
// behavioural checks that reject them do not depend on a backend's digest.
func init() {
	mutants = append(mutants,
		mutant{name: "replay-forgets-anomaly-norm", gate: "b", check: "B25",
			bug: "replay does not feed consumes to the anomaly detector, so after a restart every agent's norm is empty and the first anomaly goes unflagged",
			patches: []patch{
				marked("engine/models.go", "models-decls", "type models struct {",
					"type replayBlind struct{ anomaly.Checker }\n\nfunc (replayBlind) Observe(string, int64) {}\n\ntype models struct {"),
				marked("engine/engine.go", "replay",
					"func (e *Engine) replay(ev *event.Envelope) error {\n\tif err := e.models.apply(ev); err != nil {",
					"func (e *Engine) replay(ev *event.Envelope) error {\n\tsaved := e.models.checker\n\te.models.checker = replayBlind{saved}\n\tdefer func() { e.models.checker = saved }()\n\tif err := e.models.apply(ev); err != nil {")}},
		mutant{name: "replay-forgets-eoc", gate: "b", check: "B35",
			bug: "replay skips the journaled eoc.regulated decisions, so after a restart GET /eoc reports the initial score and regulation",
			patches: []patch{marked("engine/engine.go", "replay",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif err := e.models.apply(ev); err != nil {",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif ev.EventType == event.EoCRegulated {\n\t\te.seq = ev.Seq\n\t\treturn e.models.st.Apply(ev)\n\t}\n\tif err := e.models.apply(ev); err != nil {")}},
	)
}
