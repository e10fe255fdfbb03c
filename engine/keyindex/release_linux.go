package keyindex

import "syscall"

// dropResident tells the kernel this process no longer needs the pages of
// the mapping at addr (size bytes): MADV_DONTNEED on a shared file mapping
// unmaps them from the process and leaves them in the page cache, so the
// next read faults them back in from memory, with their data.
func dropResident(addr uintptr, size int64) error {
	if size <= 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
