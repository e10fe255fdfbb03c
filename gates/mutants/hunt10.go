package mutants

// hunt10Mutants come from the tenth and eleventh blind hunts (round 3):
// engineers wrote bugs into our engine and defects into the foreign
// backends (foreign cases) from the SPEC without reading the gates. What
// got through names the change that closed its class.
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
		// Hunt 11: B37's paging workload closed no pool; it now closes one
		// to the paged agent every fourth pool step.
		{Name: "h11-deep-history-drops-pool-close", Gate: "b", Check: "B37",
			Bug: "history pages older than the in-memory window, read from the journal, leave out a pool's remainder paid to the agent"},
		// Hunt 11: the grammar sent a rating of 0.5 only; it now sends
		// every documented bound of a number, and just outside it.
		{Name: "h11-rating-one-refused", Gate: "a", Check: "A25",
			Bug: "a mission rating of exactly 1, the documented maximum, is refused as invalid"},
	}
}
