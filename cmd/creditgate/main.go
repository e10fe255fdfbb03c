// Command creditgate runs the hard gates and turns their results into the
// sign-off report: `gates` (run suites, write out/<run-id>/, exit with the
// verdict), `soak` (all gates, gate E's load for 30 minutes), `knee` (the
// highest rate within the latency bounds), `render` (rebuild the report
// from a saved summary.json), `compare` (flag regressions against an
// earlier run), `verify-gates` (prove each gate fails on seeded bugs) and
// `judge-explore` (judge a recorded generated run again, offline).
// It only maps flags: the run, the report and the knee search are
// gates/signoff, the verify-gates loop and its verdicts gates/verify (the
// seeded bugs gates/mutants), render and compare reports.
package main

import (
	"fmt"
	"os"
)

const usage = `creditgate — run the credit engine's hard gates and write the sign-off report

usage:
  creditgate gates   [--gates a,b,c,d,e] [--out DIR]   run gates, write the report, exit with the verdict
  creditgate soak    [--duration 30m] [--out DIR]      all gates with gate E's load for 30 minutes (the nightly sign-off)
  creditgate render  DIR                               re-render report.html/report.md/junit.xml from DIR/summary.json
  creditgate compare BASE CURRENT                      diff two runs (dirs or summary.json); exit 1 on regression
  creditgate verify-gates [--only NAME] [--out DIR]    run gates against engines with seeded bugs; each must be NO-GO
  creditgate knee    [--from 200 --step 200 --duration 20s]  highest rate with P95 < 500 ms and P99 < 50 ms
  creditgate judge-explore FILE                        judge a recorded generated run again (DIR/gate-B/explore-run.json), offline

Parameters come from LIVE_TEST_* (CONCURRENCY, DURATION, SEED, RETRY_INJECTION,
KARMA_ENABLED, ML_ANOMALY_INJECTION, RATE) and the target from CREDITGATE_TARGET
(container|process|cluster|exec|url), CREDITGATE_URL, CREDITGATE_TOKEN,
CREDITGATE_IMAGE, CREDITGATE_BINARY, CREDITGATE_EXEC (+ _JOURNAL, _HEALTH, _DATA_DIR);
docs/own-backend.md tests your own backend.
Exit codes: 0 GO, 1 NO-GO or error, 2 CONDITIONAL, 3 INCOMPLETE (nothing measured
failed, but critical checks could not be measured on this target).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(1)
	}
	var code int
	switch os.Args[1] {
	case "gates":
		code = cmdGates(os.Args[2:], "")
	case "soak":
		code = cmdSoak(os.Args[2:])
	case "render":
		code = cmdRender(os.Args[2:])
	case "compare":
		code = cmdCompare(os.Args[2:])
	case "knee":
		code = cmdKnee(os.Args[2:])
	case "verify-gates":
		code = cmdVerify(os.Args[2:])
	case "judge-explore":
		code = cmdJudgeExplore(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "creditgate: unknown command %q\n\n%s", os.Args[1], usage)
		code = 1
	}
	os.Exit(code)
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "creditgate: "+format+"\n", args...)
	return 1
}
