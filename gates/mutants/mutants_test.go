package mutants

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/internal/repo"
)

// The catalog and the bug directories must name the same mutants: an entry
// without a directory has no bug to plant, a directory without an entry is
// a bug no gate ever runs.
func TestEveryCatalogEntryHasABugDirectoryAndEveryDirectoryAnEntry(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Skip(err)
	}
	dirs, err := Names(root)
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, d := range dirs {
		has[d] = true
	}
	gates := map[string]int{}
	names := map[string]bool{}
	for _, m := range All() {
		gates[m.Gate]++
		if names[m.Name] {
			t.Errorf("mutant name %q used twice", m.Name)
		}
		names[m.Name] = true
		if !has[m.BugDir()] {
			t.Errorf("mutant %s has no bug directory %s/%s", m.Name, BugsDir, m.BugDir())
		}
	}
	for _, m := range All() {
		if m.Plants != "" && !names[m.Plants] {
			t.Errorf("mutant %s plants the bug of %s, which is not in the catalog", m.Name, m.Plants)
		}
	}
	for _, d := range dirs {
		if !names[d] {
			t.Errorf("%s/%s has no catalog entry in All()", BugsDir, d)
		}
	}
	for _, g := range []string{"a", "b", "c", "d", "e"} {
		if gates[g] < 2 {
			t.Errorf("gate %s has %d seeded bugs; each gate needs at least 2", g, gates[g])
		}
	}
}

// A mutant whose target was renamed or moved would compile as a harmless
// addition and test the unmutated engine; planting refuses it (plant), and
// this test says so before verify-gates does.
func TestEveryMutantReplacesAtLeastOneDeclarationOfTheCurrentEngine(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Skip(err)
	}
	for _, m := range All() {
		if _, _, err := WriteOverlay(root, t.TempDir(), m.BugDir()); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// Every seeded bug names the catalog check that must catch it, so a mutant
// caught by accident (another check's NO-GO) never reads as proof.
func TestEveryMutantNamesTheCatalogCheckThatMustCatchIt(t *testing.T) {
	for _, m := range All() {
		if m.Check == "" {
			t.Errorf("mutant %s names no check", m.Name)
			continue
		}
		for _, c := range strings.Split(m.Check, ",") {
			if _, ok := catalog.Lookup(c); !ok {
				t.Errorf("mutant %s names %q, which the catalog does not declare", m.Name, c)
			}
		}
	}
}

// A mutant that does not compile is a verify-gates failure found half an
// hour into the run; every mutant's changed packages are compiled here
// through the same overlay verify-gates builds with (the build cache serves
// the rest). Not go vet: it also type-checks the engine's tests, which call
// the functions a mutant may give another signature, and it rejects the
// unreachable code a seeded early return leaves.
func TestEveryMutantCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every mutant (go build -overlay); skipped with -short")
	}
	root, err := repo.Root()
	if err != nil {
		t.Skip(err)
	}
	for _, m := range All() {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			overlay, pkgs, err := WriteOverlay(root, t.TempDir(), m.BugDir())
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", append([]string{"build", "-overlay", overlay}, pkgs...)...)
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mutant %s does not compile: %v\n%s", m.Name, err, out)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite "+PlantedOnFile+" from the current engine (after porting its changes into the bug files)")

// A bug file copies the whole declaration it replaces: when the engine's
// version changes (a fix, a new check), the mutant would still build the
// old copy, and verify-gates would test an engine that no longer exists.
// Every replaced declaration must be the version the bug was planted on.
func TestEveryMutantWasPlantedOnTheCurrentEngine(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Skip(err)
	}
	now := map[string]map[string]string{}
	for _, m := range All() {
		fps, err := Fingerprints(root, m.BugDir())
		if err != nil {
			t.Fatal(err)
		}
		now[m.Name] = fps
	}
	if *update {
		if err := os.WriteFile(filepath.Join(root, PlantedOnFile), FormatPlantedOn(now), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	was, err := ReadPlantedOn(root)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	for _, m := range All() {
		for k, fp := range now[m.Name] {
			switch old, ok := was[m.Name][k]; {
			case !ok:
				t.Errorf("mutant %s replaces %s, which %s does not record: run this test with -update once the bug file matches the engine", m.Name, k, PlantedOnFile)
			case old != fp:
				dir, decl, _ := strings.Cut(k, " ")
				t.Errorf("mutant %s copies %s.%s, which changed in the engine since the bug was planted on it: port the change into %s/%s/%s, then run this test with -update",
					m.Name, dir, decl, BugsDir, m.Name, dir)
			}
		}
		for k := range was[m.Name] {
			if _, ok := now[m.Name][k]; !ok {
				t.Errorf("%s records %s for mutant %s, which no longer replaces it: run this test with -update", PlantedOnFile, k, m.Name)
			}
		}
	}
	for n := range was {
		if _, ok := now[n]; !ok {
			t.Errorf("%s records mutant %s, which is not in the catalog: run this test with -update", PlantedOnFile, n)
		}
	}
}
