//go:build mutant

// Seeded bug h13-strict-starts-over-seq-gap (blind hunt 13, in our engine):
// "every line present is intact: a gap loses nothing that could be refused,
// so even strict only reports it" — policy strict starts over a seq gap.
// Breaks SPEC §3 (a gap in seq is corruption in the middle; policy strict
// refuses to start with an error naming file, line and reason). D60 tore
// only the tail under strict; D66 damages the middle.
package journal

import (
	"errors"
	"fmt"
)

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
