// Package lazyfs is a FUSE pass-through filesystem that simulates power
// loss: it mirrors a backing directory, remembers which written bytes have
// not been made durable by fsync/fdatasync yet, and on Crash drops them, as
// a machine losing power would (a LazyFS in Go, on
// github.com/hanwen/go-fuse/v2). It also enforces an optional byte quota, so
// a backend can be driven to ENOSPC without a real small disk.
//
// # Durability model (what Crash drops)
//
// Only two things are volatile; everything else is durable when the call
// returns:
//
//  1. File data and size. Every write and truncate of a regular file since
//     its last fsync/fdatasync (on any handle of that file) is pending. Crash
//     reverts the file to its content and size at its last sync (the content
//     it had when the mount started counts as synced). Bytes of the synced
//     region that were overwritten are restored; everything past the synced
//     size is cut off. fsync and fdatasync are the same here: both make the
//     file's data and size durable. A sync of one file says nothing about
//     another file.
//  2. The existence of a regular file created through the mount. Until the
//     file itself or its current parent directory is fsynced, Crash unlinks
//     it. (POSIX asks for the directory fsync; ext4 and xfs in practice
//     persist the entry with the file's fsync, and this model follows them,
//     so it is lenient here: a backend relying on file fsync alone for a new
//     file passes.)
//
// Durable at once: rename (including over an existing file), unlink, mkdir,
// rmdir, link, symlink, chmod/chown/utimes. A renamed file keeps its pending
// data (pending state belongs to the file, not its name). An unlinked file
// is gone for good; Crash does not bring it back, and its pending bytes are
// not counted. fallocate is not supported (EOPNOTSUPP): it would change a
// size this model does not track. mmap writes are not tracked.
//
// The backing directory itself never crashes: lazyfs does not pass syncs
// through to it (the simulated durable state is what the backing files hold
// after Crash reverted them).
//
// # Power cut
//
// Freeze (or FreezeWhenPending, which waits for a write that is not yet
// synced) cuts the power: later fsync/fdatasync calls fail with EIO, later
// writes still land but stay pending. The caller then kills the writer and
// calls Crash, which drops everything pending and restores the power.
//
// # Traps: a fault aimed at one batch
//
// Arm a Trap with a marker (bytes a batch is known to carry, e.g. an id in
// its JSON line): the first fsync/fdatasync whose unsynced bytes contain it
// is held for the trap's Hold, so the writer's batch stays in flight while
// the caller acts (queues more commands behind it, reads, sends a
// duplicate); with Fail the power is then cut as by Freeze, so exactly
// that batch and everything after it fail until Crash. Caught and
// Released say when the hold began and ended.
//
// # Quota
//
// With Options.Quota > 0 the sum of the sizes of the regular files under the
// root may not grow past Quota bytes: a write that would cross it is cut
// short at the limit (the caller's next write then fails), and a write that
// can place no byte fails with ENOSPC, as a full disk does. Truncation and
// unlink free space at once; SetQuota changes the limit while mounted (the
// harness "frees space" by raising it).
//
// # Concurrency and imports
//
// One mutex serializes the bookkeeping of all writes, truncates, syncs and
// Crash; reads go straight to the backing files. lazyfs imports go-fuse and
// the standard library only; it must never import the engine or the gates.
package lazyfs
