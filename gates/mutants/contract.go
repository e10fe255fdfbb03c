package mutants

// Mutants of the original's response contract (issue 11, SPEC §6): a client
// written for the original reads fields by name and by JSON type, so a
// backend that keeps every value right but changes a type breaks it. Gate B's
// shape check rejects them; the reference comparisons cannot (they parse
// amounts exactly, quoted or not).
func contractMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "balances-as-strings", Gate: "b", Check: "B46",
			Bug: "GET /balances renders each balance as a JSON string (\"95.5\"), so a client of the original gets text where it does arithmetic"},
	}
}
