package importrules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/creditgate/creditgate"

// A rule says what the packages matching from may import. Patterns are
// module-relative: "engine/..." is engine and everything under it, "std"
// is the standard library, "ext" any package outside the module and the
// standard library, a pattern with a dot names third-party packages.
type rule struct {
	from []string
	// deny: of this module, none of these may be reached, directly or
	// through other packages of this module.
	deny []string
	// only (if not nil): every direct import must match one of these.
	only []string
	// tests: the rule covers the package's _test.go files too. Engine tests
	// may use chaos/ (faultfs, karmastub) to inject faults, so the engine's
	// chaos rule is for production code only.
	tests bool
	why   string
}

var (
	engineWing  = []string{"engine/...", "cmd/creditd"}
	harnessWing = []string{"gates/...", "scenarios/...", "reports/...", "cmd/creditgate"}
)

// rules is the table of the import rules, each from a doc.go (named in why).
var rules = []rule{
	// The two wings.
	{from: harnessWing, deny: engineWing, tests: true,
		why: "the harness is a black box conformance suite: it must work against any backend speaking the HTTP API, and a reference model sharing the engine's code would check a bug against itself (gates/harness, gates/audit, scenarios, reports doc.go)"},
	{from: engineWing, deny: []string{"gates/...", "scenarios/...", "reports/...", "cmd/creditgate"}, tests: true,
		why: "the engine knows nothing of the suite that signs it off"},
	{from: []string{"engine/..."}, deny: []string{"chaos/...", "cmd/..."},
		why: "fault hooks are interfaces the engine accepts (journal.FS, karma.Scorer, anomaly.Checker), never an import or an `if chaos` branch (STYLE 6; engine, httpapi, journal doc.go)"},
	{from: []string{"chaos/..."}, deny: append([]string{"gates/...", "scenarios/...", "reports/..."}, engineWing...), tests: true,
		why: "chaos/ is shared by both wings, so it may lean on neither: faultfs declares the journal's filesystem seam itself (chaos/*/doc.go)"},

	// Engine floors.
	{from: []string{"engine/event", "engine/anomaly", "engine/eoc", "engine/karma", "engine/money"}, only: []string{"std", "ext"},
		why: "leaf packages: they import nothing of this module (their doc.go)"},
	{from: []string{"engine/journal"}, only: []string{"std", "engine/event", "engine/store"},
		why: "the journal is the file and its recovery, and implements the store seam; it knows events, not the engine (engine/journal doc.go)"},
	{from: []string{"engine/store"}, only: []string{"std", "engine/event"},
		why: "the store seam must not depend on an implementation (engine/store doc.go)"},
	{from: []string{"engine/event/eventtest"}, only: []string{"std", "engine/event"},
		why: "test helpers over the record format, shared by the engine's and httpapi's tests (eventtest doc.go)"},
	{from: []string{"engine/store/storetest"}, only: []string{"std", "engine/event", "engine/store"},
		why: "the conformance suite sees only the seam (storetest doc.go)"},
	{from: []string{"engine/projection"}, only: []string{"std", "engine/event", "engine/money"},
		why: "projections are pure folds over events (engine/projection doc.go)"},
	{from: []string{"engine/pgstore"}, only: []string{"std", "engine/event", "engine/store", "github.com/jackc/pgx/..."},
		why: "pgstore implements the seam, it never calls the engine (engine/pgstore doc.go)"},
	{from: []string{"engine/keyindex"}, only: []string{"std", "go.etcd.io/bbolt/..."},
		why: "the on-disk idempotency index is a cache file the engine rebuilds; it knows no engine, journal or store (engine/keyindex doc.go)"},
	{from: []string{"engine/pgstore/pgtest"}, only: []string{"std", "internal/pglaunch"},
		why: "a test helper starting PostgreSQL (pgtest doc.go)"},
	{from: []string{"engine"}, deny: []string{"engine/httpapi", "engine/pgstore", "cmd/..."},
		why: "the facade is below HTTP and does not choose its store: cmd/creditd opens pgstore (engine doc.go)"},

	// Harness floors.
	{from: []string{"scenarios/money"}, only: []string{"std"}, tests: true,
		why: "the harness's one exact reading and writing of credit amounts, a leaf under the history, the scenarios and the judge (scenarios/money doc.go)"},
	{from: []string{"scenarios/sample"}, only: []string{"std", "scenarios/loopback"}, tests: true,
		why: "the backend sampler watches any backend beside any load generator: HTTP and /proc only, under the harness's loopback rule (scenarios/sample doc.go)"},
	{from: []string{"scenarios/openapi"}, only: []string{"std"}, tests: true,
		why: "the one lenient reading of a backend's OpenAPI document, under route discovery, body fitting and the grammar fuzzer, leans on nothing (scenarios/openapi doc)"},
	{from: []string{"scenarios/loopback"}, only: []string{"std"}, tests: true,
		why: "the one loopback rule every traffic source shares leans on nothing (scenarios/loopback doc)"},
	{from: []string{"scenarios/history"}, only: []string{"std", "scenarios/money"},
		why: "the one client history is a leaf every recorder and the judge share; it reads money only through scenarios/money (scenarios/history doc.go)"},
	{from: []string{"scenarios/wire"}, only: []string{"std", "scenarios/history"}, tests: true,
		why: "the one recording client under every scenario and the load: it sends, times, classifies and records, on the history alone (scenarios/wire doc.go)"},
	{from: []string{"gates/audit"}, only: []string{"std", "scenarios/history", "scenarios/money"},
		why: "the independent reference model: its only project imports are the history and the exact money it is written in (gates/audit doc.go)"},
	{from: []string{"scenarios/..."}, deny: []string{"gates/...", "reports/...", "chaos/..."},
		why: "scenarios record, the gates judge; they talk HTTP only (scenarios, scenarios/load doc.go)"},
	{from: []string{"reports"}, only: []string{"std", "ext"},
		why: "reports render from files alone, about any backend (reports doc.go)"},
	{from: []string{"gates/coverage"}, deny: []string{"gates/a", "gates/b", "gates/c", "gates/d", "gates/e"}, tests: true,
		why: "the coverage map is about the contract, read from the OpenAPI document, not the suites (gates/coverage doc.go)"},
	{from: []string{"gates/target"}, only: []string{"std", "ext", "chaos/lazyfs", "gates/catalog", "internal/freeport", "internal/pglaunch", "internal/repo"},
		why: "target boots any backend that speaks the API; of this module only the power-loss layer, the catalog's capability names and the neutral helpers under internal/ (gates/target doc.go)"},
	{from: []string{"gates/mutants"}, only: []string{"std"},
		why: "the seeded bugs read the engine's sources as text and build through an overlay; they import neither the engine nor the harness (gates/mutants doc.go)"},
	{from: []string{"gates/verify"}, only: []string{"std", "gates/mutants", "reports"},
		why: "the verify-gates loop builds seeded bugs and judges reports; it runs the gates through a function its caller passes, never the suites or cmd/creditgate (gates/verify doc.go)"},
	{from: []string{"gates/signoff"}, only: []string{"std", "gates/catalog", "gates/coverage", "gates/target", "internal/repo", "reports", "scenarios/load"},
		why: "the sign-off runs the suites as a ginkgo process and reads their results from the run directory; it never imports a suite or the engine (gates/signoff doc.go)"},
	{from: []string{"gates/fault"}, only: []string{"std", "gates/catalog", "gates/target", "chaos/karmastub", "chaos/tcpproxy", "chaos/corrupt"},
		why: "one fault vocabulary over the existing injectors; never the model, the harness or the suites (gates/fault doc.go)"},
	{from: []string{"gates/catalog"}, only: []string{"std"},
		why: "the check catalog is a leaf every harness package may read (gates/catalog doc.go)"},

	// Neutral helpers both wings use.
	{from: []string{"internal/freeport", "internal/repo"}, only: []string{"std"}, tests: true,
		why: "shared by the engine's test helpers and the harness, so they lean on nothing (their doc.go)"},
	{from: []string{"internal/pglaunch"}, only: []string{"std", "internal/freeport"}, tests: true,
		why: "the one PostgreSQL launcher, for engine/pgstore/pgtest and the cluster target alike (internal/pglaunch doc.go)"},

	// chaos floors.
	{from: []string{"chaos/faultfs", "chaos/karmastub", "chaos/tcpproxy", "chaos/corrupt", "chaos/original"}, only: []string{"std"},
		why: "injectors on the standard library alone (their doc.go)"},
	{from: []string{"chaos/lazyfs"}, only: []string{"std", "github.com/hanwen/go-fuse/..."},
		why: "a FUSE layer on go-fuse and the standard library (chaos/lazyfs doc.go)"},
}

type pkg struct {
	ImportPath   string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// rel is p relative to the module, or "" if p is not of this module.
func rel(p string) string {
	if p == module {
		return "."
	}
	if r, ok := strings.CutPrefix(p, module+"/"); ok {
		return r
	}
	return ""
}

// match reports whether import path p (full) matches pattern pat.
func match(pat, p string, std map[string]bool) bool {
	isStd := std[p] || (!strings.Contains(strings.Split(p, "/")[0], ".") && rel(p) == "")
	switch pat {
	case "std":
		return isStd
	case "ext":
		return !isStd && rel(p) == ""
	}
	full := pat
	if !strings.Contains(strings.Split(pat, "/")[0], ".") {
		full = module + "/" + pat
	}
	if base, ok := strings.CutSuffix(full, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == full
}

func matchAny(pats []string, p string, std map[string]bool) bool {
	return slices.ContainsFunc(pats, func(pat string) bool { return match(pat, p, std) })
}

func loadGraph(t *testing.T) map[string]*pkg {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Standard,Imports,TestImports,XTestImports", "./...")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		graph[p.ImportPath] = &p
	}
	if len(graph) == 0 {
		t.Fatal("go list found no packages")
	}
	return graph
}

// path returns a chain of module imports from p to a package matching one
// of deny (p's own imports chosen by tests), or nil.
func path(graph map[string]*pkg, p *pkg, tests bool, deny []string) []string {
	first := slices.Clone(p.Imports)
	if tests {
		first = append(first, p.TestImports...)
		first = append(first, p.XTestImports...)
	}
	seen := map[string]bool{p.ImportPath: true}
	var walk func(imp string, chain []string) []string
	walk = func(imp string, chain []string) []string {
		if rel(imp) == "" || seen[imp] {
			return nil
		}
		seen[imp] = true
		chain = append(chain, rel(imp))
		if matchAny(deny, imp, nil) {
			return chain
		}
		if q := graph[imp]; q != nil {
			for _, next := range q.Imports {
				if c := walk(next, chain); c != nil {
					return c
				}
			}
		}
		return nil
	}
	for _, imp := range first {
		if c := walk(imp, []string{rel(p.ImportPath)}); c != nil {
			return c
		}
	}
	return nil
}

// violations checks graph against rules and returns one line per broken rule.
func violations(graph map[string]*pkg, rules []rule) []string {
	std := map[string]bool{}
	for _, p := range graph {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	var out []string
	for _, r := range rules {
		matched := false
		for _, p := range graph {
			if rel(p.ImportPath) == "" || !matchAny(r.from, p.ImportPath, std) {
				continue
			}
			matched = true
			if r.deny != nil {
				if c := path(graph, p, r.tests, r.deny); c != nil {
					out = append(out, fmt.Sprintf("%s imports %s (%s); rule: %v must not import %v: %s",
						rel(p.ImportPath), c[len(c)-1], strings.Join(c, " → "), r.from, r.deny, r.why))
				}
			}
			if r.only != nil {
				imps := slices.Clone(p.Imports)
				if r.tests {
					imps = append(append(imps, p.TestImports...), p.XTestImports...)
				}
				for _, imp := range imps {
					if imp != p.ImportPath && !matchAny(r.only, imp, std) {
						out = append(out, fmt.Sprintf("%s imports %s; rule: %v may import only %v: %s",
							rel(p.ImportPath), imp, r.from, r.only, r.why))
					}
				}
			}
		}
		if !matched {
			out = append(out, fmt.Sprintf("rule for %v matches no package: stale row (%s)", r.from, r.why))
		}
	}
	slices.Sort(out)
	return out
}

func TestImportRules(t *testing.T) {
	for _, v := range violations(loadGraph(t), rules) {
		t.Error(v)
	}
}

// TestARuleCatchesAnIndirectImport guards the checker itself: an engine
// import reached through another package of the module is still an import.
func TestARuleCatchesAnIndirectImport(t *testing.T) {
	g := map[string]*pkg{
		module + "/gates/a":      {ImportPath: module + "/gates/a", TestImports: []string{module + "/scenarios", "testing"}},
		module + "/scenarios":    {ImportPath: module + "/scenarios", Imports: []string{module + "/engine/event"}},
		module + "/engine/event": {ImportPath: module + "/engine/event"},
		"testing":                {ImportPath: "testing", Standard: true},
	}
	r := []rule{{from: harnessWing, deny: engineWing, tests: true, why: "test"}}
	got := violations(g, r)
	if len(got) != 2 || !strings.Contains(got[0], "gates/a → scenarios → engine/event") {
		t.Fatalf("want gates/a (through scenarios) and scenarios itself, got %q", got)
	}
	r[0].tests = false
	if got := violations(g, r); len(got) != 1 || !strings.Contains(got[0], "scenarios imports engine/event") {
		t.Fatalf("without its tests gates/a is clean, want only scenarios, got %q", got)
	}
}
