package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/creditgate/creditgate/engine/event"
)

// RecoveryReport says what Open found and did. Offsets and line numbers
// refer to the file as it was before recovery changed it.
type RecoveryReport struct {
	Path    string `json:"path"`
	Policy  Policy `json:"policy"`
	Events  uint64 `json:"events"`   // events replayed through apply
	LastSeq uint64 `json:"last_seq"` // seq of the last replayed event, 0 if none
	// TornTail is the unacknowledged tail that was cut off, nil if none.
	TornTail *TornTail `json:"torn_tail"`
	// Quarantined lists mid-file lines moved to QuarantineFile.
	Quarantined    []BadLine `json:"quarantined"`
	QuarantineFile string    `json:"quarantine_file,omitempty"`
	// Gaps lists jumps forward in the seq of the replayed events, whatever
	// their cause: lines physically destroyed, or quarantined.
	Gaps []Gap `json:"gaps"`
	// Dependents lists undamaged events left out of the replay because they
	// refer to an entity (agent, approval, pool, mission) whose first event
	// was lost: quarantined now, in an earlier recovery, or destroyed (a
	// gap). They stay in the journal unchanged, are copied into
	// QuarantineFile with their reason, and are reported on every start
	// until the lost line is restored.
	Dependents []Dependent `json:"dependents"`
	// DependentsOmitted counts dependents beyond maxReportedDependents:
	// counted per entity in Lost and kept in QuarantineFile, not listed here.
	DependentsOmitted int `json:"dependents_omitted,omitempty"`
	// Lost lists those entities, each with what its first event was lost to.
	Lost  []LostEntity `json:"lost_entities"`
	Clean bool         `json:"clean"` // no torn tail, nothing quarantined, no gaps, no dependents
}

// DependentCount is how many events recovery left out of the replay,
// listed or not.
func (r RecoveryReport) DependentCount() int { return len(r.Dependents) + r.DependentsOmitted }

// Dependent is one event left out of the replay because an entity it
// refers to does not exist: its first line was lost.
type Dependent struct {
	Line      int    `json:"line"` // 1-based line number in the file as recovery found it
	Offset    int64  `json:"offset"`
	Seq       uint64 `json:"seq"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Kind      string `json:"entity_kind"` // agent | approval | pool | mission
	Entity    string `json:"entity_id"`
	Reason    string `json:"reason"` // names the lost line or gap it depended on
}

// LostEntity is an entity whose first event was lost, so the events that
// depend on it were left out of the replay.
type LostEntity struct {
	Kind       string `json:"entity_kind"`
	ID         string `json:"entity_id"`
	LostIn     string `json:"lost_in"` // the quarantined line or gap its first event was lost in
	Dependents int    `json:"dependents"`
}

// dependencyError is what an apply error implements when the event refers
// to an entity no replayed event created (projection.MissingEntityError):
// recovery leaves such an event out when earlier lines were lost.
// maxReportedDependents bounds the dependents the report lists, so an
// agent with a million events cannot make the report (served by
// /journal/verify) as large as the journal.
const maxReportedDependents = 10_000

type dependencyError interface {
	MissingDependency() (kind, id string)
}

// TornTail is the cut-off end of the file.
type TornTail struct {
	Offset  int64  `json:"offset"` // where the file was cut
	Bytes   int    `json:"bytes"`  // bytes cut, all kept in Sidecar
	Lines   int    `json:"lines"`  // lines cut, the last possibly partial
	Sidecar string `json:"sidecar"`
	Reason  string `json:"reason"`
}

// BadLine is one quarantined line.
type BadLine struct {
	Line   int    `json:"line"` // 1-based line number in the original file
	Offset int64  `json:"offset"`
	Reason string `json:"reason"`
	Seq    uint64 `json:"seq"` // 0 if unknown (the line did not verify)
}

// Gap is a jump forward in seq: events AfterSeq+1 … NextSeq-1 are missing.
type Gap struct {
	AfterSeq uint64 `json:"after_seq"`
	NextSeq  uint64 `json:"next_seq"`
}

// CorruptionError is returned by Open under PolicyStrict for the first
// mid-file corruption (bad line, repeated seq or gap); nothing was changed.
type CorruptionError struct {
	File   string
	Line   int // 1-based
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("journal: %s:%d: corrupt: %s (policy strict refuses to start)", e.File, e.Line, e.Reason)
}

// errNoNewline marks a final line without '\n': its write never completed.
var errNoNewline = errors.New("line has no trailing newline")

// maxTxSize bounds the events of one command, so a bogus tx field cannot
// make recovery hold (and then cut) the rest of the file.
const maxTxSize = 1 << 16

// indexEvery is the spacing of the sparse seq→offset index, in events.
const indexEvery = 1024

type indexEntry struct {
	seq uint64
	off int64 // offset of the line holding seq in the current file
}

// lineRec is one physical line of the file as the scan saw it.
type lineRec struct {
	off int64
	no  int    // 1-based line number
	raw []byte // the bytes, '\n' included when present
	env event.Envelope
	err error  // nil: the line verified and parsed
	why string // quarantined and dependent lines: the reason
}

// scanChunk is a run of whole lines (the last chunk may end in a partial
// line) decoded by one worker.
type scanChunk struct {
	off       int64
	firstLine int
	data      []byte
	recs      []lineRec
	err       error // read error; no data
	decoded   chan struct{}
}

const scanChunkSize = 1 << 20

// scanner classifies lines in file order. Lines it cannot classify yet are
// held: invalid lines with nothing valid after them yet (torn or mid-file?)
// and the lines of an open multi-event command (complete or torn?).
type scanner struct {
	path   string
	policy Policy
	log    *slog.Logger
	apply  func(*event.Envelope) error
	rep    *RecoveryReport

	lastSeq  uint64
	removed  int64 // bytes of quarantined lines so far: kept lines move up by this
	cmdLines int   // >0: an open command needs this many lines, held[0] is its first
	held     []lineRec
	bad      []lineRec // quarantined, in file order
	index    []indexEntry
	size     int64
	// prior holds the entries of a quarantine file left by earlier
	// recoveries, to name a lost first line and not to copy a dependent twice.
	prior     []quarantineEntry
	quarFile  string
	deps      []lineRec // dependents not yet in the quarantine file, in file order
	recorded  map[string]bool
	lostIndex map[string]int
}

// recoverFile scans path through f, replays valid events, and returns what
// recovery must change. It changes nothing itself.
func (s *scanner) scan(f File) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	chunks := make(chan *scanChunk, 2*workers)  // to decoders
	ordered := make(chan *scanChunk, 2*workers) // same chunks, file order
	stop := make(chan struct{})
	// Read buffers come back once their lines are classified, so a replay
	// does not allocate the file's size again in buffers.
	free := make(chan []byte, 4*workers)
	var readerDone sync.WaitGroup

	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		defer close(ordered)
		defer close(chunks)
		readChunks(f, free, func(c *scanChunk) bool {
			select {
			case ordered <- c:
			case <-stop:
				return false
			}
			if c.err != nil {
				close(c.decoded)
				return false
			}
			select {
			case chunks <- c:
				return true
			case <-stop:
				close(c.decoded)
				return false
			}
		})
	}()
	for range workers {
		go func() {
			for c := range chunks {
				c.recs = decodeChunk(c)
				close(c.decoded)
			}
		}()
	}
	// Stop and wait for the reader on every exit: the caller closes f next.
	defer func() {
		close(stop)
		for range ordered { // unblock the reader
		}
		readerDone.Wait()
	}()

	for c := range ordered {
		<-c.decoded
		if c.err != nil {
			return fmt.Errorf("journal: read %s: %w", s.path, c.err)
		}
		for i := range c.recs {
			if err := s.line(&c.recs[i]); err != nil {
				return err
			}
		}
		s.size = c.off + int64(len(c.data))
		select { // held lines own copies of their bytes: the buffer is free
		case free <- c.data[:0]:
		default:
		}
	}
	return nil
}

// readChunks reads f sequentially and emits chunks that end on a line
// boundary, except at EOF. A line longer than a chunk grows the chunk.
func readChunks(f File, free <-chan []byte, emit func(*scanChunk) bool) {
	var (
		off      int64
		line     = 1
		leftover []byte
		size     = scanChunkSize
	)
	for {
		var buf []byte
		need := max(size, 2*len(leftover))
		select {
		case b := <-free:
			if cap(b) >= need {
				buf = b[:len(leftover)]
			}
		default:
		}
		if buf == nil {
			buf = make([]byte, len(leftover), need)
		}
		copy(buf, leftover)
		n, err := io.ReadFull(f, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			emit(&scanChunk{off: off, err: err})
			return
		}
		end := len(buf)
		if !eof {
			end = bytes.LastIndexByte(buf, '\n') + 1
			if end == 0 { // one line longer than the buffer: read more
				leftover = buf
				size = 2 * cap(buf)
				continue
			}
		}
		if end > 0 {
			data := buf[:end]
			c := &scanChunk{off: off, firstLine: line, data: data, decoded: make(chan struct{})}
			if !emit(c) {
				return
			}
			off += int64(end)
			line += bytes.Count(data, []byte{'\n'})
		}
		if eof {
			return
		}
		// Copied: buf goes to the decoders and comes back for reuse.
		leftover = append([]byte(nil), buf[end:]...)
		size = scanChunkSize
	}
}

func decodeChunk(c *scanChunk) []lineRec {
	recs := make([]lineRec, 0, bytes.Count(c.data, []byte{'\n'})+1)
	data, off, no := c.data, c.off, c.firstLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var raw []byte
		if i < 0 {
			raw = data
		} else {
			raw = data[:i+1]
		}
		recs = append(recs, lineRec{off: off, no: no, raw: raw})
		r := &recs[len(recs)-1]
		if i < 0 {
			r.err = errNoNewline
		} else {
			r.env, r.err = event.Decode(raw)
		}
		data = data[len(raw):]
		off += int64(len(raw))
		no++
	}
	return recs
}

// line takes the next line in file order.
func (s *scanner) line(r *lineRec) error {
	valid := r.err == nil
	if s.cmdLines > 0 {
		// A new command starting before the open one has all its lines means
		// lines of the open one were destroyed: settle it as mid-file.
		if !(valid && r.env.TxSize > 1) {
			s.hold(r)
			// A line without '\n' is last and unfinished: it never completes
			// the command, which stays held and becomes the torn tail.
			if len(s.held) == s.cmdLines && r.err != errNoNewline {
				s.cmdLines = 0
				return s.settleHeld()
			}
			return nil
		}
		s.cmdLines = 0
	}
	if !valid {
		s.hold(r)
		return nil
	}
	// A valid line follows: whatever is held was not the tail.
	if err := s.settleHeld(); err != nil {
		return err
	}
	if r.env.TxSize > maxTxSize {
		return s.settle(r)
	}
	if r.env.TxSize > 1 {
		s.cmdLines = r.env.TxSize
		s.hold(r)
		return nil
	}
	return s.settle(r)
}

// hold keeps r for a later decision, with its own copy of the bytes because
// the read buffer is reused.
func (s *scanner) hold(r *lineRec) {
	h := *r
	h.raw = bytes.Clone(r.raw)
	s.held = append(s.held, h)
}

func (s *scanner) settleHeld() error {
	for i := range s.held {
		if err := s.settle(&s.held[i]); err != nil {
			return err
		}
	}
	clear(s.held) // drop references to chunk data
	s.held = s.held[:0]
	return nil
}

// settle decides a line known not to be part of the torn tail.
func (s *scanner) settle(r *lineRec) error {
	if r.err != nil {
		return s.quarantine(r, r.err.Error(), 0)
	}
	seq := r.env.Seq
	if r.env.TxSize > maxTxSize {
		return s.quarantine(r, fmt.Sprintf("tx size %d exceeds the limit %d", r.env.TxSize, maxTxSize), seq)
	}
	if seq <= s.lastSeq {
		return s.quarantine(r, fmt.Sprintf("seq %d repeats or goes backwards (previous seq %d)", seq, s.lastSeq), seq)
	}
	if seq != s.lastSeq+1 {
		g := Gap{AfterSeq: s.lastSeq, NextSeq: seq}
		reason := fmt.Sprintf("seq gap: %d follows %d (%d events missing)", seq, s.lastSeq, seq-s.lastSeq-1)
		if s.policy == PolicyStrict {
			return &CorruptionError{File: s.path, Line: r.no, Reason: reason}
		}
		s.log.Warn("journal recovery: seq gap", "file", s.path, "line", r.no, "offset", r.off,
			"after_seq", g.AfterSeq, "next_seq", g.NextSeq)
		s.rep.Gaps = append(s.rep.Gaps, g)
	}
	if s.rep.Events%indexEvery == 0 {
		s.index = append(s.index, indexEntry{seq: seq, off: r.off - s.removed})
	}
	if err := s.apply(&r.env); err != nil {
		var dep dependencyError
		//mutant:recovery-dependents-start
		if errors.As(err, &dep) && s.policy != PolicyStrict && s.lossSeen() {
			kind, id := dep.MissingDependency()
			s.dependent(r, kind, id)
			s.lastSeq = seq
			s.rep.LastSeq = seq
			return nil
		}
		return fmt.Errorf("journal: replay seq %d (%s line %d): %w", seq, s.path, r.no, err)
	}
	s.lastSeq = seq
	s.rep.Events++
	s.rep.LastSeq = seq
	return nil
}

func (s *scanner) quarantine(r *lineRec, reason string, seq uint64) error {
	if s.policy == PolicyStrict {
		return &CorruptionError{File: s.path, Line: r.no, Reason: reason}
	}
	// Never silent: every quarantined line is logged and in the report.
	//mutant:recovery-report-quarantine
	s.log.Warn("journal recovery: quarantining corrupt line", "file", s.path, "line", r.no,
		"offset", r.off, "reason", reason)
	s.rep.Quarantined = append(s.rep.Quarantined, BadLine{Line: r.no, Offset: r.off, Reason: reason, Seq: seq})
	s.bad = append(s.bad, lineRec{off: r.off, no: r.no, raw: bytes.Clone(r.raw), why: reason})
	s.removed += int64(len(r.raw))
	return nil
}

// lossSeen reports whether any line was lost before the current one: this
// recovery quarantined or found a gap, or an earlier one quarantined lines.
// Only then is an event about an unknown entity a dependent of lost data;
// otherwise it is a replay bug and Open fails.
func (s *scanner) lossSeen() bool {
	return len(s.bad) > 0 || len(s.rep.Gaps) > 0 || len(s.prior) > 0
}

// dependent records r as left out of the replay because entity kind/id is
// unknown, naming where its first line was lost.
func (s *scanner) dependent(r *lineRec, kind, id string) {
	key := kind + "\x00" + id
	if s.lostIndex == nil {
		s.lostIndex = map[string]int{}
	}
	i, seen := s.lostIndex[key]
	if !seen {
		i = len(s.rep.Lost)
		s.lostIndex[key] = i
		s.rep.Lost = append(s.rep.Lost, LostEntity{Kind: kind, ID: id, LostIn: s.lostIn(id)})
	}
	lost := &s.rep.Lost[i]
	lost.Dependents++
	reason := fmt.Sprintf("depends on %s %q, which no replayed event created: its first event was lost in %s", kind, id, lost.LostIn)
	if !seen || lost.Dependents <= 3 {
		s.log.Warn("journal recovery: leaving out an event whose entity was lost", "file", s.path, "line", r.no,
			"seq", r.env.Seq, "event_type", r.env.EventType, "reason", reason)
	}
	if len(s.rep.Dependents) < maxReportedDependents {
		s.rep.Dependents = append(s.rep.Dependents, Dependent{Line: r.no, Offset: r.off, Seq: r.env.Seq, EventID: r.env.EventID,
			EventType: r.env.EventType, Kind: kind, Entity: id, Reason: reason})
	} else {
		s.rep.DependentsOmitted++
	}
	if !s.recorded[r.env.EventID] { // each dependent is copied to the quarantine file once
		s.deps = append(s.deps, lineRec{off: r.off, no: r.no, raw: bytes.Clone(r.raw), env: event.Envelope{Seq: r.env.Seq, EventID: r.env.EventID}, why: reason})
	}
}

// lostIn names the lost line that most likely held entity id's first
// event: a line quarantined now or earlier that mentions the id, else the
// quarantined lines and gaps seen so far.
func (s *scanner) lostIn(id string) string {
	quoted, _ := json.Marshal(id)
	for _, b := range s.bad {
		if bytes.Contains(b.raw, quoted) {
			return fmt.Sprintf("quarantined line %d (%s)", b.no, b.why)
		}
	}
	for _, q := range s.prior {
		if !q.Dependent && (strings.Contains(q.Raw, string(quoted)) || bytes.Contains(q.RawBase64, quoted)) {
			return fmt.Sprintf("line %d quarantined by an earlier recovery (%s), kept in %s", q.Line, q.Reason, s.quarFile)
		}
	}
	var parts []string
	for _, b := range s.bad {
		parts = append(parts, fmt.Sprintf("quarantined line %d", b.no))
	}
	for _, g := range s.rep.Gaps {
		parts = append(parts, fmt.Sprintf("seq gap %d→%d", g.AfterSeq, g.NextSeq))
	}
	if slices.ContainsFunc(s.prior, func(q quarantineEntry) bool { return !q.Dependent }) {
		parts = append(parts, "lines quarantined earlier in "+s.quarFile)
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("… (%d places)", len(parts)))
	}
	return "one of: " + strings.Join(parts, ", ")
}

// tornTail reports the held lines left at EOF: the torn tail.
func (s *scanner) tornTail() *TornTail {
	if len(s.held) == 0 {
		return nil
	}
	first, last := &s.held[0], &s.held[len(s.held)-1]
	var reason string
	switch {
	case s.cmdLines > 0:
		complete := len(s.held)
		if last.err == errNoNewline {
			complete--
		}
		reason = fmt.Sprintf("incomplete command: %d of %d lines complete (command starts at line %d, seq %d)",
			complete, s.cmdLines, first.no, first.env.Seq)
	case last.err == errNoNewline && len(s.held) == 1:
		reason = "last line has no trailing newline"
	default:
		reason = fmt.Sprintf("last %d line(s) fail to decode: line %d: %v", len(s.held), first.no, first.err)
	}
	return &TornTail{Offset: first.off, Bytes: int(s.size - first.off), Lines: len(s.held), Reason: reason}
}

// recoverJournal replays path and repairs it as the report says. It returns
// the report and the sparse index of the file as it is afterwards.
func recoverJournal(cfg Config, apply func(*event.Envelope) error) (RecoveryReport, []indexEntry, int64, error) {
	// Empty, not nil: the report is served as JSON and [] reads better than null.
	rep := RecoveryReport{Path: cfg.Path, Policy: cfg.Recovery, Quarantined: []BadLine{}, Gaps: []Gap{},
		Dependents: []Dependent{}, Lost: []LostEntity{}}
	fsys, dir := cfg.FS, filepath.Dir(cfg.Path)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return rep, nil, 0, fmt.Errorf("journal: create dir %s: %w", dir, err)
	}
	f, err := fsys.OpenFile(cfg.Path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := createFile(fsys, cfg.Path); err != nil {
			return rep, nil, 0, err
		}
		rep.Clean = true
		return rep, nil, 0, nil
	}
	if err != nil {
		return rep, nil, 0, fmt.Errorf("journal: open %s: %w", cfg.Path, err)
	}
	defer f.Close()

	quarFile := cfg.Path + ".quarantine"
	prior, priorRaw, err := readQuarantine(fsys, quarFile)
	if err != nil {
		return rep, nil, 0, err
	}
	s := &scanner{path: cfg.Path, policy: cfg.Recovery, log: cfg.Logger, apply: apply, rep: &rep,
		prior: prior, quarFile: quarFile, recorded: recordedDependents(prior)}
	if err := s.scan(f); err != nil {
		return rep, nil, 0, err
	}
	rep.TornTail = s.tornTail()
	keptEnd := s.size
	if t := rep.TornTail; t != nil {
		keptEnd = t.Offset
		t.Sidecar = sidecarName(fsys, cfg.Path+".torn-"+cfg.Now().UTC().Format("20060102T150405Z"))
		cfg.Logger.Warn("journal recovery: cutting torn tail", "file", cfg.Path, "offset", t.Offset,
			"bytes", t.Bytes, "lines", t.Lines, "reason", t.Reason, "sidecar", t.Sidecar)
		// The cut bytes are kept durably before the file loses them.
		var tail []byte
		for _, r := range s.held {
			tail = append(tail, r.raw...)
		}
		if err := writeAtomic(fsys, t.Sidecar, tail); err != nil {
			return rep, nil, 0, stopped(cfg.Path, "keep the torn tail in "+t.Sidecar, err)
		}
	}
	if len(s.bad) > 0 || len(s.deps) > 0 || len(rep.Lost) > 0 {
		rep.QuarantineFile = quarFile
		entries := quarantineEntries(s)
		if len(entries) > 0 {
			if err := writeAtomic(fsys, quarFile, append(priorRaw, entries...)); err != nil {
				return rep, nil, 0, stopped(cfg.Path, "write the quarantine file "+quarFile, err)
			}
		}
	}
	//mutant:torn-tail-cut
	if len(s.bad) > 0 {
		if err := rewriteWithout(fsys, f, cfg.Path, s.bad, keptEnd); err != nil {
			return rep, nil, 0, stopped(cfg.Path, "rewrite the journal without the quarantined lines", err)
		}
	} else if rep.TornTail != nil {
		if err := truncateSynced(fsys, cfg.Path, keptEnd); err != nil {
			return rep, nil, 0, stopped(cfg.Path, "cut the torn tail", err)
		}
	}
	if rep.TornTail != nil || len(s.bad) > 0 {
		if err := fsys.SyncDir(dir); err != nil {
			return rep, nil, 0, fmt.Errorf("journal: sync dir %s: %w", dir, err)
		}
	}
	rep.Clean = rep.TornTail == nil && len(rep.Quarantined) == 0 && len(rep.Gaps) == 0 && len(rep.Dependents) == 0
	return rep, s.index, keptEnd - s.removed, nil
}

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
