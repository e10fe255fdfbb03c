package lazyfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configure a mount.
type Options struct {
	// Quota, when > 0, caps the total size of the regular files under the
	// root in bytes; writes past it fail with ENOSPC.
	Quota int64
	// AllowOther lets users other than the mounting one use the mount
	// (needed when a container running as a non-root user gets it as a
	// volume). Root may always use it.
	AllowOther bool
	// Debug logs every FUSE request.
	Debug bool
	// SyncDelay is how long an fsync/fdatasync takes (0: at once), as on a
	// real disk where it takes milliseconds: a power cut during it drops
	// what it was making durable.
	SyncDelay time.Duration
}

// CrashReport is what Crash dropped.
type CrashReport struct {
	BytesDropped  int64 // bytes written or truncated away since the last sync, now gone
	FilesReverted int   // files cut back to their synced state
	FilesRemoved  int   // files created and never made durable, now unlinked
}

// FS is one mounted lazyfs.
type FS struct {
	backing, mountpoint string
	server              *fuse.Server
	root                *node

	mu      sync.Mutex
	pending map[*node]*pending // files with unsynced writes/truncates
	created map[*node]bool     // files created through the mount, entry not yet durable
	quota   int64
	// syncDelay: Options.SyncDelay (read-only after Mount).
	syncDelay time.Duration
	crashes   int     // a sync that a crash overtook made nothing durable
	used      int64   // sum of regular file sizes under backing (kept when quota > 0)
	dropped   int64   // bytes dropped by all crashes so far
	frozen    bool    // power is off: syncs fail with EIO, writes stay pending
	traps     []*Trap // armed, not yet sprung
}

// pending is one file's unsynced state: its size at the last sync and, in
// write order, the synced bytes that later writes/truncates overwrote.
type pending struct {
	syncedSize int64
	undo       []undoRec
	bytes      int64 // bytes written (or cut by truncate) since the last sync
}

type undoRec struct {
	off  int64
	data []byte
}

// Available reports whether this process can mount a FUSE filesystem, and
// if not, why (for a test or gate SKIP).
func Available() (bool, string) {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Sprintf("lazyfs: /dev/fuse unavailable: %v", err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			if _, err := exec.LookPath("fusermount"); err != nil {
				return false, "lazyfs: not root and no fusermount/fusermount3 on PATH (apt-get install fuse3)"
			}
		}
	}
	return true, ""
}

// Mount mirrors backing at mountpoint (both must be existing directories)
// and returns once the mount is serving.
func Mount(backing, mountpoint string, opts Options) (*FS, error) {
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("lazyfs: backing dir: %w", err)
	}
	f := &FS{backing: backing, mountpoint: mountpoint, pending: map[*node]*pending{}, created: map[*node]bool{}, quota: opts.Quota,
		syncDelay: opts.SyncDelay}
	if f.quota > 0 {
		if f.used, err = usage(backing); err != nil {
			return nil, err
		}
	}
	lr := &gofs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}
	lr.NewNode = func(r *gofs.LoopbackRoot, _ *gofs.Inode, _ string, _ *syscall.Stat_t) gofs.InodeEmbedder {
		return &node{LoopbackNode: gofs.LoopbackNode{RootData: r}, lfs: f}
	}
	f.root = lr.NewNode(lr, nil, "", &st).(*node)
	lr.RootNode = f.root
	// No kernel caching of entries or attributes: Crash changes files
	// behind the kernel's back.
	zero := time.Duration(0)
	server, err := gofs.Mount(mountpoint, f.root, &gofs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			AllowOther: opts.AllowOther, FsName: "lazyfs:" + backing, Name: "lazyfs",
			DirectMount: true, Debug: opts.Debug,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("lazyfs: mount %s: %w", mountpoint, err)
	}
	if err := server.WaitMount(); err != nil {
		_ = server.Unmount()
		return nil, fmt.Errorf("lazyfs: mount %s: %w", mountpoint, err)
	}
	f.server = server
	return f, nil
}

// Mountpoint is where the mirror is mounted.
func (f *FS) Mountpoint() string { return f.mountpoint }

// Backing is the mirrored directory.
func (f *FS) Backing() string { return f.backing }

// Unmount unmounts, retrying briefly while the mount is busy.
func (f *FS) Unmount() error {
	var err error
	for i := 0; i < 50; i++ {
		if err = f.server.Unmount(); err == nil {
			f.server.Wait()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("lazyfs: unmount %s: %w", f.mountpoint, err)
}

// SetQuota changes the quota (0: none) while mounted.
func (f *FS) SetQuota(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > 0 {
		used, err := usage(f.backing)
		if err != nil {
			return err
		}
		f.used = used
	}
	f.quota = n
	return nil
}

// Used is the total size of the regular files under the root.
func (f *FS) Used() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quota > 0 {
		return f.used
	}
	used, _ := usage(f.backing)
	return used
}

// PendingBytes is how many bytes a Crash now would drop.
func (f *FS) PendingBytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	for _, p := range f.pending {
		n += p.bytes
	}
	return n
}

// DroppedBytes is the sum of BytesDropped over all crashes so far.
func (f *FS) DroppedBytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Freeze cuts the power: from now until Crash every fsync/fdatasync (of a
// file or a directory) fails with EIO, so nothing a dying writer still sends
// can become durable after the cut; its writes still land in the "page
// cache" (pending) and Crash drops them. Call it before killing the writer,
// then Crash.
func (f *FS) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen = true
}

// FreezeWhenPending waits up to timeout for a moment when some written
// byte is not yet synced (a writer between its write and its fsync) and
// freezes right then, under the lock the writes take, so the cut lands in
// the window an acknowledge-before-sync bug lives in. It freezes anyway
// when the timeout passes, and reports whether it found pending data.
func (f *FS) FreezeWhenPending(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		pending := false
		for _, p := range f.pending {
			pending = pending || p.bytes > 0
		}
		if pending || time.Now().After(deadline) {
			f.frozen = true
			f.mu.Unlock()
			return pending
		}
		f.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
	}
}

// Trap is a fault aimed at one batch: the first fsync/fdatasync of a file
// whose unsynced bytes contain Marker is held for Hold (a slow disk, so the
// writer's batch stays in flight while a caller acts) and then, with Fail,
// the power is cut as by Freeze: that sync and every later one fail with
// EIO until Crash. Arm it with FS.Arm; Caught and Released say when it
// sprang and when its hold ended.
type Trap struct {
	Marker []byte
	// File, when set, limits the trap to syncs of the file at this path
	// (relative to the root, e.g. "credits.jsonl") at the time of the sync.
	File string
	Hold time.Duration
	Fail bool

	caught, released chan struct{}
}

// Arm arms t (once: it springs on one sync) and returns it.
func (f *FS) Arm(t *Trap) *Trap {
	t.caught, t.released = make(chan struct{}), make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traps = append(f.traps, t)
	return t
}

// Disarm removes t if it has not sprung; it reports whether it had.
func (f *FS) Disarm(t *Trap) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.traps {
		if a == t {
			f.traps = append(f.traps[:i], f.traps[i+1:]...)
			return true
		}
	}
	return false
}

// Caught is closed when a sync of the marked bytes began its hold.
func (t *Trap) Caught() <-chan struct{} { return t.caught }

// Released is closed when that sync's hold ended (and, with Fail, the
// power was cut).
func (t *Trap) Released() <-chan struct{} { return t.released }

// springLocked returns the first armed trap whose marker is among n's
// unsynced bytes (the appended region [synced size, size) and the
// overwritten ranges), disarmed and marked caught; nil when none is.
// Caller holds f.mu.
func (f *FS) springLocked(n *node) *Trap {
	p := f.pending[n]
	if p == nil || len(f.traps) == 0 || f.frozen {
		return nil
	}
	path, ok := f.pathOf(n)
	if !ok {
		return nil
	}
	rel, _ := filepath.Rel(f.backing, path)
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var st syscall.Stat_t
	if syscall.Fstat(int(fh.Fd()), &st) != nil {
		return nil
	}
	read := func(off, end int64) []byte {
		if end <= off {
			return nil
		}
		b := make([]byte, end-off)
		m, _ := fh.ReadAt(b, off)
		return b[:m]
	}
	unsynced := [][]byte{read(p.syncedSize, st.Size)}
	for _, u := range p.undo {
		unsynced = append(unsynced, read(u.off, min(u.off+int64(len(u.data)), st.Size)))
	}
	for i, t := range f.traps {
		if t.File != "" && filepath.Clean(t.File) != rel {
			continue
		}
		for _, b := range unsynced {
			if bytes.Contains(b, t.Marker) {
				f.traps = append(f.traps[:i], f.traps[i+1:]...)
				close(t.caught)
				return t
			}
		}
	}
	return nil
}

// Crash drops every unsynced byte: files revert to their state at their
// last sync and files whose entry never became durable are unlinked (see
// the package doc). Whoever writes through the mount should be dead first,
// as after a real power cut; a write racing Crash lands either before it
// (and is dropped) or after it (and is pending again).
func (f *FS) Crash() (CrashReport, error) {
	var rep CrashReport
	var errs []error
	var touched []*node
	f.mu.Lock()
	for n, p := range f.pending {
		path, ok := f.pathOf(n)
		if !ok {
			continue // unlinked: nothing to revert
		}
		if err := revert(path, p); err != nil {
			errs = append(errs, err)
			continue
		}
		rep.BytesDropped += p.bytes
		rep.FilesReverted++
		touched = append(touched, n)
	}
	for n := range f.created {
		path, ok := f.pathOf(n)
		if !ok {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("lazyfs: crash: remove never-durable %s: %w", path, err))
			continue
		}
		rep.FilesRemoved++
	}
	f.pending = map[*node]*pending{}
	f.created = map[*node]bool{}
	f.dropped += rep.BytesDropped
	f.frozen = false
	f.crashes++
	if f.quota > 0 {
		if used, err := usage(f.backing); err == nil {
			f.used = used
		} else {
			errs = append(errs, err)
		}
	}
	f.mu.Unlock()
	// Outside the lock: invalidating the kernel's page cache may call back
	// into the filesystem.
	for _, n := range touched {
		_ = n.NotifyContent(0, 0)
	}
	return rep, errors.Join(errs...)
}

// revert restores a file's synced state: the overwritten synced bytes in
// reverse write order (the oldest record holds the synced content), then
// the synced size.
func revert(path string, p *pending) error {
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("lazyfs: crash: %w", err)
	}
	defer fh.Close()
	for i := len(p.undo) - 1; i >= 0; i-- {
		u := p.undo[i]
		if _, err := fh.WriteAt(u.data, u.off); err != nil {
			return fmt.Errorf("lazyfs: crash: restore %s at %d: %w", path, u.off, err)
		}
	}
	if err := fh.Truncate(p.syncedSize); err != nil {
		return fmt.Errorf("lazyfs: crash: truncate %s to %d: %w", path, p.syncedSize, err)
	}
	return nil
}

// pathOf is n's path in the backing directory; false when n is no longer
// linked under the root.
func (f *FS) pathOf(n *node) (string, bool) {
	root := f.root.EmbeddedInode()
	var segs []string
	cur := n.EmbeddedInode()
	for cur != root {
		name, parent := cur.Parent()
		if parent == nil {
			return "", false
		}
		segs = append(segs, name)
		cur = parent
	}
	for i, j := 0, len(segs)-1; i < j; i, j = i+1, j-1 {
		segs[i], segs[j] = segs[j], segs[i]
	}
	return filepath.Join(append([]string{f.backing}, segs...)...), true
}

// usage sums the sizes of the regular files under dir.
func usage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total, err
}

// track returns n's pending state, starting it from the backing file's
// current (synced) size. Caller holds f.mu.
func (f *FS) track(n *node, size int64) *pending {
	p := f.pending[n]
	if p == nil {
		p = &pending{syncedSize: size}
		f.pending[n] = p
	}
	return p
}

// saveUndo records the synced bytes in [off, end) that are about to be
// overwritten or cut. Caller holds f.mu.
func (f *FS) saveUndo(n *node, p *pending, off, end int64) error {
	end = min(end, p.syncedSize)
	if off >= end {
		return nil
	}
	path, ok := f.pathOf(n)
	if !ok {
		return nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	buf := make([]byte, end-off)
	m, err := fh.ReadAt(buf, off)
	if m < len(buf) && err != nil {
		buf = buf[:m] // the file is shorter than the synced size (truncated, pending)
	}
	p.undo = append(p.undo, undoRec{off: off, data: buf})
	return nil
}

// synced marks n's data and size durable after the sync delay (and a
// trap's hold); false while frozen, or when a trap cut the power.
func (f *FS) synced(n *node) bool {
	f.mu.Lock()
	gen := f.crashes
	t := f.springLocked(n)
	f.mu.Unlock()
	if f.syncDelay > 0 {
		time.Sleep(f.syncDelay)
	}
	if t != nil {
		time.Sleep(t.Hold)
		f.mu.Lock()
		if t.Fail && f.crashes == gen {
			f.frozen = true
		}
		f.mu.Unlock()
		close(t.released)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen || f.crashes != gen {
		return false
	}
	delete(f.pending, n)
	delete(f.created, n)
	return true
}

// dirSynced makes the entries of the files created in dir durable.
func (f *FS) dirSynced(dir *node) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		return false
	}
	for n := range f.created {
		if _, parent := n.Parent(); parent == dir.EmbeddedInode() {
			delete(f.created, n)
		}
	}
	return true
}

// forget drops the bookkeeping of an unlinked file.
func (f *FS) forget(n *node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pending, n)
	delete(f.created, n)
}

// recount refreshes the quota usage after an operation that freed space.
func (f *FS) recount() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quota > 0 {
		if used, err := usage(f.backing); err == nil {
			f.used = used
		}
	}
}
