package mutants

// Mutants written independently of the gates (issue 17): bugs no scripted
// scenario reached. Each is caught by the generative workload or the grammar
// fuzzer, not by a check written for it.
func exploreMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "approved-withdrawal-overdraws", Gate: "b", Check: "B47",
			Bug: "a withdrawal approved by a person executes without a balance check"},
		Mutant{Name: "auto-approved-withdrawal-overdraws", Gate: "b", Check: "B47",
			Bug: "a LOW withdrawal auto-approved through POST /approvals executes without a balance check"},
		Mutant{Name: "mission-refunds-ignore-earlier", Gate: "b", Check: "B47",
			Bug: "repeated refunds against one mission are each bounded by its consumption, not by what is left of it"},
		// A rare route guarded for reading: the walk met a reader's rating
		// by chance; the refused mutators' resends meet it every run.
		Mutant{Name: "explore-reader-rates-missions", Gate: "b", Check: "B47",
			Bug: "a reader's token may rate a mission (the route is guarded for reading only)"},
		// One route's maximum exclusive: the walk met it in some runs;
		// the boundary sweep sends every money route at the maximum.
		Mutant{Name: "explore-withdraw-max-exclusive", Gate: "b", Check: "B47",
			Bug: "POST /withdraw refuses an amount equal to the maximum, which every other route admits"},
		// One cell of the estimate table wrong: seed 42's two walks
		// started missions in 12 of the 24 cells; the mission sweep starts
		// every cell.
		Mutant{Name: "explore-research-high-estimate", Gate: "b", Check: "B47",
			Bug: "a research mission of high complexity is estimated with the factor 1.5 instead of 2"},
		// A rule of its own on member removal: seed 42's walks removed no
		// member at all; the pool sweep removes one from a funded pool.
		Mutant{Name: "explore-funded-pool-member-stays", Gate: "b", Check: "B47",
			Bug: "a member of a pool that holds credits cannot be removed (409 conflict)"},
		Mutant{Name: "body-principal-overrides-token", Gate: "c", Check: "C31",
			Bug: "requester_id / approver_id / actor_id from the body override the token's principal, so four-eyes is bypassed"},
		Mutant{Name: "threshold-not-mapped", Gate: "c", Check: "C32",
			Bug: "CREDITD_APPROVAL_THRESHOLD does not move the MEDIUM risk level"},
		Mutant{Name: "reserved-hash-in-keys", Gate: "a", Check: "A25",
			Bug: "'#', reserved for the engine's derived keys, is admitted in a client's idempotency key"},
		// It shows only when a power cut or kill -9 lands between a refusal's
		// answer and the fsync of the batch it saw: one run in several.
		Mutant{Name: "refusal-before-durable", Gate: "b", Check: "B47", Runs: 3,
			Bug: "a refusal is answered as soon as it is decided, before the batch whose state it saw is durable (a dirty read: a power cut or kill -9 before the fsync loses the cause and keeps the refusal)"},
		Mutant{Name: "explore-replay-forgets-keys", Gate: "b", Check: "B47", Plants: "replay-forgets-keys",
			Bug: "replay does not rebuild the idempotency index, so a retry after the explorer's restart executes again (money moves twice)"},
		// The explorer's failed batch (a sync held, then failing, then a
		// power cut) reaches the bugs gate D's batch-fails spec was written
		// for, without their script: a refusal, a concurrent retry and a
		// read answered from a batch that never became durable. Behind a
		// holder the retry now always goes, right behind its original, in
		// the batch that fails (drawn, it was missing from the runs that
		// missed failed-batch-key-replays).
		Mutant{Name: "explore-batch-refusal-survives-failed-commit", Gate: "b", Check: "B47", Runs: 2, Plants: "batch-refusal-survives-failed-commit",
			Bug: "a refusal decided on a failed predecessor of its batch is still answered (the explorer's failed batch)"},
		// Seed 7: seed 42 draws CREDITD_MAX_BATCH=2, and with the commit
		// split in twos the retry right behind the first debit is answered
		// from another commit than the one that fails.
		Mutant{Name: "explore-failed-batch-key-replays", Gate: "b", Check: "B47", Runs: 2, Plants: "failed-batch-key-replays", Env: []string{"LIVE_TEST_SEED=7"},
			Bug: "a concurrent retry waiting on a key is answered a replay of a command whose batch failed (the explorer's failed batch)"},
		Mutant{Name: "explore-read-waits-one-commit", Gate: "b", Check: "B47", Runs: 2, Plants: "read-waits-one-commit",
			Bug: "a read during a batch's sync shows the batch's balance before it is durable (the explorer's failed batch)"},
		Mutant{Name: "nested-duplicate-members", Gate: "a", Check: "A25",
			Bug: "duplicate JSON members are refused only at the top level of a body"},
	}
}
