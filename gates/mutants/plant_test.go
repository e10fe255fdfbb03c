package mutants

import (
	"strings"
	"testing"
)

const plantEngine = `package engine

import (
	"fmt"
	"strings"
)

// Engine is the engine.
type Engine struct{ n int }

// Limit is a limit.
const Limit = 3

var (
	keep  = 1
	level = 2
)

// Check checks.
func Check(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty")
	}
	return nil
}

func (e *Engine) Add(n int) int { e.n += n; return e.n }

func (e Engine) Get() int { return e.n }

func Add(a, b int) int { return a + b }
`

// plant's replacement rules on small in-memory packages: what each bug file
// replaces, adds and leaves, and what it refuses.
func TestPlantReplacesDeclarationsByNameAndRefusesWhatReplacesNothing(t *testing.T) {
	cases := []struct {
		name, bug string
		// want: substrings of the merged original (engine.go) / absent from it.
		want, gone []string
		err        string
	}{
		{name: "a func is replaced and an import nothing uses any more is dropped",
			bug:  "package engine\n\nfunc Check(s string) error { return nil }\n",
			gone: []string{"func Check", `"strings"`, `"fmt"`, "// Check checks."},
			want: []string{"func (e *Engine) Add", "func Add(a, b int)"}},
		{name: "a method is replaced by receiver type and name, the func of the same name stays",
			bug:  "package engine\n\nfunc (e *Engine) Add(n int) int { return 0 }\n",
			gone: []string{"func (e *Engine) Add"},
			want: []string{"func Add(a, b int)", "func (e Engine) Get", `"strings"`}},
		{name: "a value receiver's method is matched like a pointer receiver's",
			bug:  "package engine\n\nfunc (e *Engine) Get() int { return -1 }\n",
			gone: []string{"func (e Engine) Get"}},
		{name: "a const, a var spec in a group and a type are replaced by name",
			bug:  "package engine\n\nconst Limit = 30\n\nvar level = 9\n\ntype Engine struct{ n, m int }\n",
			gone: []string{"Limit = 3", "level = 2", "type Engine struct{ n int }", "// Limit is a limit."},
			want: []string{"keep = 1", "func (e *Engine) Add"}},
		{name: "an addition a replacement uses is added",
			bug:  "package engine\n\nfunc Check(s string) error { return helper(s) }\n\nfunc helper(string) error { return nil }\n",
			gone: []string{"func Check"}},
		{name: "a method added to an existing type is added when a replacement calls it",
			bug:  "package engine\n\nfunc Add(a, b int) int { var e Engine; return e.Twice(a + b) }\n\nfunc (e Engine) Twice(n int) int { return 2 * n }\n",
			gone: []string{"func Add(a, b int) int { return a + b }"}},
		{name: "a bug file that only adds is an error (its target was renamed)",
			bug: "package engine\n\nfunc CheckRenamed(s string) error { return nil }\n",
			err: "replaces no declaration"},
		{name: "an addition nothing replaced uses is an error",
			bug: "package engine\n\nfunc Check(s string) error { return nil }\n\nfunc checkOld(s string) error { return nil }\n",
			err: "replaces nothing in the package"},
		{name: "a bug file of another package is an error",
			bug: "package other\n\nfunc Check(s string) error { return nil }\n",
			err: "the target package is engine"},
		{name: "the build constraint is stripped from the planted copy",
			bug:  "//go:build mutant\n\npackage engine\n\nfunc Check(s string) error { return nil }\n",
			gone: []string{"func Check"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := plant(map[string]map[string]string{"engine": {"engine.go": plantEngine}},
				map[string]map[string]string{"engine": {"engine.go": c.bug}})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			merged, added := out["engine/engine.go"], out["engine/mutant_engine.go"]
			if merged == "" || added == "" {
				t.Fatalf("want the merged original and mutant_engine.go, got %v", sortedKeys(out))
			}
			if strings.Contains(added, "go:build") {
				t.Errorf("the planted copy keeps its build constraint:\n%s", added)
			}
			if _, err := parseFile("merged", merged); err != nil {
				t.Fatalf("merged original does not parse: %v\n%s", err, merged)
			}
			for _, w := range c.want {
				if !strings.Contains(merged, w) {
					t.Errorf("merged original lost %q:\n%s", w, merged)
				}
			}
			for _, g := range c.gone {
				if strings.Contains(merged, g) {
					t.Errorf("merged original still has %q:\n%s", g, merged)
				}
			}
		})
	}
}

// A name declared in two files of the package (or in an iota group, or
// sharing a spec) cannot be replaced safely; plant says so.
func TestPlantRefusesAmbiguousOrEntangledTargets(t *testing.T) {
	bug := map[string]map[string]string{"p": {"a.go": "package p\n\nconst B = 5\n"}}
	for name, src := range map[string]map[string]string{
		"iota group":  {"a.go": "package p\n\nconst (\n\tA = iota\n\tB\n)\n"},
		"shared spec": {"a.go": "package p\n\nvar A, B = 1, 2\n"},
		"two files":   {"a.go": "package p\n\nconst B = 1\n", "b.go": "package p\n\nfunc B() {}\n"},
	} {
		if _, err := plant(map[string]map[string]string{"p": src}, bug); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
