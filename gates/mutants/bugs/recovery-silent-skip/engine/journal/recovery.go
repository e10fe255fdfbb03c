//go:build mutant

// Seeded bug recovery-silent-skip (gate D, check D20): recovery moves a
// damaged line out of the journal without logging or reporting it, so
// /journal/verify and health say nothing.

package journal

import "bytes"

func (s *scanner) quarantine(r *lineRec, reason string, seq uint64) error {
	if s.policy == PolicyStrict {
		return &CorruptionError{File: s.path, Line: r.no, Reason: reason}
	}
	// Never silent: every quarantined line is logged and in the report.
	_ = seq
	s.bad = append(s.bad, lineRec{off: r.off, no: r.no, raw: bytes.Clone(r.raw), why: reason})
	s.removed += int64(len(r.raw))
	return nil
}
