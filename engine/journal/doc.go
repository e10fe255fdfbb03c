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
// # On-disk format
//
// One event per line: a JSON object encoded by engine/event (envelope
// members in a fixed order, "crc" last: the CRC32-C of the line without it),
// terminated by '\n', in seq order 1, 2, 3, … without a gap. A command that
// wrote N > 1 events carries "tx": N on its first line; its N lines are
// written in one write. This package treats a line as bytes plus what
// event.Decode says about it; the contract, with the checksum rule, is
// docs/events.md §1–2. Next to the journal at <path>:
//
//   - <path>.torn-<UTC time>[-k]: a cut-off torn tail, byte for byte;
//   - <path>.quarantine: JSONL, one entry per quarantined line (line,
//     offset, reason, raw bytes; raw_base64 when they are not UTF-8) and per
//     dependent ("dependent": true, seq, event_id); appended to, never
//     rewritten with less;
//   - <path>.rewrite and <name>.tmp: temp files of the steps below, renamed
//     or removed before Open returns.
//
// # Recovery and repair
//
// Open scans the whole file (scan.go reads chunks and decodes them in
// parallel; classify.go takes the lines back in file order) and replays
// every valid event through apply. A line that fails to decode is held until
// a later line decides: followed by a valid line it is mid-file corruption,
// left at EOF it is the torn tail. The lines of a multi-line command are
// held until N lines arrived; a command still incomplete at EOF is torn as
// a whole. A valid line with a repeated or backward seq, or an oversized tx,
// is mid-file corruption too; a seq jump is a reported gap. An event about an entity whose first line
// was lost (quarantined now or earlier, or in a gap) is a dependent
// (dependents.go): left out of the replay, left in the file, reported on
// every start (docs/events.md §8).
//
// Under PolicyStrict the first mid-file finding returns a *CorruptionError
// and no file is changed. Otherwise the repair (recovery.go, repair.go) runs
// in this order, each step durable before the next, so a crash or a full
// disk between steps leaves the journal as it was or repaired, never half
// rewritten; the next start finds the same damage and repairs it again (a
// sidecar or quarantine entry may then exist twice):
//
//  1. the torn tail is written to its sidecar (temp file, sync, rename,
//     directory sync);
//  2. the quarantine file is rewritten as its old bytes plus the new
//     entries, the same way;
//  3. with quarantined lines, the journal is copied without them into
//     <path>.rewrite up to the torn tail, synced and renamed over <path>;
//     with only a torn tail, <path> is truncated at it and synced;
//  4. the directory is synced.
//
// A failing step 1–3 stops Open with an error naming the step ("recovery
// of … stopped: could not …") and leaves the journal as it was. Appends start at
// the repaired file's end.
//
// The file is reached only through the FS interface so tests and chaos/ can
// inject faults. Store adapts it to the engine's store.Store seam. It imports
// engine/event and engine/store and nothing else of this module; it must
// never import chaos/.
package journal
