// Package journal owns the append-only JSONL event file: durable appends with
// group commit, sticky write errors, and recovery on open (torn tails cut
// into a sidecar, mid-file corruption quarantined or refused by policy).
//
// Invariants: an append is reported done only after its bytes were written
// and synced (unless Config.NoSync); lines are written in submission order;
// after the first failed write or sync every later append fails with that
// same error and no sync is ever retried; recovery never silently skips a
// line.
//
// The file is reached only through the FS interface so tests and chaos/ can
// inject faults. Store adapts it to the engine's store.Store seam. It imports
// engine/event and engine/store and nothing else of this module; it must
// never import chaos/.
package journal
