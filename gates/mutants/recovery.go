package mutants

// Mutants of journal recovery (issue 13), rejected by gate D's corruption
// table: damage that recovery hides, and the old refusal to start when a
// damaged line was the first line of an entity.
func recoveryMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "recovery-silent-skip", Gate: "d", Check: "D20",
			Bug: "recovery moves a damaged line out of the journal without logging or reporting it, so /journal/verify and health say nothing"},
		Mutant{Name: "recovery-dependents-block-start", Gate: "d", Check: "D18",
			Bug: "an event about an entity whose first line was quarantined fails the replay, so creditd refuses to start (the old behaviour)"},
	}
}
