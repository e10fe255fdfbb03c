// Package signoff runs the sign-off: the coverage map first (a route, SPEC
// rule or check without its counterpart is NO-GO "not covered"), then the
// gate suites through ginkgo, then the report (summary.json, report.html,
// report.md, junit.xml) and the verdict as an exit code; and the knee
// search (the highest constant rate within the latency bounds).
// cmd/creditgate only maps its flags to Options and KneeOptions.
//
// It owns the run loop around the suites, the printed verdict and the knee
// loop. It runs the suites as a separate `go run ginkgo` process and reads
// their results from the run directory, so it never imports a suite
// (gates/a … gates/e) or the engine; of the harness it reads only the check
// catalog (a focused run's --checks are catalog IDs, handed to the suites
// as Ginkgo labels and catalog.FocusEnv).
package signoff
