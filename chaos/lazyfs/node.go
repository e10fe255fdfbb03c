package lazyfs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node whose file handles report writes and syncs to
// its FS.
type node struct {
	gofs.LoopbackNode
	lfs *FS
}

var (
	_ gofs.NodeOpener         = (*node)(nil)
	_ gofs.NodeCreater        = (*node)(nil)
	_ gofs.NodeSetattrer      = (*node)(nil)
	_ gofs.NodeUnlinker       = (*node)(nil)
	_ gofs.NodeRenamer        = (*node)(nil)
	_ gofs.NodeOpendirHandler = (*node)(nil)
)

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &file{lf: fh.(*gofs.LoopbackFile), n: n}, fl, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	ch, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	cn := ch.Operations().(*node)
	n.lfs.mu.Lock()
	n.lfs.created[cn] = true
	n.lfs.mu.Unlock()
	return ch, &file{lf: fh.(*gofs.LoopbackFile), n: cn}, fl, 0
}

// Setattr records a size change as pending before making it.
func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if fh, ok := f.(*file); ok {
		f = fh.lf // the loopback node forwards to the handle; skip our wrapper
	}
	sz, ok := in.GetSize()
	if !ok {
		return n.LoopbackNode.Setattr(ctx, f, in, out)
	}
	l := n.lfs
	l.mu.Lock()
	defer l.mu.Unlock()
	var cur fuse.AttrOut
	if errno := n.LoopbackNode.Getattr(ctx, f, &cur); errno != 0 {
		return errno
	}
	size, newSize := int64(cur.Size), int64(sz)
	p := l.track(n, size)
	if newSize < size {
		if err := l.saveUndo(n, p, newSize, size); err != nil {
			return gofs.ToErrno(err)
		}
	}
	if errno := n.LoopbackNode.Setattr(ctx, f, in, out); errno != 0 {
		return errno
	}
	p.bytes += abs(newSize - size)
	if l.quota > 0 {
		l.used += newSize - size
	}
	return 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	child := n.GetChild(name)
	if errno := n.LoopbackNode.Unlink(ctx, name); errno != 0 {
		return errno
	}
	if child != nil {
		if cn, ok := child.Operations().(*node); ok {
			n.lfs.forget(cn)
		}
	}
	n.lfs.recount()
	return 0
}

func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	replaced := newParent.EmbeddedInode().GetChild(newName)
	if errno := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags); errno != 0 {
		return errno
	}
	if replaced != nil && flags&unixRenameExchange == 0 {
		if rn, ok := replaced.Operations().(*node); ok {
			n.lfs.forget(rn)
		}
	}
	n.lfs.recount()
	return 0
}

// unixRenameExchange is RENAME_EXCHANGE: both names stay linked.
const unixRenameExchange = 2

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dir{inner: fh, n: n}, fl, 0
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// dir is a directory handle; its fsync makes the entries of files created
// in it durable.
type dir struct {
	inner gofs.FileHandle
	n     *node
}

var (
	_ gofs.FileReaddirenter = (*dir)(nil)
	_ gofs.FileSeekdirer    = (*dir)(nil)
	_ gofs.FileReleasedirer = (*dir)(nil)
	_ gofs.FileFsyncdirer   = (*dir)(nil)
)

func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.inner.(gofs.FileReaddirenter).Readdirent(ctx)
}

func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.inner.(gofs.FileSeekdirer).Seekdir(ctx, off)
}

func (d *dir) Releasedir(ctx context.Context, flags uint32) {
	d.inner.(gofs.FileReleasedirer).Releasedir(ctx, flags)
}

func (d *dir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if !d.n.lfs.dirSynced(d.n) {
		return syscall.EIO
	}
	return 0
}

// file is a regular file handle.
type file struct {
	lf *gofs.LoopbackFile
	n  *node
}

var (
	_ gofs.FileReader    = (*file)(nil)
	_ gofs.FileWriter    = (*file)(nil)
	_ gofs.FileWritever  = (*file)(nil)
	_ gofs.FileFsyncer   = (*file)(nil)
	_ gofs.FileFlusher   = (*file)(nil)
	_ gofs.FileReleaser  = (*file)(nil)
	_ gofs.FileGetattrer = (*file)(nil)
	_ gofs.FileSetattrer = (*file)(nil)
	_ gofs.FileLseeker   = (*file)(nil)
	_ gofs.FileGetlker   = (*file)(nil)
	_ gofs.FileSetlker   = (*file)(nil)
	_ gofs.FileSetlkwer  = (*file)(nil)
)

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return f.lf.Read(ctx, buf, off)
}

// Write records the write as pending (saving any synced bytes it
// overwrites) and applies the quota.
func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	l := f.n.lfs
	l.mu.Lock()
	defer l.mu.Unlock()
	var cur fuse.AttrOut
	if errno := f.lf.Getattr(ctx, &cur); errno != 0 {
		return 0, errno
	}
	size := int64(cur.Size)
	if l.quota > 0 {
		room := l.quota - l.used // bytes the file may still grow by
		if end := off + int64(len(data)); end > size+room {
			allowed := max(0, size+room-off)
			if allowed == 0 {
				return 0, syscall.ENOSPC
			}
			data = data[:allowed]
		}
	}
	p := l.track(f.n, size)
	if err := l.saveUndo(f.n, p, off, off+int64(len(data))); err != nil {
		return 0, gofs.ToErrno(err)
	}
	w, errno := f.lf.Write(ctx, data, off)
	p.bytes += int64(w)
	if l.quota > 0 {
		l.used += max(0, off+int64(w)-size)
	}
	return w, errno
}

func (f *file) Writev(ctx context.Context, iov [][]byte, off int64) (uint32, syscall.Errno) {
	var data []byte
	for _, b := range iov {
		data = append(data, b...)
	}
	return f.Write(ctx, data, off)
}

// Fsync makes the file's data and size durable (fsync and fdatasync alike).
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if !f.n.lfs.synced(f.n) {
		return syscall.EIO
	}
	return 0
}

func (f *file) Flush(ctx context.Context) syscall.Errno   { return f.lf.Flush(ctx) }
func (f *file) Release(ctx context.Context) syscall.Errno { return f.lf.Release(ctx) }
func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Getattr(ctx, out)
}

// Setattr is reached only through node.Setattr, which does the bookkeeping.
func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.n.Setattr(ctx, f.lf, in, out)
}

func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.lf.Lseek(ctx, off, whence)
}

func (f *file) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return f.lf.Getlk(ctx, owner, lk, flags, out)
}

func (f *file) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlk(ctx, owner, lk, flags)
}

func (f *file) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlkw(ctx, owner, lk, flags)
}
