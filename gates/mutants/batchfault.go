package mutants

// batchFaultMutants are escapes of the blind hunts that needed a failure
// aimed at one batch: each shows only when its commands share a batch with
// a failing write, or a read arrives while one syncs, or a commit fails on
// its way to PostgreSQL. Gate D's "batch fails" spec (fault.BatchSync: the
// sync of the batch carrying a marker is held, then fails), CL-D5
// (fault.CommitCut: the link drops the commit carrying a marker) and CL-D6
// (the same link goes silent inside the transaction, as for an instance
// frozen there) now put them there on every run.
func batchFaultMutants() []Mutant {
	return []Mutant{
		{Name: "failed-batch-key-replays", Gate: "d", Check: "A8",
			Bug: "a command's key entry is resolved before a failed commit replaces its outcome: a concurrent duplicate waiting on the key is answered a replay of events the journal never took"},
		{Name: "batch-refusal-survives-failed-commit", Gate: "d", Check: "D52",
			Bug: "a refusal decided on a failed predecessor of its batch is still answered: a failed commit replaces only the successful outcomes, so the 409 insufficient_credits names a balance that never became durable"},
		{Name: "read-waits-one-commit", Gate: "d", Check: "D53", Runs: 3, // a reader must win the lock between the two batches

			Bug: "a read waits for the commit in flight when it arrives, then serves whatever is folded: a batch the committer decided meanwhile, not yet durable, is read"},
		{Name: "rewrite-renamed-unsynced", Gate: "d", Check: "D54",
			Bug: "recovery's rewrite of the journal without its quarantined lines is renamed over the journal without an fsync, so a power cut right after the recovery loses the whole rewritten file"},
		{Name: "unavailable-keeps-folded-state", Gate: "d", Check: "CL-D5,CL-D4b", Env: []string{"CREDITGATE_TARGET=cluster"},
			Bug: "an unavailable store (connection lost mid-commit) only marks the store down, not the state stale: the events of the failed batch stay folded and reads serve balances that were never committed"},
		{Name: "pg-no-idle-in-tx-timeout", Gate: "d", Check: "CL-D6", Env: []string{"CREDITGATE_TARGET=cluster"},
			Bug: "the store's sessions run without idle_in_transaction_session_timeout, so an instance frozen inside its append transaction holds the append lock, and stalls every other instance, until TCP notices"},
	}
}
