package journal

import (
	"io"
	"os"
)

// FS is the journal's only way to the filesystem, so tests and chaos/faultfs
// can inject faults. OSFS is the real one.
//
// Concurrency: FS methods may be called from any goroutine. File methods are
// called from one goroutine at a time, except ReadAt, which may run
// concurrently with everything else (Iterate reads while the writer appends).
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(path string, perm os.FileMode) error
	// SyncDir makes directory entries (creates, renames) in dir durable.
	SyncDir(dir string) error
}

// File is an open file of an FS. Sync makes the written data durable; on
// OSFS it is fdatasync, because the journal needs its bytes, not mtime.
//
// File is an alias of an interface literal, not a defined type, so a
// filesystem wrapper outside the engine (chaos/faultfs) can implement FS
// with its own identical literal and without importing this package: Go
// treats two interface literals with the same methods as one type, so their
// OpenFile signatures match.
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

// OSFS is the real filesystem.
var OSFS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	// Directories are synced with fsync: fdatasync is not specified for them.
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type osFile struct{ *os.File }

func (f osFile) Sync() error { return fdatasync(f.File) }
