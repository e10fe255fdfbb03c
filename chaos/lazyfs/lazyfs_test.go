package lazyfs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/lazyfs"
)

// mount mounts a fresh backing dir, or skips with the reason FUSE is
// unavailable here.
func mount(t *testing.T, opts lazyfs.Options) (*lazyfs.FS, string) {
	t.Helper()
	if ok, why := lazyfs.Available(); !ok {
		t.Skip(why)
	}
	backing, mnt := t.TempDir(), t.TempDir()
	fs, err := lazyfs.Mount(backing, mnt, opts)
	if err != nil {
		t.Skipf("lazyfs: cannot mount here: %v", err)
	}
	t.Cleanup(func() {
		if err := fs.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return fs, mnt
}

func write(t *testing.T, path string, flag int, data string, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, flag|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

func crash(t *testing.T, fs *lazyfs.FS) lazyfs.CrashReport {
	t.Helper()
	rep, err := fs.Crash()
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUnsyncedAppendIsDroppedAndSyncedDataSurvives(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "journal")
	write(t, p, os.O_CREATE|os.O_APPEND, "synced-1\n", true)
	write(t, p, os.O_APPEND, "lost-1\nlost-2\n", false)
	if got := content(t, p); got != "synced-1\nlost-1\nlost-2\n" {
		t.Fatalf("before the crash the mount must show every write, got %q", got)
	}
	if got := fs.PendingBytes(); got != 14 {
		t.Fatalf("pending bytes = %d, want 14", got)
	}
	rep := crash(t, fs)
	if got := content(t, p); got != "synced-1\n" {
		t.Fatalf("after the crash want only the synced line, got %q", got)
	}
	if rep.BytesDropped != 14 || rep.FilesReverted != 1 {
		t.Fatalf("report %+v, want 14 bytes dropped from 1 file", rep)
	}
	// The backing file holds the same durable state.
	if got := content(t, filepath.Join(fs.Backing(), "journal")); got != "synced-1\n" {
		t.Fatalf("backing file %q", got)
	}
	// A second crash with nothing pending drops nothing.
	if rep := crash(t, fs); rep.BytesDropped != 0 {
		t.Fatalf("second crash dropped %d bytes", rep.BytesDropped)
	}
}

func TestOverwrittenSyncedBytesAreRestored(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "aaaaaaaaaa", true)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("XX"), 2)
	f.WriteAt([]byte("YYYY"), 1) // overlaps the first overwrite
	f.WriteAt([]byte("ZZZ"), 9)  // crosses the synced size
	f.Close()
	if got := content(t, p); got != "aYYYYaaaaZZZ" {
		t.Fatalf("before crash %q", got)
	}
	crash(t, fs)
	if got := content(t, p); got != "aaaaaaaaaa" {
		t.Fatalf("after crash want the synced content, got %q", got)
	}
}

func TestFdatasyncOnAnyHandleMakesTheFileDurable(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "", true)
	w, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	defer w.Close()
	w.WriteString("durable")
	r, _ := os.Open(p)
	if err := syscall.Fdatasync(int(r.Fd())); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.WriteString("+lost")
	crash(t, fs)
	if got := content(t, p); got != "durable" {
		t.Fatalf("got %q", got)
	}
}

func TestTruncateIsPendingUntilSynced(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "0123456789", true)
	if err := os.Truncate(p, 3); err != nil {
		t.Fatal(err)
	}
	write(t, p, os.O_APPEND, "abc", false)
	crash(t, fs)
	if got := content(t, p); got != "0123456789" {
		t.Fatalf("an unsynced truncate must be undone, got %q", got)
	}
	// ftruncate then fsync: durable.
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()
	crash(t, fs)
	if got := content(t, p); got != "0123" {
		t.Fatalf("a synced truncate is durable, got %q", got)
	}
}

func TestNewFileVanishesUnlessItOrItsDirectoryIsSynced(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	never := filepath.Join(mnt, "never")
	fileSynced := filepath.Join(mnt, "file-synced")
	write(t, never, os.O_CREATE, "x", false)
	write(t, fileSynced, os.O_CREATE, "y", true)
	if err := os.Mkdir(filepath.Join(mnt, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	dirSynced := filepath.Join(mnt, "sub", "dir-synced")
	write(t, dirSynced, os.O_CREATE, "z", false)
	syncDir(t, filepath.Join(mnt, "sub"))
	rep := crash(t, fs)
	if _, err := os.Stat(never); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file neither synced nor in a synced dir must vanish: stat err %v", err)
	}
	if got := content(t, fileSynced); got != "y" {
		t.Fatalf("file-synced: %q", got)
	}
	// Its entry is durable, its unsynced data is not.
	if got := content(t, dirSynced); got != "" {
		t.Fatalf("dir-synced must exist and be empty, got %q", got)
	}
	if rep.FilesRemoved != 1 {
		t.Fatalf("report %+v, want 1 file removed", rep)
	}
}

func TestRenameIsDurableAndPendingDataFollowsTheFile(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	a, b := filepath.Join(mnt, "a"), filepath.Join(mnt, "b")
	write(t, a, os.O_CREATE, "synced", true)
	write(t, b, os.O_CREATE, "old-b", true)
	write(t, a, os.O_APPEND, "+pending", false)
	if err := os.Rename(a, b); err != nil { // replaces b at once
		t.Fatal(err)
	}
	crash(t, fs)
	if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rename is durable: a must stay gone, stat err %v", err)
	}
	if got := content(t, b); got != "synced" {
		t.Fatalf("b must hold a's synced content without its pending append, got %q", got)
	}
}

func TestUnlinkIsDurable(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "synced", true)
	write(t, p, os.O_APPEND, "+pending", false)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	rep := crash(t, fs)
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unlink is durable, stat err %v", err)
	}
	if rep.BytesDropped != 0 {
		t.Fatalf("an unlinked file's pending bytes are not counted, got %d", rep.BytesDropped)
	}
}

func TestQuotaGivesENOSPCUntilRaised(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{Quota: 100})
	p := filepath.Join(mnt, "f")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.Write(bytes.Repeat([]byte("x"), 150))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past the quota: n=%d err=%v, want ENOSPC", n, err)
	}
	if n != 100 {
		t.Fatalf("a full disk takes what fits: wrote %d, want 100", n)
	}
	if _, err := f.Write([]byte("y")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a full disk stays full: err=%v", err)
	}
	if fs.Used() != 100 {
		t.Fatalf("used %d", fs.Used())
	}
	if err := fs.SetQuota(1000); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("y")); err != nil {
		t.Fatalf("after freeing space: %v", err)
	}
	// Truncation frees space at once.
	if err := fs.SetQuota(101); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte("z"), 91)); err != nil {
		t.Fatalf("after truncate: %v", err)
	}
}

func TestFrozenMountRefusesSyncsAndDropsLaterWritesAtCrash(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "synced", true)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("+pending")
	fs.Freeze()
	if _, err := f.WriteString("+after-cut"); err != nil {
		t.Fatalf("a write after the power cut still reaches the page cache: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("a sync after the power cut must not make pending data durable: err=%v", err)
	}
	rep := crash(t, fs)
	if got := content(t, p); got != "synced" || rep.BytesDropped != 18 {
		t.Fatalf("after crash %q (%+v)", got, rep)
	}
	if _, err := f.WriteString("+after-restart"); err != nil {
		t.Fatalf("Crash restores power: %v", err)
	}
}

func TestFreezeWhenPendingCutsBetweenWriteAndSync(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "f")
	write(t, p, os.O_CREATE, "", true)
	if fs.FreezeWhenPending(20 * time.Millisecond) {
		t.Fatal("nothing was pending, yet FreezeWhenPending says it cut mid-write")
	}
	crash(t, fs)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan bool)
	go func() { done <- fs.FreezeWhenPending(5 * time.Second) }()
	f.WriteString("written, not yet synced")
	if !<-done {
		t.Fatal("FreezeWhenPending missed the pending write")
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("the sync after the cut must fail: %v", err)
	}
	if rep := crash(t, fs); rep.BytesDropped != 23 || content(t, p) != "" {
		t.Fatalf("%+v %q", rep, content(t, p))
	}
}

// With a sync delay, a power cut while an fdatasync is still under way
// drops the data it was making durable, and the sync fails.
func TestPowerCutDuringASlowSyncDropsItsData(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{SyncDelay: 200 * time.Millisecond})
	p := filepath.Join(mnt, "journal")
	write(t, p, os.O_CREATE|os.O_APPEND, "synced-1\n", true)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("in-sync\n"); err != nil {
		t.Fatal(err)
	}
	synced := make(chan error, 1)
	go func() { synced <- f.Sync() }()
	time.Sleep(50 * time.Millisecond)
	if !fs.FreezeWhenPending(time.Second) {
		t.Fatal("the write under a slow sync must still be pending")
	}
	crash(t, fs)
	if err := <-synced; err == nil {
		t.Fatal("a sync cut by the power loss must fail")
	}
	if got := content(t, p); got != "synced-1\n" {
		t.Fatalf("after the cut want only the synced line, got %q", got)
	}
}

// A trap springs on the sync whose unsynced bytes hold its marker, not on
// earlier ones; it holds that sync, and with Fail the sync and every later
// one fail until Crash, which drops the marked batch.
func TestATrapHoldsAndFailsOnlyTheSyncOfTheMarkedBatch(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "journal")
	write(t, p, os.O_CREATE|os.O_APPEND, "seq-1 agent-a\n", true)
	trap := fs.Arm(&lazyfs.Trap{Marker: []byte("agent-x"), Hold: 150 * time.Millisecond, Fail: true})
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("seq-2 agent-b\n")
	if err := f.Sync(); err != nil {
		t.Fatalf("a batch without the marker syncs as usual: %v", err)
	}
	select {
	case <-trap.Caught():
		t.Fatal("the trap sprang on a batch without its marker")
	default:
	}
	f.WriteString("seq-3 agent-x\n")
	start := time.Now()
	synced := make(chan error, 1)
	go func() { synced <- f.Sync() }()
	select {
	case <-trap.Caught():
	case <-time.After(5 * time.Second):
		t.Fatal("the sync of the marked batch never sprang the trap")
	}
	if err := <-synced; !errors.Is(err, syscall.EIO) {
		t.Fatalf("the marked batch's sync must fail with EIO, got %v", err)
	}
	if held := time.Since(start); held < 150*time.Millisecond {
		t.Fatalf("the marked sync was held %v, want at least the trap's 150ms", held)
	}
	<-trap.Released()
	f.WriteString("seq-4 agent-c\n")
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("after a failing trap every later sync fails until Crash: %v", err)
	}
	crash(t, fs)
	if got := content(t, p); got != "seq-1 agent-a\nseq-2 agent-b\n" {
		t.Fatalf("after the crash want the two synced batches, got %q", got)
	}
}

// A trap without Fail only slows the marked sync: it succeeds and its
// data survives a crash.
func TestAHoldingTrapDelaysTheMarkedSyncWhichThenSucceeds(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	p := filepath.Join(mnt, "journal")
	write(t, p, os.O_CREATE|os.O_APPEND, "", true)
	trap := fs.Arm(&lazyfs.Trap{Marker: []byte("slow"), Hold: 100 * time.Millisecond})
	start := time.Now()
	write(t, p, os.O_APPEND, "a slow batch\n", true)
	if held := time.Since(start); held < 100*time.Millisecond {
		t.Fatalf("held %v, want at least 100ms", held)
	}
	<-trap.Caught()
	<-trap.Released()
	crash(t, fs)
	if got := content(t, p); got != "a slow batch\n" {
		t.Fatalf("a held sync that succeeded is durable, got %q", got)
	}
}

// A trap limited to one file ignores the marker in another file's sync,
// even one renamed over it later, until that file's own sync.
func TestATrapLimitedToAFileSpringsOnlyOnThatFilesSync(t *testing.T) {
	fs, mnt := mount(t, lazyfs.Options{})
	trap := fs.Arm(&lazyfs.Trap{Marker: []byte("agent-x"), File: "journal", Fail: true})
	tmp := filepath.Join(mnt, "journal.rewrite")
	write(t, tmp, os.O_CREATE, "agent-x\n", true) // its own sync: another file
	select {
	case <-trap.Caught():
		t.Fatal("the trap sprang on a sync of journal.rewrite")
	default:
	}
	write(t, filepath.Join(mnt, "journal.rewrite2"), os.O_CREATE, "agent-x again\n", false)
	if err := os.Rename(filepath.Join(mnt, "journal.rewrite2"), filepath.Join(mnt, "journal")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(mnt, "journal"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("the sync of the renamed, unsynced journal must spring the trap and fail: %v", err)
	}
	<-trap.Caught()
}
