package mutants

// Mutants of the history helper: each proves a real-time rule of
// gates/audit/realtime.go rejects the bug class it names.
func historyMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "stale-balance-cache", Gate: "b", Check: "RT1",
			Bug: "GET /balance serves a value cached for 200 ms, so a read sent after a write was acknowledged can miss it (RT1)"},
		Mutant{Name: "decided-answers-not-found", Gate: "c", Check: "RT3",
			Bug: "a decision on an already decided request is refused 404 not_found instead of 409 already_decided (RT3)"},
		Mutant{Name: "retry-writes-twice-under-load", Gate: "e", Check: "E8", Plants: "retry-writes-twice",
			Bug: "the idempotency lookup is skipped, so the load's retries and duplicates write twice (gate E's load-history audit)",
			Env: []string{"LIVE_TEST_DURATION=20s"}},
	}
}
