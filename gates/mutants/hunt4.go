package mutants

// hunt4Mutants come from a fourth blind hunt (round 3, bugs written from the
// SPEC and the engine without reading the gates) in the PostgreSQL store,
// group commit and races (branch hunt4a), and in the money rules, the
// approval lifecycle, registration and the counters (branch hunt4b). Each
// got GO then and names the check that was built or widened for its class
// (docs/gates.md, "Bugs written blind").
func hunt4Mutants() []Mutant {
	return []Mutant{
		{Name: "failed-batch-key-replays", Gate: "d", Check: "A8", Runs: 3, // the failing sync must land on a batch holding a key and its duplicate
			Bug: "a command's key entry is resolved before a failed commit replaces its outcome: a concurrent duplicate waiting on the key is answered a replay of events the journal never took"},
	}
}
