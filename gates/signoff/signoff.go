package signoff

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/coverage"
	"github.com/creditgate/creditgate/internal/repo"
	"github.com/creditgate/creditgate/reports"
)

// Options is one sign-off run.
type Options struct {
	// Gates are the gates to run, lower case ("a" … "e").
	Gates []string
	// Out is the run directory for the report.
	Out string
	// Timeout bounds the suites (0: 20 minutes plus LIVE_TEST_DURATION).
	Timeout time.Duration
	// Duration, when set, overrides LIVE_TEST_DURATION (the soak).
	Duration string
	// Checks, when set, focuses the run on these catalog checks: only the
	// spec containers labelled with one of them run (harness.Checks), and
	// the report lists only them. A focused run cannot sign off; it shows
	// quickly whether one check passes (verify-gates runs each seeded bug
	// this way).
	Checks []string
	// Env adds KEY=VALUE pairs to the suites' environment, over the
	// process's (the target: CREDITGATE_TARGET, CREDITGATE_BINARY, ...), so
	// runs with different targets can go on at once in one process.
	Env []string
	// Stdout and Stderr receive the verdict and the progress (default:
	// the process's).
	Stdout, Stderr io.Writer
	// Suites are gate suites compiled once for many runs (CompileSuites),
	// by gate; a gate missing from it is compiled for this run and removed
	// after it. verify-gates runs some 240 focused runs: compiling each
	// one's suite again cost a link of several seconds a run.
	Suites map[string]string
}

// ParseGates turns "a,b,c" into gate names, refusing anything but a … e.
func ParseGates(list string) ([]string, error) {
	var gates []string
	for _, g := range strings.Split(list, ",") {
		g = strings.ToLower(strings.TrimSpace(g))
		if len(g) != 1 || g[0] < 'a' || g[0] > 'e' {
			return nil, fmt.Errorf("--gates: %q is not one of a,b,c,d,e", g)
		}
		gates = append(gates, g)
	}
	return gates, nil
}

// ParseChecks turns "A16, B41" into catalog check IDs, refusing an ID the
// catalog does not declare.
func ParseChecks(list string) ([]string, error) {
	var ids []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		c, ok := catalog.Lookup(id)
		if !ok {
			c, ok = catalog.Lookup(strings.ToUpper(id)) // "a16" for A16; CL1a keeps its case
		}
		if !ok {
			return nil, fmt.Errorf("--checks: %q is not a check of the catalog (docs/gates.md lists them)", id)
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// Run runs the coverage map, then the suites, writes the report and
// returns the verdict's exit code (reports.ExitCode; 1 on an error).
func Run(o Options) int {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(o.Stderr, "creditgate: "+format+"\n", args...)
		return 1
	}
	if o.Duration != "" {
		os.Setenv("LIVE_TEST_DURATION", o.Duration)
	}
	var pkgs []string
	for _, g := range o.Gates {
		pkgs = append(pkgs, "./gates/"+g)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fail("%v", err)
	}
	if coverageGate(o.Out, o.Stderr) {
		return 1
	}
	abs, _ := filepath.Abs(o.Out)
	if o.Timeout == 0 {
		d, err := time.ParseDuration(envOr("LIVE_TEST_DURATION", "60s"))
		if err != nil {
			return fail("LIVE_TEST_DURATION=%q: %v", os.Getenv("LIVE_TEST_DURATION"), err)
		}
		o.Timeout = 20*time.Minute + d
	}
	started := time.Now()
	ginkgoArgs := []string{"run", "github.com/onsi/ginkgo/v2/ginkgo",
		"--json-report=ginkgo.json", "--output-dir=" + abs, "--keep-going",
		"--randomize-all", "--fail-on-pending", "--fail-on-empty", "--timeout=" + o.Timeout.String(),
		"--poll-progress-after=120s", "--silence-skips"}
	focus := ""
	if len(o.Checks) > 0 {
		ginkgoArgs = append(ginkgoArgs, "--label-filter="+strings.Join(o.Checks, " || "))
		focus = fmt.Sprintf(", focused on check %s", strings.Join(o.Checks, ", "))
	}
	var missing []string
	for _, g := range o.Gates {
		if _, ok := o.Suites[g]; !ok {
			missing = append(missing, g)
		}
	}
	compiled, cleanup, err := CompileSuites(missing, o.Stderr)
	defer cleanup()
	if err != nil {
		return fail("%v", err)
	}
	var bins []string
	for _, g := range o.Gates {
		bins = append(bins, cmp.Or(o.Suites[g], compiled[g]))
	}
	ginkgoArgs = append(ginkgoArgs, bins...)
	cmd := exec.Command("go", ginkgoArgs...)
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.Env = append(append(os.Environ(), o.Env...), "CREDITGATE_OUT="+abs, catalog.FocusEnv+"="+strings.Join(o.Checks, ","))
	fmt.Fprintf(o.Stderr, "creditgate: running %s%s (report in %s)\n", strings.Join(pkgs, " "), focus, abs)
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return fail("running ginkgo: %v", runErr)
	}
	var ids []string
	for _, g := range o.Gates {
		ids = append(ids, strings.ToUpper(g))
	}
	s, err := reports.FromRunDir(abs, reports.RunInfo{Gates: ids, Started: started,
		Branch: git("rev-parse", "--abbrev-ref", "HEAD"), Commit: git("rev-parse", "HEAD"), Focus: o.Checks})
	if err != nil {
		return fail("building the report: %v (ginkgo: %v)", err, runErr)
	}
	if err := reports.WriteAll(abs, s); err != nil {
		return fail("writing the report: %v", err)
	}
	latest := filepath.Join(filepath.Dir(abs), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(abs), latest)
	PrintVerdict(o.Stdout, s, abs)
	if len(ids) < len(reports.GateIDs) || len(o.Checks) > 0 {
		for _, id := range ids {
			v, reasons := reports.GateVerdict(s, id)
			fmt.Fprintf(o.Stdout, "gate %s on its own: %s\n", id, v)
			if os.Getenv("CREDITGATE_DEBUG") != "" {
				fmt.Fprintln(o.Stderr, id, reasons)
			}
		}
		if len(o.Checks) > 0 {
			fmt.Fprintf(o.Stdout, "(a run focused on %s: only the specs that record them ran; the sign-off verdict needs all five gates: make gates)\n", strings.Join(o.Checks, ", "))
		} else {
			fmt.Fprintf(o.Stdout, "(a partial run; the sign-off verdict needs all five gates: make gates)\n")
		}
	}
	return reports.ExitCode(reports.RunVerdict(s, ids))
}

// PrintVerdict prints the verdict, every gate, every check that did not
// pass, the reasons and the repro line.
func PrintVerdict(w io.Writer, s *reports.Summary, dir string) {
	fmt.Fprintf(w, "\n=== creditgate verdict: %s ===\n", s.OverallStatus)
	for _, g := range s.GateDetails {
		fmt.Fprintf(w, "  gate %s %-26s %s\n", g.ID, g.Name, strings.ToUpper(g.Status))
		for _, c := range g.Checks {
			if c.Status == reports.StatusSkip {
				fmt.Fprintf(w, "      SKIP  %s: %s\n", c.Name, c.Detail)
			} else if c.Status != reports.StatusPass {
				fmt.Fprintf(w, "      %-5s %s: measured %s, threshold %s\n", strings.ToUpper(c.Status), c.Name, c.Measured, c.Threshold)
			}
		}
	}
	for _, r := range s.VerdictReasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	if s.OverallStatus != reports.VerdictGo && s.Facts.ReproCommand != "" {
		fmt.Fprintf(w, "  repro: %s\n", s.Facts.ReproCommand)
	}
	fmt.Fprintf(w, "report: %s/report.html (also report.md, summary.json, junit.xml)\n", dir)
}

// coverageGate runs before any gate: a route of the OpenAPI document or a
// SPEC rule without a gate check (or a mapped check that no longer exists)
// is NO-GO "not covered" (issue 12). The list is written to
// <out>/not-covered.txt. It returns false when the gates may run.
func coverageGate(out string, stderr io.Writer) (stop bool) {
	root, err := repo.Root()
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: coverage map: %v\n", err)
		return true
	}
	probs, err := coverage.Problems(root)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: coverage map: %v\n", err)
		return true
	}
	for _, g := range coverage.Gaps {
		fmt.Fprintf(stderr, "creditgate: known coverage gap %s (see docs/gates.md, coverage map)\n", g.ID)
	}
	if len(probs) == 0 {
		return false
	}
	text := "NO-GO not covered: " + fmt.Sprint(len(probs)) + " route(s), rule(s) or check(s)\n  " + strings.Join(probs, "\n  ") + "\n"
	_ = os.WriteFile(filepath.Join(out, "not-covered.txt"), []byte(text), 0o644)
	fmt.Fprint(stderr, text+"(the map is gates/coverage; `go test ./gates/coverage` shows the same)\n")
	return true
}

func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// CompileSuites compiles each gate's package to a test binary of its own
// beside the package's sources (gates/b/b-<n>.test; ginkgo runs a
// precompiled suite in its directory, as it would the package) and
// returns them by gate. Left to ginkgo, every run compiles gates/b/b.test
// and removes it when done, so two runs of one gate at once
// (verify-gates --parallel, two terminals) would delete each other's
// binary; a binary of one's own is only read by the runs it is given to.
// cleanup removes the binaries.
func CompileSuites(gates []string, progress io.Writer) (suites map[string]string, cleanup func(), err error) {
	suites = map[string]string{}
	cleanup = func() {
		for _, b := range suites {
			_ = os.Remove(b)
		}
	}
	for _, g := range gates {
		pkg := "./gates/" + g
		f, err := os.CreateTemp(pkg, g+"-*.test")
		if err != nil {
			return suites, cleanup, fmt.Errorf("compiling %s: %v", pkg, err)
		}
		f.Close()
		suites[g] = f.Name()
		fmt.Fprintf(progress, "creditgate: compiling %s\n", pkg)
		cmd := exec.Command("go", "test", "-c", "-o", f.Name(), pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return suites, cleanup, fmt.Errorf("compiling %s: %v\n%s", pkg, err, out)
		}
	}
	return suites, cleanup, nil
}
