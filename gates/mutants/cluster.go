package mutants

// Seeded bugs of the PostgreSQL store and the cluster, run against the
// cluster target (PostgreSQL + 3 instances) by gate B's cluster specs.
func clusterMutants() []Mutant {
	cluster := []string{"CREDITGATE_TARGET=cluster"}
	return []Mutant{
		Mutant{Name: "cluster-decides-without-catch-up", Gate: "b", Check: "CL1a", Env: cluster,
			Bug: "an instance runs the rule on its own projection without folding the events the other instances wrote (the balance check is done outside the database's up-to-date state)"},
		// Appends racing without the lock collide on the stream's next seq
		// and answer 503: whichever cross-instance race meets the collision
		// first (the consumes of CL1a, the approvers of CL2a, the load
		// around CL5's kill) rejects it, as timing on the box decides.
		Mutant{Name: "cluster-append-without-lock", Gate: "b", Check: "CL1a,CL2a,CL5b", Env: cluster,
			Bug: "appends do not take the database's advisory lock, so instances decide concurrently on the same state"},
		Mutant{Name: "cluster-reads-without-catch-up", Gate: "b", Check: "CL4", Env: cluster,
			Bug: "reads answer from the local projection without catching up, so a write acknowledged by another instance is not seen"},
		Mutant{Name: "pg-acknowledges-before-wal-flush", Gate: "b", Check: "CL6d", Env: cluster, Runs: 3,
			Bug: "the store's sessions commit with synchronous_commit=off: an append is acknowledged before its WAL record is flushed, so a database crash loses acknowledged events (only those whose WAL the writer had not yet handed to the OS when the crash landed: up to 3 runs)"},
	}
}
