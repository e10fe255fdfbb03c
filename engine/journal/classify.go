package journal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"

	"github.com/creditgate/creditgate/engine/event"
)

// errNoNewline marks a final line without '\n': its write never completed.
var errNoNewline = errors.New("line has no trailing newline")

// maxTxSize bounds the events of one command, so a bogus tx field cannot
// make recovery hold (and then cut) the rest of the file.
const maxTxSize = 1 << 16

// lineRec is one physical line of the file as the scan saw it.
type lineRec struct {
	off int64
	no  int    // 1-based line number
	raw []byte // the bytes, '\n' included when present
	env event.Envelope
	err error  // nil: the line verified and parsed
	why string // quarantined and dependent lines: the reason
}

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

// line takes the next line in file order.
func (s *scanner) line(r *lineRec) error {
	valid := r.err == nil
	if s.cmdLines > 0 && len(s.held) == s.cmdLines {
		// The open command has all its lines but its last failed (else it
		// was settled): a line after it makes that damage in the middle.
		s.cmdLines = 0
		if err := s.settleHeld(); err != nil {
			return err
		}
	}
	if s.cmdLines > 0 {
		// A new command starting before the open one has all its lines means
		// lines of the open one were destroyed: settle it as mid-file.
		if !(valid && r.env.TxSize > 1) {
			s.hold(r)
			// The command is whole once its last line verifies. A last line
			// that does not (unfinished, or failing its checksum) may be the
			// torn tail (SPEC §3): it stays held until a line follows it.
			if len(s.held) == s.cmdLines && valid {
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
		if last.err != nil {
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
