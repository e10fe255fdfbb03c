package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/signoff"
	"github.com/creditgate/creditgate/reports"
)

// cmdGates maps the gates command's flags to gates/signoff (duration set:
// the soak).
func cmdGates(args []string, duration string) int {
	return runGates(args, duration, nil, nil, nil)
}

// runGates is the gates command with env added to the suites' environment,
// its output to out (nil: the process's stdout and stderr) and the gate
// suites compiled beforehand in suites (signoff.Options.Suites).
func runGates(args []string, duration string, env []string, out io.Writer, suites map[string]string) int {
	fs := flag.NewFlagSet("gates", flag.ContinueOnError)
	which := fs.String("gates", "a,b,c,d,e", "comma-separated gates to run")
	runDir := fs.String("out", filepath.Join("out", time.Now().UTC().Format("20060102T150405Z")), "run directory for the report")
	timeout := fs.Duration("timeout", 0, "overall timeout (default: 20m + LIVE_TEST_DURATION)")
	checks := fs.String("checks", os.Getenv(catalog.FocusEnv), "comma-separated catalog checks (A16,B41): run only the specs that record them (a quick look; cannot sign off)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	gates, err := signoff.ParseGates(*which)
	if err != nil {
		return fail("%v", err)
	}
	ids, err := signoff.ParseChecks(*checks)
	if err != nil {
		return fail("%v", err)
	}
	return signoff.Run(signoff.Options{Gates: gates, Out: *runDir, Timeout: *timeout, Duration: duration, Checks: ids, Env: env, Stdout: out, Stderr: out, Suites: suites})
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
	signoff.PrintVerdict(os.Stdout, s, args[0])
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

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}
