package mutants

// hunt6Mutants come from the sixth blind hunt (round 3): two engineers
// wrote six bugs each from the SPEC and the engine without reading the
// gates, one on the storage side, one on the rules and the API surface.
// Four were rejected by the checks of the day (C22, D50, B37, CL-D5; the
// D50 and CL-D5 ones repeated seeded bugs we had, quarantine-file-overwritten
// and unavailable-keeps-folded-state, and are not kept twice); six
// got through and name the change that closed their class: a vote on a
// request still pending when the audit is read (C35), racers sending the
// version they saw (C2), a mission completed at actual cost 0 (B11), the
// original's health read during a KARMA outage (B46), gate A's rewards
// crossing the cap (A5), appends past an offset index's stride after a
// recovery that cut the tail (D49). Two are known escapes (docs/gates.md):
// h6-open-skips-sync-of-replayed and h6-pg-key-prefetch-before-lock.
func hunt6Mutants() []Mutant {
	return []Mutant{
		{Name: "h6-audit-omits-voted-pending", Gate: "c", Check: "C35", Verdict: "CONDITIONAL", // C35 is not critical
			Bug: "the approval audit leaves out a request that has a decision but is still pending: a CRITICAL request's first vote is missing until the second"},
		// C2 is not critical: CONDITIONAL, or NO-GO when RT3 also sees a
		// decision sent after the winner returned (timing decides).
		{Name: "h6-stale-version-hides-winner", Gate: "c", Check: "C2", Verdict: "CONDITIONAL",
			Bug: "a decision carrying expected_version is checked for its version before its request's state: a late decision gets 409 version_mismatch, not already_decided naming the winner"},
		{Name: "h6-complete-zero-cost-no-refund", Gate: "b", Check: "B11",
			Bug: "completing a mission with actual_cost 0 refunds nothing (estimate − actual is refunded only when actual is positive)"},
		{Name: "h6-health-status-not-ok", Gate: "d", Check: "B46",
			Bug: "GET /health answers status \"degraded\" instead of the original's \"ok\" while the engine is degraded (KARMA down, a repaired journal)"},
		{Name: "h6-approver-may-mutate", Gate: "c", Check: "C22",
			Bug: "every role but reader may mutate: an approver's token moves money"},
		{Name: "h6-capped-part-caused-by-grant", Gate: "a", Check: "A5",
			Bug: "the reward_capped part of a reward that crosses the cap names the reward_granted event as its cause, not the collaboration"},
		// Storage side.
		{Name: "h6-torn-cut-durable-offset", Gate: "d", Check: "D49",
			Bug: "after a recovery that cut a torn tail, appends start from the scanned size, not the size after the cut: every new seq→offset index entry points past its line, so GET /events after_seq beyond the index stride fails"},
		{Name: "h6-deep-history-ring-unrotated", Gate: "b", Check: "B37",
			Bug: "pages older than the in-memory ledger window are read from the journal into a ring read back unrotated: deep history pages come back out of order"},
	}
}
