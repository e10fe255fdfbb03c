package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/creditgate/creditgate/reports"
)

func cmdGates(args []string, duration string) int {
	fs := flag.NewFlagSet("gates", flag.ContinueOnError)
	which := fs.String("gates", "a,b,c,d,e", "comma-separated gates to run")
	out := fs.String("out", filepath.Join("out", time.Now().UTC().Format("20060102T150405Z")), "run directory for the report")
	timeout := fs.Duration("timeout", 0, "overall timeout (default: 20m + LIVE_TEST_DURATION)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if duration != "" {
		os.Setenv("LIVE_TEST_DURATION", duration)
	}
	var pkgs []string
	for _, g := range strings.Split(*which, ",") {
		g = strings.ToLower(strings.TrimSpace(g))
		if len(g) != 1 || g[0] < 'a' || g[0] > 'e' {
			return fail("--gates: %q is not one of a,b,c,d,e", g)
		}
		pkgs = append(pkgs, "./gates/"+g)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("%v", err)
	}
	if coverageGate(*out) {
		return 1
	}
	abs, _ := filepath.Abs(*out)
	if *timeout == 0 {
		d, err := time.ParseDuration(envOr("LIVE_TEST_DURATION", "60s"))
		if err != nil {
			return fail("LIVE_TEST_DURATION=%q: %v", os.Getenv("LIVE_TEST_DURATION"), err)
		}
		*timeout = 20*time.Minute + d
	}
	started := time.Now()
	ginkgoArgs := []string{"run", "github.com/onsi/ginkgo/v2/ginkgo",
		"--json-report=ginkgo.json", "--output-dir=" + abs, "--keep-going",
		"--randomize-all", "--fail-on-pending", "--fail-on-empty", "--timeout=" + timeout.String(),
		"--poll-progress-after=120s", "--silence-skips"}
	ginkgoArgs = append(ginkgoArgs, pkgs...)
	cmd := exec.Command("go", ginkgoArgs...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CREDITGATE_OUT="+abs)
	fmt.Fprintf(os.Stderr, "creditgate: running %s (report in %s)\n", strings.Join(pkgs, " "), abs)
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return fail("running ginkgo: %v", runErr)
	}
	s, err := buildSummary(abs, pkgs, started)
	if err != nil {
		return fail("building the report: %v (ginkgo: %v)", err, runErr)
	}
	if err := reports.WriteAll(abs, s); err != nil {
		return fail("writing the report: %v", err)
	}
	latest := filepath.Join(filepath.Dir(abs), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(abs), latest)
	printVerdict(s, abs)
	if len(pkgs) == len(reports.GateIDs) {
		return reports.ExitCode(s.OverallStatus)
	}
	// A partial run cannot sign off; its exit code is what the gates that
	// ran decide on their own.
	worst := reports.VerdictGo
	for _, p := range pkgs {
		id := strings.ToUpper(p[len(p)-1:])
		v := gateVerdict(s, id)
		fmt.Printf("gate %s on its own: %s\n", id, v)
		if rank(v) > rank(worst) {
			worst = v
		}
	}
	fmt.Printf("(a partial run; the sign-off verdict needs all five gates: make gates)\n")
	return reports.ExitCode(worst)
}

// gateVerdict is the verdict one gate's evidence implies: the summary with
// every other gate taken as passed and nothing else missing.
func gateVerdict(s *reports.Summary, id string) string {
	c := *s
	c.GateDetails = nil
	for _, g := range s.GateDetails {
		if g.ID != id {
			g = reports.GateDetail{ID: g.ID, Name: g.Name, Status: reports.StatusPass,
				Checks: []reports.Check{{Name: "not part of this run", Status: reports.StatusPass}}}
		}
		c.GateDetails = append(c.GateDetails, g)
	}
	if id != "E" { // latency and memory are gate E's evidence
		c.Latency = &reports.Latency{Overall: reports.LatencyStats{P95: 1, Count: 1}}
		c.Load = &reports.LoadStats{TargetRate: 1, AchievedRate: 1, DurationS: float64(s.TestConfig.TestDuration)}
		c.Memory = &reports.Memory{Samples: []reports.MemorySample{{TS: 0}, {TS: 1}}}
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = []reports.Scenario{{Name: "none in this gate", Status: reports.ScenarioPassed, InvariantsPassed: true}}
	}
	c.Gates = nil
	v, reasons := reports.Decide(&c)
	if os.Getenv("CREDITGATE_DEBUG") != "" {
		fmt.Fprintln(os.Stderr, id, reasons)
	}
	return v
}

func rank(v string) int {
	switch v {
	case reports.VerdictGo:
		return 0
	case reports.VerdictConditional:
		return 1
	}
	return 2
}

// buildSummary reads Ginkgo's JSON report and what the gates saved next to
// it (scenario results, gate E's load and memory measurements).
func buildSummary(dir string, pkgs []string, started time.Time) (*reports.Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "ginkgo.json"))
	if err != nil {
		return nil, fmt.Errorf("no Ginkgo report (did the suites compile?): %w", err)
	}
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("ginkgo.json: %w", err)
	}
	s := &reports.Summary{Timestamp: started.UTC(), Branch: git("rev-parse", "--abbrev-ref", "HEAD"), Commit: git("rev-parse", "HEAD")}
	s.GateDetails = reports.FromGinkgo(rs)
	ran := map[string]bool{}
	for _, p := range pkgs {
		ran[strings.ToUpper(p[len(p)-1:])] = true
	}
	for _, g := range reports.GateIDs {
		if !ran[g] {
			s.GateDetails = append(s.GateDetails, reports.GateDetail{ID: g, Name: reports.GateNames[g], Status: reports.StatusSkip,
				Detail: "not run in this invocation"})
		}
	}
	sort.Slice(s.GateDetails, func(i, j int) bool { return s.GateDetails[i].ID < s.GateDetails[j].ID })
	var cfg runConfig
	if err := readJSON(filepath.Join(dir, "run-config.json"), &cfg); err == nil {
		s.TestConfig = cfg.TestConfig
		s.Facts.Seed = cfg.TestConfig.Seed
		s.Facts.ReproCommand = cfg.Repro
	}
	scen, _ := filepath.Glob(filepath.Join(dir, "gate-*", "scenario-*.json"))
	sort.Strings(scen)
	for _, f := range scen {
		var sc reports.Scenario
		if err := readJSON(f, &sc); err == nil {
			s.Scenarios = append(s.Scenarios, sc)
		}
	}
	var facts reports.Facts
	facts2, _ := filepath.Glob(filepath.Join(dir, "gate-*", "facts.json"))
	for _, f := range facts2 {
		if err := readJSON(f, &facts); err == nil {
			s.Facts.NegativeBalances += facts.NegativeBalances
			s.Facts.IdempotencyViolations += facts.IdempotencyViolations
			s.Facts.MultipleFinalDecisions += facts.MultipleFinalDecisions
			s.Facts.CrashesOnOutage += facts.CrashesOnOutage
			s.Facts.ReplayDriftEvents += facts.ReplayDriftEvents
			s.Facts.FsyncDisabled = s.Facts.FsyncDisabled || facts.FsyncDisabled
		}
	}
	var load reports.Summary
	if err := readJSON(filepath.Join(dir, "gate-E", "load-summary.json"), &load); err == nil {
		s.Latency, s.Load, s.Memory, s.Timeseries, s.LatencyCurve = load.Latency, load.Load, load.Memory, load.Timeseries, load.LatencyCurve
	}
	arts, _ := filepath.Glob(filepath.Join(dir, "gate-*", "*"))
	for _, a := range arts {
		if rel, err := filepath.Rel(dir, a); err == nil {
			s.Artifacts = append(s.Artifacts, rel)
		}
	}
	reports.Finalize(s)
	return s, nil
}

// runConfig is what the harness saves about the run's parameters.
type runConfig struct {
	TestConfig reports.TestConfig `json:"test_config"`
	Repro      string             `json:"repro"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func printVerdict(s *reports.Summary, dir string) {
	fmt.Printf("\n=== creditgate verdict: %s ===\n", s.OverallStatus)
	for _, g := range s.GateDetails {
		fmt.Printf("  gate %s %-26s %s\n", g.ID, g.Name, strings.ToUpper(g.Status))
		for _, c := range g.Checks {
			if c.Status != reports.StatusPass {
				fmt.Printf("      %-5s %s: measured %s, threshold %s\n", strings.ToUpper(c.Status), c.Name, c.Measured, c.Threshold)
			}
		}
	}
	for _, r := range s.VerdictReasons {
		fmt.Printf("  - %s\n", r)
	}
	if s.OverallStatus != reports.VerdictGo && s.Facts.ReproCommand != "" {
		fmt.Printf("  repro: %s\n", s.Facts.ReproCommand)
	}
	fmt.Printf("report: %s/report.html (also report.md, summary.json, junit.xml)\n", dir)
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

func cmdSoak(args []string) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	d := fs.String("duration", envOr("LIVE_TEST_DURATION", "30m"), "soak duration")
	out := fs.String("out", filepath.Join("out", "soak-"+time.Now().UTC().Format("20060102T150405Z")), "run directory")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	return cmdGates([]string{"--out", *out}, *d)
}

func cmdRender(args []string) int {
	if len(args) != 1 {
		return fail("usage: creditgate render DIR")
	}
	if err := reports.Render(args[0]); err != nil {
		return fail("%v", err)
	}
	s, err := reports.Load(args[0])
	if err != nil {
		return fail("%v", err)
	}
	printVerdict(s, args[0])
	return 0
}

func cmdCompare(args []string) int {
	if len(args) != 2 {
		return fail("usage: creditgate compare BASE CURRENT (run dirs or summary.json files)")
	}
	base, err := reports.Load(args[0])
	if err != nil {
		return fail("base: %v", err)
	}
	cur, err := reports.Load(args[1])
	if err != nil {
		return fail("current: %v", err)
	}
	c := reports.Compare(base, cur, reports.Thresholds{})
	fmt.Print(c.Text())
	if c.Regressed() {
		return 1
	}
	return 0
}
