//go:build mutant

// Seeded bug recovery-index-ignores-removed (gate D): the seq-to-offset index built during recovery records each line's offset in the original file, not in the rewritten one (forgets the bytes of the quarantined lines removed before it): reads from the index start at the wrong place after a quarantine

package journal

import (
	"errors"
	"fmt"
)

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
		s.index = append(s.index, indexEntry{seq: seq, off: r.off})
	}
	if err := s.apply(&r.env); err != nil {
		var dep dependencyError
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
