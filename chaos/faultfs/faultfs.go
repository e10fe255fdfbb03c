package faultfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Filesystem is what FS wraps and what it implements: the journal's
// filesystem seam (engine/journal.FS), declared here again so this package
// stands on the standard library alone. *FS is passed straight to
// journal.Config.FS; a test in engine/journal asserts that it fits.
//
// Concurrency: Filesystem methods may be called from any goroutine; File
// methods from one goroutine at a time, except ReadAt.
type Filesystem interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(path string, perm os.FileMode) error
	// SyncDir makes directory entries (creates, renames) in dir durable.
	SyncDir(dir string) error
}

// File is an open file of a Filesystem. It is the same interface literal as
// engine/journal.File (an alias there too), which makes the two one type.
type File = interface {
	io.Reader
	io.Writer
	io.ReaderAt
	io.Seeker
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// OS is the real filesystem, the default inner Filesystem of New. Its Sync
// is fsync (os.File.Sync), not the journal's fdatasync: stronger, and only
// tests run on it.
var OS Filesystem = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Op is a filesystem operation an Injector can fail.
type Op int

const (
	OpOpen Op = iota
	OpRead
	OpReadAt
	OpWrite
	OpSeek
	OpSync
	OpTruncate
	OpStat
	OpClose
	OpRename
	OpRemove
	OpMkdirAll
	OpSyncDir
	numOps
)

var opNames = [numOps]string{"open", "read", "readat", "write", "seek", "sync", "truncate", "stat",
	"close", "rename", "remove", "mkdirall", "syncdir"}

func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

var (
	// ErrInjected is a ready-made fault for injectors.
	ErrInjected = errors.New("faultfs: injected fault")
	// ErrCrashed is returned by every handle opened before Crash.
	ErrCrashed = errors.New("faultfs: file handle died in a crash")
)

// Injector decides whether op on path fails. It must be safe for
// concurrent use: ReadAt runs concurrently with other operations.
type Injector interface {
	MaybeError(op Op, path string) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op, path string) error

func (f InjectorFunc) MaybeError(op Op, path string) error { return f(op, path) }

// OnNth fails only the nth call (1-based) of op, counting from creation.
func OnNth(op Op, n int, err error) Injector {
	var calls atomic.Int64
	return InjectorFunc(func(o Op, _ string) error {
		if o == op && calls.Add(1) == int64(n) {
			return err
		}
		return nil
	})
}

// FromNth fails the nth call of op and every later one.
func FromNth(op Op, n int, err error) Injector {
	var calls atomic.Int64
	return InjectorFunc(func(o Op, _ string) error {
		if o == op && calls.Add(1) >= int64(n) {
			return err
		}
		return nil
	})
}

// Always fails every call of op.
func Always(op Op, err error) Injector {
	return InjectorFunc(func(o Op, _ string) error {
		if o == op {
			return err
		}
		return nil
	})
}

// OnPathSuffix applies inj only to paths ending in suffix.
func OnPathSuffix(suffix string, inj Injector) Injector {
	return InjectorFunc(func(o Op, path string) error {
		if strings.HasSuffix(path, suffix) {
			return inj.MaybeError(o, path)
		}
		return nil
	})
}

// Any returns the first error of injs, asking each in order. Every
// injector is asked, so counting injectors see every call.
func Any(injs ...Injector) Injector {
	return InjectorFunc(func(o Op, path string) error {
		var first error
		for _, inj := range injs {
			if err := inj.MaybeError(o, path); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// FS wraps a Filesystem with fault injection and a crash model.
type FS struct {
	inner Filesystem

	// crashMu makes Crash atomic with respect to Write, Sync and Truncate:
	// each either completes before the crash or fails with ErrCrashed.
	crashMu sync.RWMutex

	mu         sync.Mutex
	inj        Injector
	shortWrite int              // >=0: the next Write writes only this many bytes
	gen        int              // crash generation; handles of older ones are dead
	synced     map[string]int64 // per cleaned path: size made durable by Sync
	calls      [numOps]atomic.Int64
}

// New wraps inner (nil means OS) with inj (nil injects nothing).
func New(inner Filesystem, inj Injector) *FS {
	if inner == nil {
		inner = OS
	}
	return &FS{inner: inner, inj: inj, shortWrite: -1, synced: map[string]int64{}}
}

// SetInjector replaces the injector (nil injects nothing).
func (fs *FS) SetInjector(inj Injector) {
	fs.mu.Lock()
	fs.inj = inj
	fs.mu.Unlock()
}

// ShortWriteNext makes the next Write of any file write only the first k
// bytes and return k with a nil error, if it was asked to write more.
func (fs *FS) ShortWriteNext(k int) {
	fs.mu.Lock()
	fs.shortWrite = k
	fs.mu.Unlock()
}

// Calls returns how many times op was attempted, failed calls included.
func (fs *FS) Calls(op Op) int64 { return fs.calls[op].Load() }

// Crash simulates power loss: every tracked file is cut back to the size
// its last successful Sync made durable, and every open handle dies. The
// FS stays usable, like the disk after a restart.
func (fs *FS) Crash() error {
	fs.crashMu.Lock()
	defer fs.crashMu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.gen++
	var errs []error
	for path, size := range fs.synced {
		f, err := fs.inner.OpenFile(path, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fi, err := f.Stat(); err == nil && fi.Size() > size {
			err = f.Truncate(size)
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// check counts op and asks the injector.
func (fs *FS) check(op Op, path string) error {
	fs.calls[op].Add(1)
	fs.mu.Lock()
	inj := fs.inj
	fs.mu.Unlock()
	if inj == nil {
		return nil
	}
	if err := inj.MaybeError(op, path); err != nil {
		return &os.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

func (fs *FS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if err := fs.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := fs.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	path := filepath.Clean(name)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.synced[path]; !ok || flag&os.O_TRUNC != 0 {
		// A file found on open is taken as durable: it survived to be found.
		size := int64(0)
		if flag&os.O_TRUNC == 0 {
			if fi, err := f.Stat(); err == nil {
				size = fi.Size()
			}
		}
		fs.synced[path] = size
	}
	return &file{fs: fs, f: f, path: path, gen: fs.gen}, nil
}

func (fs *FS) Rename(oldpath, newpath string) error {
	if err := fs.check(OpRename, oldpath); err != nil {
		return err
	}
	if err := fs.inner.Rename(oldpath, newpath); err != nil {
		return err
	}
	fs.mu.Lock()
	o, n := filepath.Clean(oldpath), filepath.Clean(newpath)
	if size, ok := fs.synced[o]; ok {
		fs.synced[n] = size
		delete(fs.synced, o)
	}
	fs.mu.Unlock()
	return nil
}

func (fs *FS) Remove(name string) error {
	if err := fs.check(OpRemove, name); err != nil {
		return err
	}
	if err := fs.inner.Remove(name); err != nil {
		return err
	}
	fs.mu.Lock()
	delete(fs.synced, filepath.Clean(name))
	fs.mu.Unlock()
	return nil
}

func (fs *FS) MkdirAll(path string, perm os.FileMode) error {
	if err := fs.check(OpMkdirAll, path); err != nil {
		return err
	}
	return fs.inner.MkdirAll(path, perm)
}

func (fs *FS) SyncDir(dir string) error {
	if err := fs.check(OpSyncDir, dir); err != nil {
		return err
	}
	return fs.inner.SyncDir(dir)
}

// file is a handle of FS. Like the File it wraps, only ReadAt may be called
// concurrently with other methods.
type file struct {
	fs   *FS
	f    File
	path string
	gen  int
}

// check fails handles from before a crash, then asks the injector.
func (f *file) check(op Op) error {
	f.fs.mu.Lock()
	dead := f.gen != f.fs.gen
	f.fs.mu.Unlock()
	if dead {
		f.fs.calls[op].Add(1)
		return &os.PathError{Op: op.String(), Path: f.path, Err: ErrCrashed}
	}
	return f.fs.check(op, f.path)
}

func (f *file) Read(p []byte) (int, error) {
	if err := f.check(OpRead); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check(OpReadAt); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *file) Write(p []byte) (int, error) {
	f.fs.crashMu.RLock()
	defer f.fs.crashMu.RUnlock()
	if err := f.check(OpWrite); err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	k := f.fs.shortWrite
	if k >= 0 && k < len(p) {
		f.fs.shortWrite = -1
	} else {
		k = -1
	}
	f.fs.mu.Unlock()
	if k >= 0 {
		n, err := f.f.Write(p[:k])
		return n, err // n < len(p) with a nil error: the caller must notice
	}
	return f.f.Write(p)
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if err := f.check(OpSeek); err != nil {
		return 0, err
	}
	return f.f.Seek(offset, whence)
}

func (f *file) Sync() error {
	f.fs.crashMu.RLock()
	defer f.fs.crashMu.RUnlock()
	if err := f.check(OpSync); err != nil {
		return err // not synced: a crash drops what this sync would have kept
	}
	if err := f.f.Sync(); err != nil {
		return err
	}
	fi, err := f.f.Stat()
	if err != nil {
		return err
	}
	f.fs.mu.Lock()
	if f.gen == f.fs.gen {
		f.fs.synced[f.path] = fi.Size()
	}
	f.fs.mu.Unlock()
	return nil
}

func (f *file) Truncate(size int64) error {
	f.fs.crashMu.RLock()
	defer f.fs.crashMu.RUnlock()
	if err := f.check(OpTruncate); err != nil {
		return err
	}
	if err := f.f.Truncate(size); err != nil {
		return err
	}
	// Bytes cut off cannot come back in a crash.
	f.fs.mu.Lock()
	if s, ok := f.fs.synced[f.path]; ok && s > size {
		f.fs.synced[f.path] = size
	}
	f.fs.mu.Unlock()
	return nil
}

func (f *file) Stat() (os.FileInfo, error) {
	if err := f.check(OpStat); err != nil {
		return nil, err
	}
	return f.f.Stat()
}

// Close always closes the real handle, even after a crash, so tests do not
// leak descriptors.
func (f *file) Close() error {
	err := f.check(OpClose)
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

var _ Filesystem = (*FS)(nil)
