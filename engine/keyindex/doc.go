// Package keyindex is the on-disk part of the engine's idempotency index: a
// bbolt file next to the journal (<journal>.keys) mapping each client
// idempotency key to what answers a retry — the request hash, the primary
// event's seq, event id and time, and how many events the transaction has
// (seq … seq+Events-1, re-read from the journal).
//
// It owns that file and nothing else. The journal is the source of truth:
// the index is a cache the engine rebuilds from a replay when it is
// missing, corrupt, or does not match the journal (Meta records the seq
// and event id the index covers, so a stale or foreign index is detected).
// Writes come in batches, one transaction each; a caller may turn syncing
// off while it rebuilds and sync once at the end.
//
// Invariants:
//   - Put writes records and the new Meta in one transaction: after a crash
//     the file holds either both or neither.
//   - Records are also indexed by seq, so Purge drops expired keys oldest
//     first without scanning the whole file.
//   - The file is not the process's memory: after each Put its pages leave
//     the resident set (Release), so a day of retained keys does not grow
//     the engine's RSS through bbolt's mapping.
//
// Concurrency: a *Disk is safe for concurrent use (bbolt serializes
// writers); the engine calls it under its own lock.
//
// This package imports only the standard library and go.etcd.io/bbolt; it
// must not import the engine, the journal or any store.
package keyindex
