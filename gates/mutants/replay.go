package mutants

// Mutants of replay that lose state the engine keeps beside the balances
// and ledgers: what the engine says and decides after a restart must be
// what it would have without one. Our digest covers these states too; the
// behavioural checks that reject them do not depend on a backend's digest.
func replayMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "replay-forgets-anomaly-norm", Gate: "b", Check: "B25",
			Bug: "replay does not feed consumes to the anomaly detector, so after a restart every agent's norm is empty and the first anomaly goes unflagged",
			Patches: []Patch{
				Marked("engine/models.go", "models-decls", "type models struct {",
					"type replayBlind struct{ anomaly.Checker }\n\nfunc (replayBlind) Observe(string, int64) {}\n\ntype models struct {"),
				Marked("engine/engine.go", "replay",
					"func (e *Engine) replay(ev *event.Envelope) error {\n\tif err := e.models.apply(ev); err != nil {",
					"func (e *Engine) replay(ev *event.Envelope) error {\n\tsaved := e.models.checker\n\te.models.checker = replayBlind{saved}\n\tdefer func() { e.models.checker = saved }()\n\tif err := e.models.apply(ev); err != nil {")}},
		Mutant{Name: "replay-forgets-eoc", Gate: "b", Check: "B35",
			Bug: "replay skips the journaled eoc.regulated decisions, so after a restart GET /eoc reports the initial score and regulation",
			Patches: []Patch{Marked("engine/engine.go", "replay",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif err := e.models.apply(ev); err != nil {",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif ev.EventType == event.EoCRegulated {\n\t\te.seq = ev.Seq\n\t\treturn e.models.st.Apply(ev)\n\t}\n\tif err := e.models.apply(ev); err != nil {")}},
	}
}
