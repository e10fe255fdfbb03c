package main

import (
	"fmt"
	"os"

	"github.com/creditgate/creditgate/gates/audit"
)

// cmdJudgeExplore judges a recorded generated run again (the judge is a
// pure function of it): each finding with its violations and the
// shortest failing prefix, without the backend.
func cmdJudgeExplore(args []string) int {
	if len(args) != 1 {
		return fail("judge-explore: want one file (a gate's explore-run.json)")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return fail("judge-explore: %v", err)
	}
	run, err := audit.ExploreRunFromJSON(b)
	if err != nil {
		return fail("judge-explore: %s: %v", args[0], err)
	}
	code := 0
	for _, f := range audit.JudgeExplore(run) {
		fmt.Println(f)
		if !f.OK {
			code = 1
		}
	}
	return code
}
