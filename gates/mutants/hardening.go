package mutants

// Seeded bugs for the issue 9 hardening checks (gate C money paths and
// exposure, gate A hostile input).
func hardeningMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "refund-unbounded", Gate: "c", Check: "C26",
			Bug: "POST /refund skips its bound: any amount, naming nothing, is credited without approval"},
		Mutant{Name: "pool-refund-unbounded", Gate: "c", Check: "C28,C32",
			Bug: "a pool refund is not bounded by the pool's consumption, so refund + close pays an agent unapproved credits"},
		Mutant{Name: "keys-journaled-lossy", Gate: "a", Check: "A27",
			Bug: "idempotency keys are not checked against the alphabet: invalid UTF-8 is kept raw in memory but journaled as U+FFFD"},
		Mutant{Name: "listen-without-auth", Gate: "c", Check: "C30",
			Bug: "creditd serves without tokens on a non-loopback address (0.0.0.0)"},
	}
}
