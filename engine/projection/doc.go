// Package projection owns the read models of the credit engine as pure,
// deterministic folds over the event stream: balances, bounded ledgers,
// approvals, synergie totals, pools and missions, and the state digest.
//
// Invariants: Apply reads no clock, no randomness and does no I/O — time
// enters only as an event's timestamp — so folding the same journal always
// yields the same State and the same Digest. Every balance is the exact sum
// of its signed deltas. Memory per entity is bounded (ledgers keep the newest
// Config.LedgerKeep entries; older pages are read from the journal).
//
// State is not safe for concurrent use; the engine serialises access.
// It imports engine/event and engine/money only; it must not import the
// engine facade, the journal, or chaos/.
package projection
