package main

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
	for _, m := range mutants {
		gates[m.gate]++
		for _, p := range m.patches {
			b, err := os.ReadFile(filepath.Join(root, p.file))
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if _, err := p.apply(string(b)); err != nil {
				t.Errorf("mutant %s: %v", m.name, err)
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
	p := patch{file: "x.go", marker: "m", old: "if ok {", new: "if !ok {"}
	got, err := p.apply(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a := 1\n//mutant:m\nif !ok {\n}\nif ok {\n}\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := (patch{file: "x.go", marker: "gone", old: "if ok {"}).apply(src); err == nil {
		t.Fatal("a missing marker must be an error")
	}
	if _, err := (patch{file: "x.go", marker: "m", old: "nowhere"}).apply(src); err == nil {
		t.Fatal("old text missing after the marker must be an error")
	}
}

// A patch anchored on source text alone breaks (or, worse, moves) when the
// engine is refactored; every seeded bug must be anchored on a marker.
func TestEveryMutantIsAnchoredOnAMarker(t *testing.T) {
	names := map[string]bool{}
	for _, m := range mutants {
		if names[m.name] {
			t.Errorf("mutant name %q used twice", m.name)
		}
		names[m.name] = true
		for _, p := range m.patches {
			if p.marker == "" {
				t.Errorf("mutant %s: patch of %s is anchored on text only (%q); use marked()", m.name, p.file, firstLine(p.old))
			}
		}
	}
}

// Every seeded bug names the catalog check that must catch it, so a mutant
// caught by accident (another check's NO-GO) never reads as proof.
func TestEveryMutantNamesTheCatalogCheckThatMustCatchIt(t *testing.T) {
	for _, m := range mutants {
		if m.check == "" {
			t.Errorf("mutant %s names no check", m.name)
			continue
		}
		for _, c := range strings.Split(m.check, ",") {
			if _, ok := catalog.Lookup(c); !ok {
				t.Errorf("mutant %s names %q, which the catalog does not declare", m.name, c)
			}
		}
	}
	for _, c := range foreignCases {
		if _, ok := catalog.Lookup(c.check); c.check != "" && !ok {
			t.Errorf("foreign case %s names %q, which the catalog does not declare", c.name(), c.check)
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
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			overlay, err := writeOverlay(root, tmp, m)
			if err != nil {
				t.Fatal(err)
			}
			pkgs := map[string]bool{}
			for _, p := range m.patches {
				pkgs["./"+filepath.Dir(p.file)] = true
			}
			args := []string{"build", "-overlay", overlay}
			for p := range pkgs {
				args = append(args, p)
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mutant %s does not compile: %v\n%s", m.name, err, out)
			}
		})
	}
}
