// Package engine is the credit engine's facade: it opens the journal,
// replays it into the projections, and executes commands (agents, consume,
// refund, add, withdraw, approvals, synergie, pools, missions) so that every
// accepted command is one atomic, durable journal transaction.
//
// Invariants: a command's rule check and its append happen under one lock
// (no lost update, no overdraft at any concurrency); a command is
// acknowledged only after its events are synced; a client idempotency key
// maps to exactly one transaction; the state after replay equals the live
// state (same Digest). KARMA and the anomaly detector can fail or stall
// without failing a credit operation.
//
// It imports the engine/* subpackages; it must not import engine/httpapi,
// cmd/ or chaos/ (faults enter through journal.FS, the Scorer interface and
// the anomaly.Checker seam).
//
// Events go through the store.Store seam (follow.go): the journal by
// default (journal.Store), or Config.Store, e.g. engine/pgstore shared by
// several instances; the engine runs the same code on both. One committer
// goroutine (commitLoop) takes every command queued while the previous
// transaction was in flight and runs them as one transaction: Begin (for a
// shared store the database's advisory lock, after catching up on the other
// instances' events, docs/cluster.md), each command's rule on the state its
// predecessors left, one Commit, then every answer. A rule is a pure
// function of a read-only View (view.go), its input and the pipeline's time
// (read once per command), returning a plan or an enumerated *RuleError;
// the facade methods validate, ask KARMA and bind the input before it. The engine never
// imports pgstore: cmd/creditd opens it.
package engine
