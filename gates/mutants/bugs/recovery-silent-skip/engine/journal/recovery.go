//go:build mutant

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
