package journal

import (
	"os"
	"syscall"
)

// fdatasync skips the inode metadata flush fsync would add (mtime); the file
// size is still made durable, which is all recovery needs.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
