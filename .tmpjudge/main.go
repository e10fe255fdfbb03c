package main

import (
	"fmt"
	"os"

	"github.com/creditgate/creditgate/gates/audit"
)

func main() {
	b, _ := os.ReadFile(os.Args[1])
	run, err := audit.ExploreRunFromJSON(b)
	if err != nil {
		panic(err)
	}
	for _, f := range audit.JudgeExplore(run) {
		fmt.Println(f.Check[:3], f.OK, f.Measured)
		for _, v := range f.Violations {
			fmt.Println("  -", v[:min(len(v), 700)])
		}
	}
}
