package catalog

import (
	"strings"
	"testing"
)

func TestTheCatalogIsConsistent(t *testing.T) {
	for _, p := range Problems() {
		t.Error(p)
	}
}

func TestEveryRuleIsGuardedByACheck(t *testing.T) {
	guarded := RuleChecks()
	for _, r := range Rules {
		if len(guarded[r.ID]) == 0 {
			t.Errorf("rule %q guarded by no check", r.ID)
		}
	}
}

func TestEveryRouteAnEntryNamesIsKnown(t *testing.T) {
	known := map[string]bool{}
	for _, r := range AllRoutes {
		known[r] = true
	}
	for r, ids := range RouteChecks() {
		if !known[r] {
			t.Errorf("route %q (checks %s) is not in AllRoutes", r, strings.Join(ids, ", "))
		}
	}
}

func TestProblemsFindsADuplicateID(t *testing.T) {
	saved := all
	defer func() { all = saved }()
	all = append(append([]Check(nil), saved...), saved[0])
	if !strings.Contains(strings.Join(Problems(), "\n"), "duplicate ID "+saved[0].ID) {
		t.Fatalf("a duplicate ID went unnoticed")
	}
}

func TestIDOfReadsTheIDOfAName(t *testing.T) {
	for name, want := range map[string]string{"A8 acknowledged ops": "A8", "CL-D2a 500 answers": "CL-D2a", "B1": "B1"} {
		if got := IDOf(name); got != want {
			t.Errorf("IDOf(%q) = %q, want %q", name, got, want)
		}
	}
}
