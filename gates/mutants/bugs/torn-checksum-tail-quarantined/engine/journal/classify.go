//go:build mutant

// Seeded bug torn-checksum-tail-quarantined (gate D): only a last line without its newline is held as a possible torn tail; a complete last line that fails its checksum or JSON (a torn write whose newline landed) is settled at once as mid-file corruption: quarantined (health degraded) or, under strict, start refused, instead of being cut as a torn tail

package journal

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
			if len(s.held) == s.cmdLines && r.err != errNoNewline /* BUG: a failed checksum settles the command */ {
				s.cmdLines = 0
				return s.settleHeld()
			}
			return nil
		}
		s.cmdLines = 0
	}
	if r.err == errNoNewline /* BUG: only an unfinished line may be torn */ {
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
