package mutants

// coreMutants are the first seeded bugs, one or two per gate.
func coreMutants() []Mutant {
	return []Mutant{
		{Name: "retry-writes-twice", Gate: "a", Check: "A9", Bug: "the idempotency lookup is skipped, so a retry writes a second event"},
		{Name: "dangling-causation", Gate: "a", Check: "A5", Bug: "derived events point at an event that does not exist"},
		// The balance is read before the KARMA call, outside the lock, and
		// the rule checks that instead of its view: a check-then-act race.
		{Name: "overdraft-under-concurrency", Gate: "b", Check: "B5,B21,B22,B32,B47", Bug: "consume checks a balance read before the KARMA call, so concurrent consumes overdraw"},
		{Name: "replay-drops-refunds", Gate: "b", Check: "B23", Bug: "replay skips credit.refunded, so the state drifts after a restart"},
		{Name: "two-approvals-win", Gate: "c", Check: "C1", Bug: "a decision does not re-check the request state, so racing approvals all win"},
		{Name: "requester-approves-own", Gate: "c", Check: "C6", Bug: "the four-eyes rule is not enforced"},
		{Name: "karma-outage-fails-consume", Gate: "d", Check: "D2", Bug: "a consume fails when KARMA cannot give a live score"},
		{Name: "anomaly-blocks-consume", Gate: "d", Check: "D9", Bug: "an anomalous consume is refused instead of flagged"},
		{Name: "torn-tail-kept", Gate: "d", Check: "D26", Bug: "recovery reports a torn tail but does not cut it, so the next append is glued onto it and lost (the original's bug)"},
		{Name: "slow-consume", Gate: "e", Check: "E1", Bug: "every consume stalls 1.2 s (P95 above 1000 ms)", Env: []string{"LIVE_TEST_DURATION=20s"}},
		{Name: "leaks-per-request", Gate: "e", Check: "E5", Bug: "every consume leaks 256 KiB and a goroutine", Env: []string{"LIVE_TEST_DURATION=20s"}},
		{Name: "leaks-a-file-per-balance-read", Gate: "e", Check: "E7", Bug: "every balance read opens a file and never closes it", Env: []string{"LIVE_TEST_DURATION=20s"},
			Verdict: "CONDITIONAL"}, // E7 is not critical: a failed E7 is CONDITIONAL
	}
}
