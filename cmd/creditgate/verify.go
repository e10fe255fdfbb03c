package main

import (
	"flag"
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
	whole := fs.Bool("whole-gates", false, "run each seeded bug's whole gate, not only the specs that record the check it names")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	root, err := repo.Root()
	if err != nil {
		return fail("verify-gates runs inside the repository: %v", err)
	}
	return verify.Run(verify.Config{Root: root, Out: *out, Only: *only, NoForeign: *skipForeign, WholeGates: *whole,
		RunGates: func(gates, checks, dir string) int {
			return cmdGates([]string{"--gates", gates, "--checks", checks, "--out", dir}, "")
		}})
}
