package specbackend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Journal errors (infrastructure failures, package-prefixed).
var (
	ErrJournalClosed = errors.New("journal: closed")
)

// sparseEvery is the distance in seq between two entries of the in-memory offset index.
const sparseEvery = 8

// maxLineBytes bounds one journal line on read; longer lines are corrupt.
const maxLineBytes = 4 << 20

// TornInfo describes a cut-off torn tail.
type TornInfo struct {
	Line    int    `json:"line"`
	Offset  int64  `json:"offset"`
	Bytes   int    `json:"bytes"`
	Reason  string `json:"reason"`
	Sidecar string `json:"sidecar"`
}

// QuarantineEntry is one line of the quarantine file and of the recovery report.
type QuarantineEntry struct {
	Line          int    `json:"line"`
	Offset        int64  `json:"offset"`
	Reason        string `json:"reason"`
	Raw           string `json:"raw,omitempty"`
	LostFrom      int64  `json:"lost_from_seq,omitempty"`
	LostTo        int64  `json:"lost_to_seq,omitempty"`
	QuarantinedAt string `json:"quarantined_at"`
}

// RecoveryReport is what replay found and did; GET /journal/verify serves it.
type RecoveryReport struct {
	File                  string            `json:"file"`
	Mode                  string            `json:"recovery_mode"`
	Status                string            `json:"status"` // clean | repaired | degraded
	LinesRead             int               `json:"lines_read"`
	EventsReplayed        int64             `json:"events_replayed"`
	LastSeq               int64             `json:"last_seq"`
	TornTail              *TornInfo         `json:"torn_tail"`
	Quarantined           []QuarantineEntry `json:"quarantined"`
	QuarantineFile        string            `json:"quarantine_file"`
	PreviouslyLost        [][2]int64        `json:"previously_lost_seqs"`
	IntegrityErrors       int               `json:"integrity_errors"`
	RepairError           string            `json:"repair_error,omitempty"` // a repair write failed: read-only
	ReplayDurationSeconds float64           `json:"replay_duration_seconds"`
	ReplayedAtUnix        float64           `json:"replayed_at_unix"`
}

type appendBatch struct {
	lines    [][]byte
	evs      []*Event // the events of lines, handed to onDurable once they are durable
	firstSeq int64
	done     chan error
}

// journal is the append-only JSONL file. Exactly one writer goroutine (run) writes;
// appenders hand over a batch through queue. Readers use ReadAt below the durable size.
type journal struct {
	path     string
	f        *os.File
	fd       int
	fsync    bool
	maxBatch int
	queue    chan *appendBatch
	stopped  chan struct{}

	mu      sync.Mutex
	size    int64         // durable bytes
	lastSeq int64         // durable seq
	sparse  []int64       // sparse[i]: offset of the first line with seq >= i*sparseEvery+1
	err     error         // sticky write error
	notify  chan struct{} // closed (and replaced) whenever lastSeq, err or closed change
	closed  bool

	// onDurable receives the events of every successfully written and synced group, in
	// seq order, before any appender of the group is answered (the engine folds them into
	// the read model there). Set before the first enqueue.
	onDurable func(evs []*Event)
	// syncHook, when set (tests), runs instead of fdatasync.
	syncHook func() error

	batches atomic.Int64
	syncs   atomic.Int64
	events  atomic.Int64
	syncNs  atomic.Int64
}

func (j *journal) stickyErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// signalLocked wakes every waitDurable caller. j.mu must be held.
func (j *journal) signalLocked() {
	if j.notify != nil {
		close(j.notify)
	}
	j.notify = make(chan struct{})
}

// waitDurable blocks until every event up to seq is durable; it returns the sticky error
// when the journal failed first (or ErrJournalClosed when it stopped first).
func (j *journal) waitDurable(seq int64) error {
	for {
		j.mu.Lock()
		if j.lastSeq >= seq {
			j.mu.Unlock()
			return nil
		}
		if j.err != nil {
			err := j.err
			j.mu.Unlock()
			return err
		}
		if j.closed {
			j.mu.Unlock()
			return ErrJournalClosed
		}
		if j.notify == nil {
			j.notify = make(chan struct{})
		}
		ch := j.notify
		j.mu.Unlock()
		<-ch
	}
}

func (j *journal) durable() (int64, int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size, j.lastSeq
}

func (j *journal) indexLocked(seq, off int64) {
	for int64(len(j.sparse))*sparseEvery+1 <= seq {
		j.sparse = append(j.sparse, off)
	}
}

// enqueue hands a batch to the writer. The caller keeps enqueue order == seq order.
func (j *journal) enqueue(lines [][]byte, evs []*Event, firstSeq int64) chan error {
	b := &appendBatch{lines: lines, evs: evs, firstSeq: firstSeq, done: make(chan error, 1)}
	j.queue <- b
	return b.done
}

func (j *journal) run() {
	defer close(j.stopped)
	var buf bytes.Buffer
	wsize, _ := j.durable()
	for first := range j.queue {
		group := []*appendBatch{first}
		closed := false
	drain:
		for len(group) < j.maxBatch {
			select {
			case b, ok := <-j.queue:
				if !ok {
					closed = true
					break drain
				}
				group = append(group, b)
			default:
				break drain
			}
		}
		err := j.stickyErr()
		if err == nil {
			buf.Reset()
			type lineOff struct{ seq, off int64 }
			offs := make([]lineOff, 0, len(group))
			off := wsize
			var last int64
			for _, b := range group {
				for i, l := range b.lines {
					offs = append(offs, lineOff{b.firstSeq + int64(i), off})
					off += int64(len(l))
					buf.Write(l)
					last = b.firstSeq + int64(i)
				}
			}
			if _, werr := j.f.Write(buf.Bytes()); werr != nil {
				err = fmt.Errorf("journal: write: %w", werr)
			} else if j.fsync {
				t0 := time.Now()
				sync := func() error { return syscall.Fdatasync(j.fd) }
				if j.syncHook != nil {
					sync = j.syncHook
				}
				if serr := sync(); serr != nil {
					err = fmt.Errorf("journal: fdatasync: %w", serr)
				}
				j.syncNs.Add(int64(time.Since(t0)))
				j.syncs.Add(1)
			}
			j.mu.Lock()
			if err != nil {
				j.err = err // sticky: never retried
			} else {
				wsize = off
				j.size = off
				j.lastSeq = last
				for _, lo := range offs {
					j.indexLocked(lo.seq, lo.off)
				}
			}
			j.mu.Unlock()
			if err == nil {
				j.batches.Add(1)
				j.events.Add(int64(len(offs)))
				if j.onDurable != nil {
					evs := make([]*Event, 0, len(offs))
					for _, b := range group {
						evs = append(evs, b.evs...)
					}
					j.onDurable(evs)
				}
			}
		}
		j.mu.Lock()
		j.signalLocked()
		j.mu.Unlock()
		for _, b := range group {
			b.done <- err
		}
		if closed {
			break
		}
	}
	if j.fsync && j.stickyErr() == nil {
		_ = syscall.Fdatasync(j.fd)
	}
	_ = j.f.Close()
	j.mu.Lock()
	j.closed = true
	j.signalLocked()
	j.mu.Unlock()
}

// closeNow stops the writer of a journal nobody appended to yet.
func (j *journal) closeNow() {
	close(j.queue)
	<-j.stopped
}

// readLines returns up to limit raw lines (with newline) with seq > afterSeq, durable only.
func (j *journal) readLines(afterSeq int64, limit int) ([][]byte, error) {
	j.mu.Lock()
	size := j.size
	var start int64
	if len(j.sparse) > 0 {
		i := int(afterSeq / sparseEvery)
		if i >= len(j.sparse) {
			i = len(j.sparse) - 1
		}
		start = j.sparse[i]
	}
	j.mu.Unlock()
	if start >= size {
		return nil, nil
	}
	bufSize := 256 << 10
	if limit <= 16 {
		bufSize = 16 << 10 // keyed-retry lookups read a handful of lines
	}
	r := bufio.NewReaderSize(io.NewSectionReader(j.f, start, size-start), bufSize)
	var out [][]byte
	for len(out) < limit {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if s, ok := lineSeq(line); ok && s > afterSeq {
				out = append(out, line)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (j *journal) readEvents(firstSeq int64, n int) ([]*Event, error) {
	lines, err := j.readLines(firstSeq-1, n)
	if err != nil {
		return nil, err
	}
	evs := make([]*Event, 0, len(lines))
	for _, l := range lines {
		ev, err := decodeLine(bytes.TrimSuffix(l, []byte("\n")))
		if err != nil {
			return nil, fmt.Errorf("journal: reread seq after %d: %w", firstSeq-1, err)
		}
		evs = append(evs, ev)
	}
	if len(evs) != n || (n > 0 && evs[0].Seq != firstSeq) {
		return nil, fmt.Errorf("journal: events %d..%d not found", firstSeq, firstSeq+int64(n)-1)
	}
	return evs, nil
}

// RecoveryError is returned by strict recovery; it names file, line and reason.
type RecoveryError struct {
	File   string
	Line   int
	Reason string
}

func (e *RecoveryError) Error() string {
	return fmt.Sprintf("journal: %s line %d: %s (recovery mode strict refuses to start)", e.File, e.Line, e.Reason)
}

// fsHook, when set (tests), runs before each durability-relevant file operation
// (write, fsync, rename, fsyncdir, truncate) with the path; an error fails the operation.
var fsHook func(op, path string) error

func fsOp(op, path string) error {
	if fsHook != nil {
		return fsHook(op, path)
	}
	return nil
}

func fsyncFile(f *os.File) error {
	if err := fsOp("fsync", f.Name()); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir fsyncs the directory holding path (a create or rename in it is durable after).
func syncDir(path string) error {
	dir := filepath.Dir(path)
	if err := fsOp("fsyncdir", dir); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func writeAll(f *os.File, b []byte) error {
	if err := fsOp("write", f.Name()); err != nil {
		return err
	}
	_, err := f.Write(b)
	return err
}

// writeFileDurable creates path with b: write, fsync, close, fsync the directory.
func writeFileDurable(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := writeAll(f, b); err != nil {
		f.Close()
		return err
	}
	if err := fsyncFile(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(path)
}

// appendFileDurable appends b to path (created if needed) and makes it durable.
func appendFileDurable(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := writeAll(f, b); err != nil {
		f.Close()
		return err
	}
	if err := fsyncFile(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(path)
}

// rewriteDurable copies src[0:end) without the drop ranges into tmp, fsyncs tmp, renames
// it over path and fsyncs the directory, in that order: the old journal is replaced only
// by a file whose content is already on disk, and the rename itself is durable before
// anything is appended. It returns the new file open for appending.
func rewriteDurable(src *os.File, tmp, path string, drop [][2]int64, end int64) (*os.File, error) {
	tf, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: rewrite: %w", err)
	}
	fail := func(what string, err error) (*os.File, error) {
		tf.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("journal: rewrite %s: %w", what, err)
	}
	if err := fsOp("write", tmp); err != nil {
		return fail("write", err)
	}
	pos := int64(0)
	for _, qr := range append(append([][2]int64(nil), drop...), [2]int64{end, end}) {
		if qr[0] > pos {
			if _, err := io.Copy(tf, io.NewSectionReader(src, pos, qr[0]-pos)); err != nil {
				return fail("write", err)
			}
		}
		pos = qr[1]
	}
	if err := fsyncFile(tf); err != nil {
		return fail("fsync", err)
	}
	if err := tf.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("journal: rewrite close: %w", err)
	}
	if err := fsOp("rename", path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("journal: rewrite rename: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("journal: rewrite rename: %w", err)
	}
	if err := syncDir(path); err != nil {
		return nil, fmt.Errorf("journal: rewrite fsync dir: %w", err)
	}
	nf, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: reopen: %w", err)
	}
	return nf, nil
}

func loadLostRanges(qpath string) [][2]int64 {
	f, err := os.Open(qpath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][2]int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes*2)
	for sc.Scan() {
		var q QuarantineEntry
		if json.Unmarshal(sc.Bytes(), &q) == nil && q.LostFrom > 0 && q.LostTo >= q.LostFrom {
			out = append(out, [2]int64{q.LostFrom, q.LostTo})
		}
	}
	return out
}

func rangeKnown(ranges [][2]int64, from, to int64) bool {
	for s := from; s <= to; {
		ok := false
		for _, r := range ranges {
			if s >= r[0] && s <= r[1] {
				s = r[1] + 1
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// openJournal replays the file through apply and returns a journal ready for appends.
// Torn tails are cut into a sidecar; middle corruption is quarantined or refused (strict).
func openJournal(path string, mode string, fsync bool, maxBatch, queueLen int, now time.Time, defects Defects, apply func(*Event)) (*journal, *RecoveryReport, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	t0 := time.Now()
	qpath := path + ".quarantine"
	rep := &RecoveryReport{File: path, Mode: mode, Status: "clean", QuarantineFile: qpath, Quarantined: []QuarantineEntry{}, PreviouslyLost: [][2]int64{}}
	known := loadLostRanges(qpath)
	j := &journal{path: path, fsync: fsync, maxBatch: maxBatch, queue: make(chan *appendBatch, queueLen), stopped: make(chan struct{})}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: open: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	type seg struct {
		line     []byte
		off      int64
		complete bool
		no       int
	}
	var off int64
	lineNo := 0
	if defects.Has(DefectH13RecoveryLineZeroBased) {
		lineNo = -1 // defect: lines counted from 0
	}
	next := func() (*seg, error) {
		var acc []byte
		for {
			part, err := r.ReadSlice('\n')
			acc = append(acc, part...)
			if err == bufio.ErrBufferFull {
				if len(acc) > maxLineBytes {
					// keep consuming the oversized line; it is corrupt anyway
					continue
				}
				continue
			}
			if err == io.EOF {
				if len(acc) == 0 {
					return nil, nil
				}
				lineNo++
				s := &seg{line: acc, off: off, complete: false, no: lineNo}
				off += int64(len(acc))
				return s, nil
			}
			if err != nil {
				return nil, err
			}
			lineNo++
			s := &seg{line: acc[:len(acc)-1], off: off, complete: true, no: lineNo}
			off += int64(len(acc))
			return s, nil
		}
	}

	var removed int64 // bytes of quarantined lines before the current offset
	var cutAt int64 = -1
	var lastSeq int64
	var quarantineRanges [][2]int64 // byte ranges to drop on rewrite
	var silent int                  // DefectRecoverySilentDuplicate: ranges dropped without a report
	var prevLine []byte             // the last good line (DefectRecoverySilentDuplicate)
	var tornBytes []byte
	// A command's events are applied once all of them are read: the file
	// ending inside a command (its last line torn, or missing) is the
	// command's unacknowledged write, cut whole (SPEC §3), not applied in
	// part. open holds the command read so far; want is its event count.
	type held struct {
		ev        *Event
		off, orig int64 // in the file after the quarantined lines go, and now
		no        int
	}
	var open []held
	want := 0
	settle := func() {
		for _, h := range open {
			j.indexLocked(h.ev.Seq, h.off)
			apply(h.ev)
			rep.EventsReplayed++
		}
		open, want = open[:0], 0
	}
	nowStr := now.UTC().Format(time.RFC3339Nano)
	fail := func(s *seg, reason string, raw []byte) error {
		if mode == "strict" {
			f.Close()
			return &RecoveryError{File: path, Line: s.no, Reason: reason}
		}
		rawS := string(raw)
		if len(rawS) > 64<<10 {
			rawS = rawS[:64<<10]
		}
		rep.Quarantined = append(rep.Quarantined, QuarantineEntry{Line: s.no, Offset: s.off, Reason: reason, Raw: rawS, QuarantinedAt: nowStr})
		return nil
	}

	cur, err := next()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("journal: read: %w", err)
	}
	for cur != nil {
		nxt, err := next()
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("journal: read: %w", err)
		}
		isLast := nxt == nil
		rep.LinesRead++
		var ev *Event
		var reason string
		if !cur.complete {
			reason = "incomplete last line (no newline)"
			if defects.Has(DefectRecoveryNewlineTail) && len(cur.line) <= maxLineBytes {
				// defect: a line that lost only its newline but passes its checksum is
				// kept as a complete event (and the newline is not restored)
				if e, derr := decodeLine(cur.line); derr == nil {
					reason, ev = "", e
				}
			}
		} else if len(cur.line) > maxLineBytes {
			reason = "line too long"
		} else if len(bytes.TrimSpace(cur.line)) == 0 {
			reason = "empty line"
		} else if e, derr := decodeLine(cur.line); derr != nil {
			reason = derr.Error()
		} else {
			ev = e
		}
		if ev == nil && isLast {
			cutAt = cur.off
			tornBytes = append([]byte(nil), cur.line...)
			if cur.complete {
				tornBytes = append(tornBytes, '\n')
			}
			rep.TornTail = &TornInfo{Line: cur.no, Offset: cur.off, Bytes: len(tornBytes), Reason: reason}
			if len(open) > 0 && !defects.Has(DefectH14TornCommandKeptInPart) { // defect: only the torn line is cut
				cutAt, lastSeq = open[0].orig, open[0].ev.Seq-1
				tornBytes, rep.TornTail.Line, rep.TornTail.Offset = nil, open[0].no, cutAt
				rep.TornTail.Reason = fmt.Sprintf("%s; the command it ends (%d of %d events read, from line %d) is cut whole", reason, len(open), want, open[0].no)
				open, want = open[:0], 0
			}
		} else if ev == nil {
			if e := fail(cur, reason, cur.line); e != nil {
				return nil, nil, e
			}
			quarantineRanges = append(quarantineRanges, [2]int64{cur.off, cur.off + int64(len(cur.line)) + 1})
			removed += int64(len(cur.line)) + 1
		} else if ev.Seq <= lastSeq && defects.Has(DefectRecoverySilentDuplicate) && cur.complete && bytes.Equal(cur.line, prevLine) {
			// defect: an exact copy of the previous line is taken for a writer double-write
			// and dropped from the journal without a quarantine entry or report
			quarantineRanges = append(quarantineRanges, [2]int64{cur.off, cur.off + int64(len(cur.line)) + 1})
			removed += int64(len(cur.line)) + 1
			silent++
		} else if ev.Seq <= lastSeq {
			if e := fail(cur, fmt.Sprintf("seq %d repeats or goes back (last good seq %d)", ev.Seq, lastSeq), cur.line); e != nil {
				return nil, nil, e
			}
			quarantineRanges = append(quarantineRanges, [2]int64{cur.off, cur.off + int64(len(cur.line)) + 1})
			removed += int64(len(cur.line)) + 1
		} else {
			if ev.Seq > lastSeq+1 && !defects.Has(DefectH11RecoverySeqGapAccepted) { // defect: only repeats are checked
				from, to := lastSeq+1, ev.Seq-1
				if rangeKnown(known, from, to) {
					rep.PreviouslyLost = append(rep.PreviouslyLost, [2]int64{from, to})
				} else {
					if mode == "strict" {
						f.Close()
						return nil, nil, &RecoveryError{File: path, Line: cur.no, Reason: fmt.Sprintf("seq gap: events %d..%d missing", from, to)}
					}
					rep.Quarantined = append(rep.Quarantined, QuarantineEntry{Line: cur.no, Offset: cur.off,
						Reason: fmt.Sprintf("seq gap: events %d..%d missing (lines destroyed)", from, to), LostFrom: from, LostTo: to, QuarantinedAt: nowStr})
				}
			}
			lastSeq = ev.Seq
			if defects.Has(DefectRecoverySilentDuplicate) {
				prevLine = cur.line
			}
			if len(open) > 0 && ev.Metadata.EventsInCommand > 0 {
				settle() // a command starting before the open one had all its events: damage in the middle
			}
			open = append(open, held{ev: ev, off: cur.off - removed, orig: cur.off, no: cur.no})
			if want == 0 {
				want = max(ev.Metadata.EventsInCommand, 1)
			}
			if len(open) >= want {
				settle()
			}
		}
		cur = nxt
	}
	if len(open) > 0 && cutAt < 0 && !defects.Has(DefectH14TornCommandKeptInPart) {
		// The file ends inside a command whose last lines never reached it.
		cutAt, lastSeq = open[0].orig, open[0].ev.Seq-1
		rep.TornTail = &TornInfo{Line: open[0].no, Offset: cutAt, Reason: fmt.Sprintf("incomplete command: %d of %d events, from line %d", len(open), want, open[0].no)}
		open = open[:0]
	}
	settle()
	if cutAt >= 0 && tornBytes == nil {
		// A command cut whole: the sidecar keeps every line of it.
		tornBytes = make([]byte, off-cutAt)
		if _, err := f.ReadAt(tornBytes, cutAt); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("journal: read the torn command: %w", err)
		}
		rep.TornTail.Bytes = len(tornBytes)
	}
	end := off
	// Repairs write (sidecar, quarantine, rewrite). When one fails (e.g. the disk is full)
	// the engine still starts: it serves the replayed state read-only and the journal
	// reports the failure as its sticky error (every append 503, health "failed").
	var repairErr error
	if cutAt >= 0 {
		end = cutAt
		side := fmt.Sprintf("%s.torn-%s", path, now.UTC().Format("20060102T150405.000000000Z"))
		rep.TornTail.Sidecar = side
		rep.Status = "repaired"
		// the sidecar is durable before the tail is cut from the journal
		if defects.Has(DefectH13TornTailNoSidecar) {
			// defect: the sidecar is named in the report but never written
		} else if err := writeFileDurable(side, tornBytes); err != nil {
			repairErr = fmt.Errorf("journal: write torn sidecar: %w", err)
		}
	}
	if len(quarantineRanges) > silent || len(rep.Quarantined) > 0 {
		rep.Status = "degraded"
		if repairErr == nil {
			var qb bytes.Buffer
			for _, q := range rep.Quarantined {
				b, _ := json.Marshal(q)
				qb.Write(append(b, '\n'))
			}
			write := appendFileDurable
			if defects.Has(DefectH14QuarantineFileTruncated) {
				write = writeFileDurable // defect: the quarantine file is written afresh, not appended to
			}
			if err := write(qpath, qb.Bytes()); err != nil {
				repairErr = fmt.Errorf("journal: quarantine file: %w", err)
			}
		}
	}
	rewritten := false
	if len(quarantineRanges) > 0 && repairErr == nil {
		// Rewrite without the quarantined lines: temp file, fsync it, rename over the
		// journal, fsync the directory. Only then is the old file's content replaced.
		tmp := path + ".rewrite"
		nf, err := rewriteDurable(f, tmp, path, quarantineRanges, end)
		if err != nil {
			repairErr = err
		} else {
			rewritten = true
			f.Close()
			f = nf
			end -= removed
		}
	}
	if !rewritten && len(quarantineRanges) > 0 {
		// the bad lines are still in the file: index the original offsets
		for i, newOff := range j.sparse {
			orig := newOff
			for _, qr := range quarantineRanges {
				if qr[0] <= orig {
					orig += qr[1] - qr[0]
				}
			}
			j.sparse[i] = orig
		}
	}
	if cutAt >= 0 && repairErr == nil && !rewritten {
		if err := fsOp("truncate", path); err != nil {
			repairErr = fmt.Errorf("journal: cut torn tail: %w", err)
		} else if err := f.Truncate(end); err != nil {
			repairErr = fmt.Errorf("journal: cut torn tail: %w", err)
		} else if err := fsyncFile(f); err != nil {
			repairErr = fmt.Errorf("journal: sync after cut: %w", err)
		}
	}
	if repairErr != nil {
		rep.Status = "degraded"
		rep.RepairError = repairErr.Error()
		j.err = fmt.Errorf("journal: recovery could not repair the file, read-only until restarted: %w", repairErr)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("journal: seek: %w", err)
	}
	if err := syncDir(path); err != nil && j.err == nil { // a just-created journal's entry
		rep.Status = "degraded"
		rep.RepairError = err.Error()
		j.err = fmt.Errorf("journal: fsync directory: %w", err)
	}
	j.f = f
	j.fd = int(f.Fd())
	j.size = end
	j.lastSeq = lastSeq
	rep.LastSeq = lastSeq
	rep.ReplayDurationSeconds = time.Since(t0).Seconds()
	rep.ReplayedAtUnix = float64(now.UnixNano()) / 1e9
	go j.run()
	return j, rep, nil
}
