package mutants

// hunt10Mutants come from the tenth to twelfth blind hunts (round 3):
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
		// Hunt 12: every walk of the generated workload told our engine its
		// settings; the second walk now runs on SPEC §5's defaults untold.
		{Name: "h12-high-timeout-default-24h", Gate: "b", Check: "B47",
			Bug: "the built-in default timeout of a HIGH request is 24 h (MEDIUM's), not 48 h"},
		// Hunt 12: no workload rewarded an agent capped in one team in
		// another; B57's cap fill ends with a collaboration in a second team.
		{Name: "h12-synergie-cap-across-teams", Gate: "b", Check: "B57",
			Bug: "what an agent was granted from synergie is summed over all its teams: capped in one team, it is paid nothing in another"},
		// Hunt 12: every request left to expire had no vote or was decided
		// late; C37 leaves a CRITICAL request with one vote to the timer.
		{Name: "h12-voted-request-never-swept", Gate: "c", Check: "C37",
			Bug: "the expiry sweep skips a pending request with a vote: a CRITICAL request with one approval stays pending past its deadline"},
		// Hunt 12: every corruption case quarantined one line; the garbage
		// case now inserts two, and D62 compares /metrics with the report.
		{Name: "h12-integrity-count-per-fault-kind", Gate: "d", Check: "D62", Verdict: "CONDITIONAL", // D62 is not critical
			Bug: "replay.integrity_errors_count counts one for any number of quarantined lines"},
		// Hunt 12: every KARMA blackout opened the breaker; D63 reads health
		// after KARMA's first failed call.
		{Name: "h12-health-ignores-karma-degraded", Gate: "d", Check: "D63", Verdict: "CONDITIONAL", // D63 is not critical
			Bug: "health says degraded only while KARMA's breaker is open, not while KARMA fails with the breaker closed"},
		// Hunt 12: D48 warmed up with ten consumes; on our engine it stops
		// at the five samples docs/anomaly-eoc.md documents.
		{Name: "h12-anomaly-warmup-needs-six", Gate: "d", Check: "D48", Verdict: "CONDITIONAL", // D48 is not critical
			Bug: "the anomaly detector flags only after six folded samples, one more than the documented minimum of five"},
	}
}
