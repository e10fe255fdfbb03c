//go:build mutant

// Seeded bug h5-complete-last-command-cut (blind hunt 5): recovery waits for
// one line more than a multi-event command has (held counts the command's
// first line too, the test treats it as if it did not) before it settles the
// command, so a COMPLETE multi-event command that is the last thing in the
// journal (agent creation, mission start, collaboration, pool with members,
// approval with its execution) is still held at EOF and cut off as a "torn
// tail" into the sidecar on the next start: acknowledged, fsynced events are
// lost (SPEC §3: a torn tail is an unacknowledged, incomplete write; D:
// nothing acknowledged lost). A command followed by any other line is
// settled normally, so only a restart right after a multi-event command
// shows it.

package journal

// line takes the next line in file order.
func (s *scanner) line(r *lineRec) error {
	valid := r.err == nil
	if s.cmdLines > 0 && len(s.held) > s.cmdLines { // BUG: one line more than the command has
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
			if len(s.held) > s.cmdLines && valid { // BUG: one line more than the command has
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
