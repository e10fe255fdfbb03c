package main

import (
	"flag"
	"io"
	"path/filepath"

	"github.com/creditgate/creditgate/gates/verify"
	"github.com/creditgate/creditgate/internal/repo"
)

// cmdVerify maps verify-gates' flags to gates/verify, which runs the
// seeded bugs and the foreign backend through the gates command.
func cmdVerify(args []string) int {
	fs := flag.NewFlagSet("verify-gates", flag.ContinueOnError)
	only := fs.String("only", "", "run only the mutant (or foreign-backend case, foreign-<defect>) with this name")
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
	return verify.Run(verify.Config{Root: root, Out: *out, Only: *only, NoForeign: *skipForeign, WholeGates: *whole, Parallel: *parallel,
		RunGates: func(gates, checks, dir string, env []string, log io.Writer) int {
			return runGates([]string{"--gates", gates, "--checks", checks, "--out", dir}, "", env, log)
		}})
}
