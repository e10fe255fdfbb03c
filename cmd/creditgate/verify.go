package main

import (
	"flag"
	"io"
	"path/filepath"
	"sync"

	"github.com/creditgate/creditgate/gates/signoff"
	"github.com/creditgate/creditgate/gates/verify"
	"github.com/creditgate/creditgate/internal/repo"
)

// cmdVerify maps verify-gates' flags to gates/verify, which runs the
// seeded bugs and the foreign backend through the gates command.
func cmdVerify(args []string) int {
	fs := flag.NewFlagSet("verify-gates", flag.ContinueOnError)
	only := fs.String("only", "", "run only the mutants (or foreign-backend cases, foreign-<defect>) with these names, comma-separated")
	skipForeign := fs.Bool("no-foreign", false, "skip the foreign-backend cases")
	out := fs.String("out", filepath.Join("out", "verify-gates"), "directory for each mutant's report")
	whole := fs.Bool("whole-gates", false, "run each seeded bug's and foreign defect case's whole gate, not only the specs that record the check it names")
	parallel := fs.Int("parallel", 1, "how many seeded bugs run at once (each on its own backend; progress to <out>/<name>/run.log when > 1)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	root, err := repo.Root()
	if err != nil {
		return fail("verify-gates runs inside the repository: %v", err)
	}
	if *parallel < 1 {
		return fail("verify-gates: --parallel must be at least 1, got %d", *parallel)
	}
	// Every run of a gate (some 240 focused runs) shares one compiled
	// suite of it: each compiling its own cost a link of seconds a run.
	suites := &sharedSuites{bins: map[string]string{}}
	defer suites.remove()
	return verify.Run(verify.Config{Root: root, Out: *out, Only: *only, NoForeign: *skipForeign, WholeGates: *whole, Parallel: *parallel,
		RunGates: func(gates, checks, dir string, env []string, log io.Writer) int {
			bins, err := suites.of(gates, log)
			if err != nil {
				return fail("verify-gates: %v", err)
			}
			return runGates([]string{"--gates", gates, "--checks", checks, "--out", dir}, "", env, log, bins)
		}})
}

// sharedSuites compiles each gate's suite once, on its first run, for
// every run after it (signoff.Options.Suites).
type sharedSuites struct {
	mu       sync.Mutex
	bins     map[string]string
	cleanups []func()
}

// of returns the suites of the comma-listed gates, compiling those not
// compiled yet.
func (s *sharedSuites) of(gates string, progress io.Writer) (map[string]string, error) {
	gs, err := signoff.ParseGates(gates)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, g := range gs {
		if _, ok := s.bins[g]; !ok {
			bins, cleanup, err := signoff.CompileSuites([]string{g}, progress)
			s.cleanups = append(s.cleanups, cleanup)
			if err != nil {
				return nil, err
			}
			s.bins[g] = bins[g]
		}
		out[g] = s.bins[g]
	}
	return out, nil
}

// remove deletes the compiled suites.
func (s *sharedSuites) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cleanups {
		c()
	}
}
