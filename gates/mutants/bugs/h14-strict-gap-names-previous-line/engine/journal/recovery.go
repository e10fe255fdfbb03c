//go:build mutant

// Seeded bug h14-strict-gap-names-previous-line (blind hunt 14, in our
// engine): policy strict refuses a seq gap naming the line before it, the
// last good one, not the line where the gap is. Breaks SPEC §3 ("strict
// refuses to start with an error naming file, line and reason").

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
			return &CorruptionError{File: s.path, Line: r.no - 1, Reason: reason} // BUG: the line before the gap
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
