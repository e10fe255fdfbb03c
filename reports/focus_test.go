package reports

import "testing"

// A focused run (gates --checks) leaves out the specs it filtered: a
// critical spec it never meant to run is not missing evidence, so a
// non-critical failure of the focused check still reads CONDITIONAL, as it
// would in the whole gate.
func TestAFocusedRunJudgesOnlyWhatItRan(t *testing.T) {
	gates := func() []GateDetail {
		out := []GateDetail{{ID: "D", Name: GateNames["D"], Checks: []Check{
			{ID: "D45", Name: "D45 fallbacks counted", Status: StatusFail},
			{ID: "D1", Name: "D1 a blackout never fails a consume", Critical: true, Status: StatusPass},
			{Name: "Gate D: full disk is a clear 503", Critical: true, Status: StatusSkip, Detail: filteredOut},
		}}}
		for _, id := range []string{"A", "B", "C", "E"} { // as FromRunDir lists the gates not run
			out = append(out, GateDetail{ID: id, Name: GateNames[id], Status: StatusSkip, Detail: "not run in this invocation"})
		}
		return out
	}
	whole := &Summary{GateDetails: gates()}
	if v, _ := GateVerdict(whole, "D"); v == VerdictConditional {
		t.Fatalf("without the focus the filtered critical spec is missing evidence; verdict %s", v)
	}
	focused := &Summary{GateDetails: gates(), Focus: []string{"D45"}}
	dropFilteredOut(focused.GateDetails)
	if n := len(focused.GateDetails[0].Checks); n != 2 {
		t.Fatalf("the filtered spec must be left out: %d checks left", n)
	}
	if v, reasons := GateVerdict(focused, "D"); v != VerdictConditional {
		t.Errorf("a focused run failing only non-critical D45: %s %q, want CONDITIONAL", v, reasons)
	}
	if c := caveats(focused); len(c) == 0 {
		t.Error("a focused run must say so among the caveats")
	}
}

// A costly spec a focused run skips itself (harness.SkipUnlessSelected,
// because its container also records the focused check) is filtered out
// like a spec ginkgo's filter left out: a non-critical failure of the
// focused check stays CONDITIONAL.
func TestASpecSkippedForTheFocusIsFilteredOut(t *testing.T) {
	why, blocked := SkipReason(FocusSkip+" (E7)", "")
	if why != filteredOut || blocked {
		t.Fatalf("SkipReason: %q blocked %v, want the filtered-out reason", why, blocked)
	}
	s := &Summary{Focus: []string{"E7"}, GateDetails: []GateDetail{{ID: "E", Name: GateNames["E"], Checks: []Check{
		{ID: "E7", Name: "E7 file descriptors flat", Status: StatusFail},
		{Name: "GET /events of the whole journal equals the journal file", Critical: true, Status: StatusSkip, Detail: why},
	}}}}
	for _, id := range []string{"A", "B", "C", "D"} { // as FromRunDir lists the gates not run
		s.GateDetails = append(s.GateDetails, GateDetail{ID: id, Name: GateNames[id], Status: StatusSkip, Detail: "not run in this invocation"})
	}
	dropFilteredOut(s.GateDetails)
	if v, reasons := GateVerdict(s, "E"); v != VerdictConditional {
		t.Fatalf("verdict %s %q, want CONDITIONAL", v, reasons)
	}
}
