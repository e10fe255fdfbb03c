// Package store defines the seam between the engine and where its events
// are kept: the Store interface, implemented by the JSONL journal (the
// embedded default, journal.Store) and by PostgreSQL (engine/pgstore), the
// Record a commit carries, plus the error classes a store may return
// (ErrUnavailable and ErrStale: retry after a reload; ErrDuplicateKey: the
// command is refused; anything else is the store's sticky failure).
//
// Invariants every implementation keeps (checked by storetest.Run):
//   - Events are the journal's lines byte for byte (envelope + CRC member);
//     Iterate returns them in seq order, and the durable seqs are 1..N
//     without a gap.
//   - Commit resolves nil only once the records are durable (fsync'd, or
//     committed with synchronous_commit on); it never decodes a line: the
//     record carries what a store indexes.
//   - A shared store (Shared() == true) may be appended to by several
//     processes: Begin serializes appends across all of them and first hands
//     the caller every event written by others since the caller's seq, so the
//     caller decides on up-to-date state.
//
// This package imports only engine/event; it must not import engine,
// pgstore or anything in gates/ or chaos/.
package store
