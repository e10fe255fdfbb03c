package mutants

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/internal/repo"
)

// A mutant whose anchor no longer matches would silently test the
// unmutated engine; verify-gates refuses it, and this test says so early.
func TestEveryMutantPatchAppliesExactlyOnceToTheCurrentEngine(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Skip(err)
	}
	gates := map[string]int{}
	for _, m := range All() {
		gates[m.Gate]++
		for _, p := range m.Patches {
			b, err := os.ReadFile(filepath.Join(root, p.File))
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			if _, err := p.Apply(string(b)); err != nil {
				t.Errorf("mutant %s: %v", m.Name, err)
			}
		}
	}
	for _, g := range []string{"a", "b", "c", "d", "e"} {
		if gates[g] < 2 {
			t.Errorf("gate %s has %d seeded bugs; each gate needs at least 2", g, gates[g])
		}
	}
}

func TestAMarkedPatchAppliesOnlyNearItsMarker(t *testing.T) {
	src := "a := 1\n//mutant:m\nif ok {\n}\nif ok {\n}\n"
	p := Patch{File: "x.go", Marker: "m", Old: "if ok {", New: "if !ok {"}
	got, err := p.Apply(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a := 1\n//mutant:m\nif !ok {\n}\nif ok {\n}\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := (Patch{File: "x.go", Marker: "gone", Old: "if ok {"}).Apply(src); err == nil {
		t.Fatal("a missing marker must be an error")
	}
	if _, err := (Patch{File: "x.go", Marker: "m", Old: "nowhere"}).Apply(src); err == nil {
		t.Fatal("old text missing after the marker must be an error")
	}
}

// A patch anchored on source text alone breaks (or, worse, moves) when the
// engine is refactored; every seeded bug must be anchored on a marker.
func TestEveryMutantIsAnchoredOnAMarker(t *testing.T) {
	names := map[string]bool{}
	for _, m := range All() {
		if names[m.Name] {
			t.Errorf("mutant name %q used twice", m.Name)
		}
		names[m.Name] = true
		for _, p := range m.Patches {
			if p.Marker == "" {
				t.Errorf("mutant %s: patch of %s is anchored on text only (%q); use marked()", m.Name, p.File, FirstLine(p.Old))
			}
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
// hour into the run; every mutant's patched packages are type-checked
// (go build through the same overlay verify-gates builds with) here.
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
			tmp := t.TempDir()
			overlay, err := WriteOverlay(root, tmp, m)
			if err != nil {
				t.Fatal(err)
			}
			pkgs := map[string]bool{}
			for _, p := range m.Patches {
				pkgs["./"+filepath.Dir(p.File)] = true
			}
			args := []string{"build", "-overlay", overlay}
			for p := range pkgs {
				args = append(args, p)
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mutant %s does not compile: %v\n%s", m.Name, err, out)
			}
		})
	}
}
