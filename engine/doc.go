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
// Events go through the store.Store seam (storeseam.go): the journal by
// default, or Config.Store, e.g. engine/pgstore shared by several instances;
// then "one lock" is the database's advisory lock, taken after catching up
// on the other instances' events (docs/cluster.md). The engine never imports
// pgstore: cmd/creditd opens it.
package engine
