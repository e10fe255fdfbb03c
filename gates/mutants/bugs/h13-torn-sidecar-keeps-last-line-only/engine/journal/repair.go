//go:build mutant

// Seeded bug h13-torn-sidecar-keeps-last-line-only (blind hunt 13, in our
// engine; out of reach until stop 17): when a torn tail spans several lines
// (the torn line ends a command of several events) the sidecar keeps only
// the last, partial line; the complete lines cut with it are lost. Breaks
// SPEC §3 ("a torn tail ... is cut off, kept in a sidecar file").

package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"unicode/utf8"
)

func createFile(fsys FS, path string) error {
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("journal: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal: create %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("journal: sync dir %s: %w", dir, err)
	}
	return nil
}

// tornBytes is what a torn tail's sidecar keeps: every line recovery held
// back from the end of the file, byte for byte, the torn one included.
func tornBytes(held []lineRec) []byte {
	var tail []byte
	for _, r := range held {
		tail = r.raw // BUG: only the last line held is kept
	}
	return tail
}

// sidecarName returns name, or name-2, name-3 … if taken, so two tears in
// the same second never overwrite each other.
func sidecarName(fsys FS, name string) string {
	for i := 1; ; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s-%d", name, i)
		}
		f, err := fsys.OpenFile(n, os.O_RDONLY, 0)
		if err != nil {
			return n // absent (or unreadable: O_EXCL on create decides)
		}
		f.Close()
	}
}

func writeSynced(fsys FS, path string, flag int, data []byte) error {
	f, err := fsys.OpenFile(path, flag, 0o644)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	n, err := f.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("journal: write %s: %w", path, err)
	}
	return nil
}

// quarantineEntry is one JSON line of <path>.quarantine.
type quarantineEntry struct {
	Line   int    `json:"line"`
	Offset int64  `json:"offset"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
	// RawBase64 holds the exact bytes when they are not valid UTF-8, which
	// Raw cannot carry unchanged.
	RawBase64 []byte `json:"raw_base64,omitempty"`
	// Dependent entries are undamaged events left out of the replay (and
	// still in the journal) because their entity's first line was lost.
	Dependent bool   `json:"dependent,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	EventID   string `json:"event_id,omitempty"`
}

// readQuarantine reads the quarantine file earlier recoveries left, if any.
// Entries that do not parse are kept as bytes and otherwise ignored.
func readQuarantine(fsys FS, path string) ([]quarantineEntry, []byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: read %s: %w", path, err)
	}
	if n := len(raw); n > 0 && raw[n-1] != '\n' {
		raw = append(raw, '\n') // a hand-edited file: keep entries on their own lines
	}
	var out []quarantineEntry
	for l := range bytes.Lines(raw) {
		var e quarantineEntry
		if json.Unmarshal(l, &e) == nil {
			out = append(out, e)
		}
	}
	return out, raw, nil
}

// recordedDependents returns the event ids of the dependents an earlier
// recovery copied into the quarantine file.
func recordedDependents(prior []quarantineEntry) map[string]bool {
	recorded := map[string]bool{}
	for _, q := range prior {
		if q.Dependent {
			recorded[q.EventID] = true
		}
	}
	return recorded
}

// quarantineEntries encodes the lines quarantined now and the dependents
// not yet recorded by an earlier recovery (they stay in the journal, so
// every start finds them again).
func quarantineEntries(s *scanner) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	add := func(r lineRec, e quarantineEntry) {
		raw := bytes.TrimSuffix(r.raw, []byte{'\n'})
		e.Line, e.Offset, e.Raw = r.no, r.off, string(raw)
		if !utf8.Valid(raw) {
			e.RawBase64 = raw
		}
		_ = enc.Encode(e) // plain strings, ints and bytes: cannot fail
	}
	for _, r := range s.bad {
		add(r, quarantineEntry{Reason: r.why})
	}
	for _, r := range s.deps {
		add(r, quarantineEntry{Reason: r.why, Dependent: true, Seq: r.env.Seq, EventID: r.env.EventID})
	}
	return buf.Bytes()
}

// writeAtomic makes path hold exactly data, or leaves it as it was: a temp
// file is written and synced, renamed over path, and the directory synced.
// On failure the temp file is removed, so a full disk never leaves a partial
// sidecar behind.
func writeAtomic(fsys FS, path string, data []byte) error {
	tmp := path + ".tmp"
	err := writeSynced(fsys, tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, data)
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err != nil {
		fsys.Remove(tmp)
		return err
	}
	dir := filepath.Dir(path)
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("journal: sync dir %s: %w", dir, err)
	}
	return nil
}

// stopped explains why recovery stopped before the journal was changed.
func stopped(path, step string, err error) error {
	why := ""
	if errors.Is(err, syscall.ENOSPC) {
		why = " (disk full)"
	}
	return fmt.Errorf("journal: recovery of %s stopped: could not %s%s: %w; "+
		"the journal was left as it was and no partial recovery file was kept: free space or fix the disk, then restart",
		path, step, why, err)
}

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
	if err == nil {
		err = f.Sync()
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

// writerOnly hides File's ReadFrom-less methods so bufio treats it as a
// plain writer, and turns a short write into an error.
type writerOnly struct{ f File }

func (w writerOnly) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

func truncateSynced(fsys FS, path string, size int64) error {
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("journal: cut torn tail of %s at %d: %w", path, size, err)
	}
	return nil
}
