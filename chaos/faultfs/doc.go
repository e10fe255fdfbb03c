// Package faultfs owns fault injection for the journal file: a filesystem
// wrapper whose Injector decides, per operation and path, whether to fail
// (in the style of pebble's vfs/errorfs), plus a one-shot short write and a
// crash model that drops every byte not covered by a successful Sync.
//
// Invariants: with no injector, no short write armed and no crash, FS
// behaves exactly like the FS it wraps; Crash leaves every file at most at
// the size its last successful Sync made durable, and every handle opened
// before the crash fails with ErrCrashed afterwards.
//
// Limits of the crash model: it truncates files back to their synced size,
// which is exact for append-only files and for files written once and
// synced (the journal, its sidecars, its rewrite temp file). Overwrites in
// place and the durability of directory entries are not modelled.
//
// It imports only the standard library: it declares the journal's
// filesystem seam itself (Filesystem, File) and *FS fits engine/journal.FS
// as it is, so the engine accepts it through Config.FS without either side
// importing the other (the engine's tests import faultfs; the engine never
// does). internal/importrules enforces both directions.
package faultfs
