// Package event owns the journal's record format: the event envelope, the
// event types and their payloads, and the line codec with its per-line
// CRC32-C checksum.
//
// Invariants: money fields are int64 milli-credits with a `_milli` suffix; a
// line produced by Encode always decodes to the same envelope; a line whose
// bytes changed after encoding fails Decode with ErrChecksum (never parses into
// different money).
//
// It is a leaf package: it must not import anything from this module.
package event
