package verify

import (
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/mutants"
)

// Every foreign-backend case names the catalog check that must catch its
// defect (gates/mutants tests the same of every seeded engine bug).
func TestEveryForeignCaseNamesACatalogCheck(t *testing.T) {
	for _, c := range foreignCases {
		if _, ok := catalog.Lookup(c.check); c.check != "" && !ok {
			t.Errorf("foreign case %s names %q, which the catalog does not declare", c.name(), c.check)
		}
	}
}

// Seeded bugs run Parallel at a time, each gate run with its own target
// in its own environment (no process-wide setenv a concurrent run could
// see), and the rows come back in the catalog's order.
func TestParallelRunsKeepEachMutantsTargetToItselfAndTheirOrder(t *testing.T) {
	ms := []mutants.Mutant{{Name: "m1", Gate: "a"}, {Name: "m2", Gate: "b", Env: []string{"LIVE_TEST_X=2"}}, {Name: "m3", Gate: "c"}, {Name: "m4", Gate: "d"}}
	var mu sync.Mutex
	running, most := 0, 0
	seen := map[string][]string{}
	cfg := Config{Out: t.TempDir(), Parallel: 2,
		Build: func(_ string, m mutants.Mutant) (string, string, error) { return "/bin/" + m.Name, "", nil },
		RunGates: func(gates, checks, dir string, env []string, log io.Writer) int {
			mu.Lock()
			running++
			most = max(most, running)
			seen[filepath.Base(dir)] = env
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			return 1
		}}
	rows := runMutants(cfg, ms)
	if most != 2 {
		t.Errorf("at most %d ran at once, want 2", most)
	}
	for i, r := range rows {
		if r.m.Name != ms[i].Name {
			t.Fatalf("row %d is %s, want %s", i, r.m.Name, ms[i].Name)
		}
		env := seen[r.m.Name]
		if !slices.Contains(env, "CREDITGATE_BINARY=/bin/"+r.m.Name) || !slices.Contains(env, "CREDITGATE_TARGET=process") {
			t.Errorf("%s ran with env %v, want its own binary on the process target", r.m.Name, env)
		}
		if r.ok {
			t.Errorf("%s: a run that wrote no report must not count as rejected", r.m.Name)
		}
	}
	if !slices.Contains(seen["m2"], "LIVE_TEST_X=2") || slices.Contains(seen["m1"], "LIVE_TEST_X=2") {
		t.Errorf("a mutant's own env must reach its run only: m1 %v, m2 %v", seen["m1"], seen["m2"])
	}
}

// A seeded bug that expects CONDITIONAL names a check that is not
// critical: when a critical check fails the verdict is NO-GO, so a check
// made critical (D47, D21 in round 3) leaves such a mutant "SURVIVED" on
// the NO-GO that is in fact its rejection — CI found one that way. (The
// other way round is allowed: a bug that fails a non-critical check may
// fail critical ones too and expect NO-GO.)
func TestAMutantExpectingConditionalNamesANonCriticalCheck(t *testing.T) {
	for _, m := range mutants.All() {
		c, ok := catalog.Lookup(m.Check)
		if ok && m.Verdict == "CONDITIONAL" && c.Critical {
			t.Errorf("mutant %s expects CONDITIONAL, but the check it names, %s, is critical: its failure is NO-GO", m.Name, c.ID)
		}
	}
}

// Foreign case names are unique: each is a directory of the run and a
// row of the report (an explored case reuses its defect's switch).
func TestForeignCaseNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range foreignCases {
		if seen[c.name()] {
			t.Errorf("two foreign cases are named %s", c.name())
		}
		seen[c.name()] = true
	}
}

// --only takes a comma list: a case runs when named there, every case
// runs without it, and a name is matched whole (no prefixes).
func TestOnlySelectsTheNamedCases(t *testing.T) {
	cfg := Config{Only: "two-approvals-win, foreign-clean"}
	for name, want := range map[string]bool{"two-approvals-win": true, "foreign-clean": true, "two-approvals": false, "foreign-spec-backend": false} {
		if got := cfg.selects(name); got != want {
			t.Errorf("Only %q selects %s: %v, want %v", cfg.Only, name, got, want)
		}
	}
	if !(Config{}).selects("anything") {
		t.Error("no Only must select every case")
	}
}

// Gate D's cases start first (its focused runs are the long ones), the
// rest keep their order, and every case is scheduled once.
func TestSlowGateCasesAreScheduledFirst(t *testing.T) {
	gates := []string{"a", "d", "b", "c,d", "e", "d"}
	got := slowFirst(len(gates), func(i int) string { return gates[i] })
	want := []int{1, 3, 5, 0, 2, 4}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
