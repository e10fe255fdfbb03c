package mutants

// blindMutants were written blind: by an engineer who read the SPEC and the
// engine but not the gates, asked for plausible bugs of classes not yet in
// the catalog (round 3). Against the harness of that day eight of the nine
// got through (seven GO, one NO-GO by another check); each names the check
// that was then built or widened to catch its class, not only its example.
func blindMutants() []Mutant {
	return []Mutant{
		{Name: "body-key-ignored", Gate: "a", Check: "A9", Bug: "an idempotency_key in the body is validated but not used: a retry keyed in the body writes again"},
		{Name: "mission-refund-caused-by-end", Gate: "a", Check: "A5", Bug: "a mission refund's causation_id names the mission end event, not the mission's consumption"},
		{Name: "history-mission-id-null", Gate: "b", Check: "B2", Bug: "GET /history answers mission_id null on every entry"},
		{Name: "synergie-pays-score-keys", Gate: "b", Check: "B47", Bug: "an agent named only in contribution_scores (not in agent_ids) is rewarded"},
		{Name: "refund-other-agents-mission", Gate: "b", Check: "B47", Bug: "a refund naming another agent's mission is accepted (bounded by the mission, credited to the wrong agent)"},
		{Name: "pending-list-drops-voted", Gate: "b", Check: "B49", Bug: "GET /approvals?status=pending omits requests that already have a vote (a half-approved CRITICAL vanishes)"},
		{Name: "approval-view-forgets-decider", Gate: "b", Check: "B3", Bug: "the approvals read model drops decided_by: GET /approvals/{id} and the audit do not say who decided"},
		{Name: "pool-close-at-threshold-pays", Gate: "c", Check: "C28", Bug: "closing a pool pays a remainder of exactly the threshold to an agent without approval (> instead of >=)"},
		{Name: "high-approves-without-justification", Gate: "c", Check: "C10", Bug: "a HIGH approval without justification is accepted (only CRITICAL requires one)"},
	}
}
