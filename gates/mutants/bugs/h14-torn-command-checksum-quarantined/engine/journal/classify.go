//go:build mutant

// Seeded bug h14-torn-command-checksum-quarantined (round 3, stop 17: our
// engine had it until D65's workload ended a torn tail with a command of
// several events): a command's last line failing its checksum completes the
// command, so it is settled as damage in the middle — quarantined, the
// command's other lines kept — instead of cut whole as a torn tail. Breaks
// SPEC §3 ("a torn tail (last line incomplete, or failing its checksum) is
// an unacknowledged write: it is cut off, kept in a sidecar").

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
			if len(s.held) == s.cmdLines && r.err != errNoNewline { // BUG: a failed checksum completes the command
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
