//go:build mutant

// Seeded bug rewrite-renamed-unsynced (gate D): recovery's rewrite of the journal without its quarantined lines is renamed over the journal without an fsync, so a power cut right after the recovery loses the whole rewritten file

package journal

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// rewriteWithout replaces path with its bytes [0, end) minus the bad lines:
// temp file, sync, rename; the caller syncs the directory.
func rewriteWithout(fsys FS, src File, path string, bad []lineRec, end int64) error {
	tmp := path + ".rewrite"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", tmp, err)
	}
	w := bufio.NewWriterSize(writerOnly{f}, 1<<20)
	var pos int64
	copyTo := func(to int64) error {
		if to > pos {
			if _, err := io.Copy(w, io.NewSectionReader(src, pos, to-pos)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range bad {
		if err = copyTo(r.off); err != nil {
			break
		}
		pos = r.off + int64(len(r.raw))
	}
	if err == nil {
		err = copyTo(end)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("journal: rewrite %s without quarantined lines: %w", path, err)
	}
	return nil
}
