// Package pgstore is the PostgreSQL implementation of store.Store: one
// events table shared by every creditd instance on the database.
//
// It owns the schema (versioned migrations in migrations.go, applied on
// Open under an advisory lock; Open refuses a database whose schema is newer
// than this binary) and the append protocol:
//
//   - Begin opens a transaction with synchronous_commit=on, takes the
//     transaction-scoped advisory lock AppendLock (so appends from all
//     instances are serialized) and hands the caller every event with a seq
//     above the caller's: the caller decides on the global state.
//   - Commit inserts the lines with the next seqs (seq is the primary key,
//     idempotency_key and event_id are unique) and commits; the channel
//     resolves nil only after COMMIT returned.
//
// Because commits are serialized by the lock and a transaction is visible
// before its lock is released, every snapshot holds a gapless prefix of
// seq; Iterate can therefore read without the lock.
//
// Invariants: lines are stored byte for byte as the journal writes them
// (envelope + CRC); a failed or unknown commit is reported as
// store.ErrUnavailable / ErrDuplicateKey / ErrStale, never silently retried.
//
// Imports engine/event, engine/store and pgx only; never engine, gates/ or
// chaos/.
package pgstore
