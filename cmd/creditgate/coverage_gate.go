package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditgate/creditgate/gates/coverage"
	"github.com/creditgate/creditgate/internal/repo"
)

// coverageGate runs before any gate: a route of the OpenAPI document or a
// SPEC rule without a gate check (or a mapped check that no longer exists)
// is NO-GO "not covered" (issue 12). The list is written to
// <out>/not-covered.txt. It returns false when the gates may run.
func coverageGate(out string) (stop bool) {
	root, err := repo.Root()
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditgate: coverage map: %v\n", err)
		return true
	}
	probs, err := coverage.Problems(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditgate: coverage map: %v\n", err)
		return true
	}
	for _, g := range coverage.Gaps {
		fmt.Fprintf(os.Stderr, "creditgate: known coverage gap %s (see docs/gates.md, coverage map)\n", g.ID)
	}
	if len(probs) == 0 {
		return false
	}
	text := "NO-GO not covered: " + fmt.Sprint(len(probs)) + " route(s), rule(s) or check(s)\n  " + strings.Join(probs, "\n  ") + "\n"
	_ = os.WriteFile(filepath.Join(out, "not-covered.txt"), []byte(text), 0o644)
	fmt.Fprint(os.Stderr, text+"(the map is gates/coverage; `go test ./gates/coverage` shows the same)\n")
	return true
}
