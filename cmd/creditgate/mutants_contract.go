package main

// Mutants of the original's response contract (issue 11, SPEC §6): a client
// written for the original reads fields by name and by JSON type, so a
// backend that keeps every value right but changes a type breaks it. Gate B's
// shape check rejects them; the reference comparisons cannot (they parse
// amounts exactly, quoted or not).
func init() {
	mutants = append(mutants,
		mutant{name: "balances-as-strings", gate: "b", check: "B46",
			bug: "GET /balances renders each balance as a JSON string (\"95.5\"), so a client of the original gets text where it does arithmetic",
			patches: []patch{marked("engine/httpapi/credits.go", "balances-view",
				"\tout := make(map[string]money.Credits, len(all))\n\tfor id, b := range all {\n\t\tout[id] = money.Credits(b)\n\t}\n",
				"\tout := make(map[string]string, len(all))\n\tfor id, b := range all {\n\t\tout[id] = money.Format(money.Milli(b))\n\t}\n")}},
	)
}
