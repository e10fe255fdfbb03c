package mutants

import (
	"slices"
)

// Mutant is an engine with one seeded bug. The bug itself is Go: the files
// under BugsDir/<Name>/ (see plant for how they replace the engine's
// declarations), built into a throwaway creditd through `go build
// -overlay` (Build). The catalog entry says what the bug is, which gate
// runs it and which check must fail.
type Mutant struct {
	Name, Gate, Bug string
	// Check is the catalog ID of the check that guards against the bug
	// (a comma list where a race decides which of several guards fires
	// first): the mutant counts as rejected only when one of them fails (a
	// NO-GO by another check is "caught by the wrong check", a failure of
	// its own).
	Check string
	Env   []string // extra LIVE_TEST_* (or CREDITGATE_*) for the gate run
	// Runs (default 1) is how many gate runs may try to reject a bug that
	// shows only when a fault lands inside its window; it counts as
	// rejected on the first run that rejects it.
	Runs int
	// Plants names another mutant whose bug this one plants (its bug
	// directory), when one bug is run by a second gate; "" plants
	// BugsDir/<Name>.
	Plants string
	// Verdict is the verdict the bug must get ("" = NO-GO). A bug that only
	// a non-critical check guards against gets CONDITIONAL under the SPEC's
	// verdict rules (a failed non-critical check of gate C, D or E), and
	// says so here; it is still rejected only by its named check failing.
	Verdict string
}

// BugDir is the name of the bug directory the mutant plants.
func (m Mutant) BugDir() string {
	if m.Plants != "" {
		return m.Plants
	}
	return m.Name
}

// All is every seeded bug, in the order verify-gates runs them.
func All() []Mutant {
	return slices.Concat(coreMutants(), clusterMutants(), contractMutants(), coverageMutants(), evidenceMutants(),
		exploreMutants(), hardeningMutants(), historyMutants(), powerlossMutants(), recoveryMutants(), replayMutants(),
		streamMutants(), blindMutants(), hunt2Mutants(), hunt3Mutants(), hunt4Mutants(), hunt4cMutants(), hunt4bMoneyMutants(),
		hunt4clMutants(), batchFaultMutants(), hunt5Mutants(), hunt6Mutants(), hunt7Mutants(), hunt10Mutants(), hunt13Mutants(), hunt14Mutants(), hunt15Mutants())
}
