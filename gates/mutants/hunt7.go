package mutants

// hunt7Mutants come from the seventh blind hunt (round 3): one engineer
// wrote defects into the independent backend (chaos/specbackend) from the
// SPEC without reading the gates, another bugs into our engine. What got
// through on either was closed for both: the class is the harness's gap,
// whichever backend showed it.
func hunt7Mutants() []Mutant {
	return []Mutant{
		{Name: "h7-finished-mission-reopens", Gate: "b", Check: "B59",
			Bug: "a mission is taken as over only once it refunded what it consumed: one completed at its estimate (refund 0) is then cancelled for the whole estimate"},
	}
}
