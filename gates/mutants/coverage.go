package mutants

// Mutants of issue 12: one per class of bug that passed every gate before
// the coverage work (an unexercised money path, idempotency across restarts,
// three-decimal rounding, reads beyond the in-memory window, KARMA fallback
// and EoC formulas, health vs a failed journal, mission refunds).
func coverageMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "withdraw-overdraws", Gate: "b", Check: "B26", Bug: "withdraw checks a balance read before a KARMA call, outside the lock, so concurrent withdrawals overdraw"},
		Mutant{Name: "pool-consume-overdraws", Gate: "b", Check: "B27", Bug: "pool consume and transfer check a pool balance read before a KARMA call, outside the lock, so concurrent debits overdraw the pool"},
		Mutant{Name: "mission-start-overdraws", Gate: "b", Check: "B29", Bug: "a mission start checks its estimate against a balance read before a KARMA call, outside the lock"},
		Mutant{Name: "replay-forgets-keys", Gate: "a", Check: "A15", Bug: "replay does not rebuild the idempotency index, so a retry after a restart writes again"},
		Mutant{Name: "key-conflict-replays", Gate: "a", Check: "A16", Bug: "a reused key with a different body returns the original result instead of 409 idempotency_key_conflict"},
		Mutant{Name: "refund-truncated-to-cents", Gate: "b", Check: "B11", Bug: "a completed mission's refund is truncated to two decimals"},
		Mutant{Name: "cancel-refunds-90", Gate: "b", Check: "B11", Bug: "a cancelled mission refunds 90 % of what it consumed instead of 100 %"},
		Mutant{Name: "history-page-skips-entry", Gate: "b", Check: "B37", Bug: "history pages read from the journal (beyond the in-memory window) skip one entry"},
		Mutant{Name: "karma-fallback-0.6", Gate: "b", Check: "B11", Bug: "the KARMA fallback CI is 0.6 instead of 0.5"},
		Mutant{Name: "eoc-anomaly-overweight", Gate: "b", Check: "B11", Bug: "EoC weighs the anomaly rate 0.3 instead of 0.08"},
		Mutant{Name: "health-ignores-failed-journal", Gate: "d", Check: "D29", Bug: "health stays healthy while the journal is failed"},
	}
}
