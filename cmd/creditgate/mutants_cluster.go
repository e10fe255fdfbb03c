package main

// Seeded bugs of the PostgreSQL store and the cluster, run against the
// cluster target (PostgreSQL + 3 instances) by gate B's cluster specs.
func init() {
	cluster := []string{"CREDITGATE_TARGET=cluster"}
	mutants = append(mutants,
		mutant{name: "cluster-decides-without-catch-up", gate: "b", check: "CL1a", env: cluster,
			bug:     "an instance runs the rule on its own projection without folding the events the other instances wrote (the balance check is done outside the database's up-to-date state)",
			patches: []patch{marked("engine/follow.go", "cluster-catch-up", "ferr = e.foldForeign(ev)", "ferr = nil; _ = ev")}},
		mutant{name: "cluster-append-without-lock", gate: "b", check: "CL1a", env: cluster,
			bug:     "appends do not take the database's advisory lock, so instances decide concurrently on the same state",
			patches: []patch{marked("engine/pgstore/pgstore.go", "pg-append-lock", "`SELECT pg_advisory_xact_lock($1)`, AppendLock", "`SELECT $1::bigint`, AppendLock")}},
		mutant{name: "cluster-reads-without-catch-up", gate: "b", check: "CL4", env: cluster,
			bug:     "reads answer from the local projection without catching up, so a write acknowledged by another instance is not seen",
			patches: []patch{marked("engine/follow.go", "cluster-read-catch-up", "return e.followLocked()", "return nil")}},
		mutant{name: "pg-acknowledges-before-wal-flush", gate: "b", check: "CL6d", env: cluster,
			bug:     "the store's sessions commit with synchronous_commit=off: an append is acknowledged before its WAL record is flushed, so a database crash loses acknowledged events",
			patches: []patch{marked("engine/pgstore/pgstore.go", "pg-synchronous-commit", `RuntimeParams["synchronous_commit"] = "on"`, `RuntimeParams["synchronous_commit"] = "off"`)}},
	)
}
