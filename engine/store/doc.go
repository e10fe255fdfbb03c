// Package store defines the seam between the engine and where its events
// are kept: the Store interface, implemented by the JSONL journal (the
// embedded default, adapted in package engine) and by PostgreSQL
// (engine/pgstore), plus the transient errors a store may return.
//
// Invariants every implementation keeps (checked by storetest.Run):
//   - Events are the journal's lines byte for byte (envelope + CRC member);
//     Iterate returns them in seq order, and the durable seqs are 1..N
//     without a gap.
//   - Commit resolves nil only once the lines are durable (fsync'd, or
//     committed with synchronous_commit on).
//   - A shared store (Shared() == true) may be appended to by several
//     processes: Begin serializes appends across all of them and first hands
//     the caller every event written by others since the caller's seq, so the
//     caller decides on up-to-date state.
//
// This package imports only engine/event; it must not import engine,
// pgstore or anything in gates/ or chaos/.
package store
