package mutants

// hunt10Mutants come from the tenth blind hunt (round 3): one engineer
// wrote eight bugs into our engine from the SPEC without reading the gates
// (six were rejected by the checks of the day), another eight defects into
// the original's routes (cmd/original-backend, foreign cases). What got
// through names the change that closed its class.
func hunt10Mutants() []Mutant {
	return []Mutant{
		// No workload sent a body past the limit: gate A's hostile input
		// now pads valid bodies past 1 MiB and sends a member that long.
		{Name: "h10-oversized-body-truncated", Gate: "a", Check: "A20",
			Bug: "a body past the 64 KiB limit is cut at the limit instead of refused 413: a valid body padded with whitespace is applied"},
		// On the original's routes a line failing its checksum was replayed
		// when it still parsed: every corruptor broke the JSON or the tail.
		// D61 changes a money digit of a consume; this is its class in our engine.
		{Name: "h10-checksum-warn-only", Gate: "d", Check: "D61",
			Bug: "a journal line failing its checksum is replayed when it still parses: a changed digit of an amount becomes money"},
	}
}
