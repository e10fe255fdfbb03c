package mutants

// Mutants of replay that lose state the engine keeps beside the balances
// and ledgers: what the engine says and decides after a restart must be
// what it would have without one. Our digest covers these states too; the
// behavioural checks that reject them do not depend on a backend's digest.
func replayMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "replay-forgets-anomaly-norm", Gate: "b", Check: "B25",
			Bug: "replay does not feed consumes to the anomaly detector, so after a restart every agent's norm is empty and the first anomaly goes unflagged"},
		Mutant{Name: "replay-forgets-eoc", Gate: "b", Check: "B35",
			Bug: "replay skips the journaled eoc.regulated decisions, so after a restart GET /eoc reports the initial score and regulation"},
	}
}
