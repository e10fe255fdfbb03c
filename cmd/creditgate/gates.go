package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
	var ids []string
	for _, p := range pkgs {
		ids = append(ids, strings.ToUpper(p[len(p)-1:]))
	}
	s, err := reports.FromRunDir(abs, reports.RunInfo{Gates: ids, Started: started,
		Branch: git("rev-parse", "--abbrev-ref", "HEAD"), Commit: git("rev-parse", "HEAD")})
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
	if len(ids) < len(reports.GateIDs) {
		for _, id := range ids {
			v, reasons := reports.GateVerdict(s, id)
			fmt.Printf("gate %s on its own: %s\n", id, v)
			if os.Getenv("CREDITGATE_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, id, reasons)
			}
		}
		fmt.Printf("(a partial run; the sign-off verdict needs all five gates: make gates)\n")
	}
	return reports.ExitCode(reports.RunVerdict(s, ids))
}

func printVerdict(s *reports.Summary, dir string) {
	fmt.Printf("\n=== creditgate verdict: %s ===\n", s.OverallStatus)
	for _, g := range s.GateDetails {
		fmt.Printf("  gate %s %-26s %s\n", g.ID, g.Name, strings.ToUpper(g.Status))
		for _, c := range g.Checks {
			if c.Status == reports.StatusSkip {
				fmt.Printf("      SKIP  %s: %s\n", c.Name, c.Detail)
			} else if c.Status != reports.StatusPass {
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
