package mutants

// hunt15Mutants come from the fifteenth round of blind hunting (round 3).
func hunt15Mutants() []Mutant {
	return []Mutant{
		// No check read the journal's counters after a recovery: D69
		// compares journal.total_events with the events the recovered
		// journal holds after each corruption case.
		{Name: "h15-total-events-is-last-seq", Gate: "d", Check: "D69", Verdict: "CONDITIONAL", // D69 is not critical
			Bug: "journal.total_events is the last seq: after a recovery that quarantined lines it counts events the journal no longer holds"},
		// The explorer's votes and gate C's all carried a justification
		// once the first had one: C10 now sends the second approver's
		// vote without one (and the explorer's decision sweep does).
		{Name: "h15-critical-second-vote-unjustified", Gate: "c", Check: "C10",
			Bug: "only the first vote on a CRITICAL request needs a justification: the second, which completes it and executes the action, is accepted without one"},
		// C17 decided 1.5 s after the deadline, when the timer had always
		// expired the request first; its decisions now land 30 ms past
		// the deadline, one approval and two rejections.
		{Name: "h15-late-reject-not-expired", Gate: "c", Check: "C17",
			Bug: "the lazy expiry runs on approvals only: an overdue request rejected before the sweeper ran is recorded as rejected, not expired"},
	}
}
