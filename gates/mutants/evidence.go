package mutants

// Seeded bugs of the evidence branch (issue 8: no hidden evidence, replay
// equality on the whole state).
func evidenceMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "replay-forgets-pool-name", Gate: "b", Check: "B23",
			Bug: "replay does not restore a pool's name: balances, ledgers and approvals all match after a restart, only the full-state digest can see it"},
		Mutant{Name: "slow-fallback-hides-torn-tail", Gate: "d", Check: "D26",
			Bug: "two bugs: a consume on a KARMA fallback stalls 480 ms (a non-critical latency check fails first) and recovery keeps a torn tail (critical, in a later spec): the first failure must not hide the second"},
	}
}
