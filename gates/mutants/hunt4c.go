package mutants

// hunt4cMutants come from the fourth blind hunt (branch hunt4b, bugs
// written from the SPEC and the engine without reading the gates) in the
// approval lifecycle: four-eyes at a multi-vote request's every vote and
// the approval audit's completeness. They got GO then and name the check
// built for their class (docs/gates.md, "Bugs written blind").
// audit-omits-expired, as the hunt wrote it, dropped nothing (see its bug
// file); it is kept fixed to what it says.
func hunt4cMutants() []Mutant {
	return []Mutant{
		{Name: "critical-requester-first-vote", Gate: "c", Check: "C33",
			Bug: "the four-eyes check runs only on the approval that completes a request: the requester can cast the first of a CRITICAL request's two votes, so one other approver suffices"},
		{Name: "audit-omits-expired", Gate: "c", Check: "C35", Verdict: "CONDITIONAL", // C35 is not critical
			Bug: "the approval audit lists only approved and rejected requests (and pending ones with votes): expired requests and their approval.expired event ids are missing"},
		// Not from the hunt: the other half of the class C35 closes, an
		// expired request listed without its approval.expired id.
		{Name: "audit-drops-expiry-id", Gate: "c", Check: "C35", Verdict: "CONDITIONAL", // C35 is not critical
			Bug: "the approval audit lists an expired request, but its decision_event_ids leave the approval.expired event out"},
	}
}
