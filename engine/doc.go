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
package engine
