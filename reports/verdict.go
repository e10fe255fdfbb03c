package reports

import (
	"fmt"
	"sort"
	"strings"
)

// Verdict thresholds (SPEC §8).
const (
	// P95GoMs: GO needs the worst P95 (overall and per endpoint) strictly below it.
	P95GoMs = 500.0
	// P95ConditionalMaxMs: a P95 in [500, 1000] is CONDITIONAL, above it NO-GO.
	P95ConditionalMaxMs = 1000.0
	// MemGoMBPerMin: GO needs the memory trend strictly below it.
	MemGoMBPerMin = 0.1
	// MemConditionalMBPerMin: CONDITIONAL needs the memory trend strictly below it.
	MemConditionalMBPerMin = 0.5
	// MemNoGoMBPerMin: the spec's explicit NO-GO line (trend > 1.0).
	MemNoGoMBPerMin = 1.0
	// MemGrossLeakMBPerMin is the only memory bound applied to a short run
	// (Memory.Informational).
	MemGrossLeakMBPerMin = 20.0
	// MaxConditionalScenarioFailures: 1–2 failed non-critical scenarios are CONDITIONAL, 3 NO-GO.
	MaxConditionalScenarioFailures = 2
	// MinMemorySamples: a short run's memory trend is a slope over at least
	// this many steady-state samples (gate E's E5 uses the same minimum);
	// fewer is not measured, never a gross leak drawn through two start-up
	// samples.
	MinMemorySamples = 3
	// DurationCompleteFraction: a run "lasted its duration" when the load ran
	// at least this share of the planned duration (scheduling slack, not more).
	DurationCompleteFraction = 0.99
)

// Reason prefixes: every reason names the verdict it alone would cause.
const (
	tagNoGo        = "[NO-GO] "
	tagConditional = "[CONDITIONAL] "
	tagIncomplete  = "[INCOMPLETE] "
	tagGo          = "[GO] "
)

// Decide applies the verdict rules of SPEC §8 to the saved data. It is pure:
// it reads s only and does not modify it. Reasons come worst first, each
// prefixed with the verdict it causes on its own.
//
// The spec defines GO, CONDITIONAL and NO-GO by lists that leave gaps; we close
// every gap towards NO-GO: whatever the CONDITIONAL list does not tolerate
// blocks the sign-off. Concretely:
//   - NO-GO: ≥ 3 failed scenarios or any failed critical scenario; gate A or B
//     failing, warning or not run; any failed check marked critical (any gate);
//     a C/D/E gate failed without check detail (criticality unknown); a
//     critical check that did not run because something else failed or the
//     run stopped (Check.Blocked: hidden evidence might have said NO-GO); any
//     critical fact counter > 0 (negative balances, idempotency violations,
//     multiple final decisions, crashes on outage, replay drift); worst P95 >
//     1000 ms; memory trend ≥ 0.5 MB/min (the spec says "> 1.0" is NO-GO and
//     CONDITIONAL needs "< 0.5": the gap 0.5–1.0 fits neither, so it blocks);
//     the load ran less than 99% of its planned duration.
//   - INCOMPLETE: nothing measured failed, but a critical check was not
//     measured (SPEC §8); with a measured failure (a non-critical check or
//     scenario) it is NO-GO: CONDITIONAL tolerates no unmeasured critical check.
//   - CONDITIONAL: 1–2 failed non-critical scenarios, skipped scenarios or none
//     recorded; gate C/D/E warning, failing only non-critical checks, or not
//     run; checks skipped by choice inside a gate (each named with its
//     reason); worst P95 in [500, 1000] ms; memory
//     trend in [0.1, 0.5) MB/min; latency, load or memory not measured.
//   - GO: none of the above.
func Decide(s *Summary) (status string, reasons []string) {
	var blockers, conditions, unmeasured []string
	block := func(format string, a ...any) { blockers = append(blockers, tagNoGo+fmt.Sprintf(format, a...)) }
	cond := func(format string, a ...any) {
		conditions = append(conditions, tagConditional+fmt.Sprintf(format, a...))
	}
	incomplete := func(format string, a ...any) {
		unmeasured = append(unmeasured, tagIncomplete+fmt.Sprintf(format, a...))
	}
	// failed is cond for a measured failure (a non-critical check or
	// scenario that failed): INCOMPLETE says nothing measured failed, so
	// with one the run is at best CONDITIONAL, whatever was not measured.
	measuredFailed := false
	failed := func(format string, a ...any) {
		measuredFailed = true
		cond(format, a...)
	}

	// Critical facts come first: they are the spec's named NO-GO conditions.
	f := s.Facts
	for _, c := range []struct {
		n    int64
		what string
	}{
		{f.NegativeBalances, "negative balance(s)"},
		{f.IdempotencyViolations, "idempotency violation(s)"},
		{f.MultipleFinalDecisions, "approval request(s) with more than one final decision"},
		{f.CrashesOnOutage, "crash(es) on a dependency outage"},
		{f.ReplayDriftEvents, "projection difference(s) after replay (drift)"},
	} {
		if c.n > 0 {
			block("%d %s", c.n, c.what)
		}
	}

	for _, g := range normalizeGates(s) {
		decideGate(g, block, cond, failed, incomplete)
	}

	decideScenarios(s.Scenarios, block, failed, cond)

	if s.Latency == nil || s.Latency.Overall.Count == 0 {
		cond("latency not measured: P95 < %g ms not shown", P95GoMs)
	} else {
		where, p95 := worstP95(s.Latency)
		switch {
		case p95 > P95ConditionalMaxMs:
			block("P95 %s is %s > %g ms", where, fmtMs(p95), P95ConditionalMaxMs)
		case p95 >= P95GoMs:
			cond("P95 %s is %s, within %g–%g ms", where, fmtMs(p95), P95GoMs, P95ConditionalMaxMs)
		}
	}

	if m := s.Memory; m == nil || (len(m.Samples) < 2 && m.SlopeMBPerMin == 0) || (m.Informational && m.steadySamples() < MinMemorySamples) {
		cond("memory trend not measured (fewer than %d steady-state samples): < %g MB/min not shown", MinMemorySamples, MemGoMBPerMin)
	} else {
		slope := m.SlopeMBPerMin
		switch {
		case m.Informational && slope > MemGrossLeakMBPerMin:
			block("memory grows %s MB/min even in a short run: a gross leak (> %g MB/min)", fmtSlope(slope), MemGrossLeakMBPerMin)
		case m.Informational:
			// Not judged here; caveats() says so.
		case slope > MemNoGoMBPerMin:
			block("memory trend %s MB/min > %g MB/min", fmtSlope(slope), MemNoGoMBPerMin)
		case slope >= MemConditionalMBPerMin:
			block("memory trend %s MB/min is not below the CONDITIONAL ceiling of %g MB/min", fmtSlope(slope), MemConditionalMBPerMin)
		case slope >= MemGoMBPerMin:
			cond("memory trend %s MB/min is not below %g MB/min", fmtSlope(slope), MemGoMBPerMin)
		}
	}

	if s.Load == nil {
		cond("load not measured (no gate E result)")
	} else if planned := float64(s.TestConfig.TestDuration); planned > 0 && s.Load.DurationS < DurationCompleteFraction*planned {
		block("run stopped early: load ran %gs of the planned %gs", round3(s.Load.DurationS), round3(planned))
	}

	switch {
	case len(blockers) > 0:
		return VerdictNoGo, append(append(blockers, unmeasured...), conditions...)
	case len(unmeasured) > 0 && measuredFailed:
		// Not INCOMPLETE (something measured failed), not CONDITIONAL (its
		// list tolerates no unmeasured critical check): the gap closes
		// towards NO-GO, as every gap does here.
		reason := tagNoGo + "a check or scenario failed while critical checks went unmeasured: INCOMPLETE needs nothing measured to fail, CONDITIONAL every critical check measured"
		return VerdictNoGo, append(append([]string{reason}, conditions...), unmeasured...)
	case len(unmeasured) > 0:
		return VerdictIncomplete, append(unmeasured, conditions...)
	case len(conditions) > 0:
		return VerdictConditional, conditions
	}
	where, p95 := worstP95(s.Latency)
	mem := fmt.Sprintf("memory trend %s MB/min < %g MB/min", fmtSlope(s.Memory.SlopeMBPerMin), MemGoMBPerMin)
	if s.Memory.Informational {
		mem = fmt.Sprintf("no gross leak (memory trend %s MB/min, informational in a short run)", fmtSlope(s.Memory.SlopeMBPerMin))
	}
	return VerdictGo, []string{fmt.Sprintf("%sall scenarios and gates pass; worst P95 %s is %s < %g ms; %s; ran %gs of %gs",
		tagGo, where, fmtMs(p95), P95GoMs, mem, round3(s.Load.DurationS), round3(float64(s.TestConfig.TestDuration)))}
}

func decideGate(g GateDetail, block, cond, failedCond, incomplete func(string, ...any)) {
	label := "gate " + g.ID + " (" + g.Name + ")"
	var failed, critFailed, skipped, unmeasured []Check
	for _, c := range g.Checks {
		switch c.Status {
		case StatusFail:
			if c.Critical {
				critFailed = append(critFailed, c)
			} else {
				failed = append(failed, c)
			}
		case StatusSkip:
			skipped = append(skipped, c)
		case StatusNA, StatusNotMeasured:
			unmeasured = append(unmeasured, c)
		}
	}
	for _, c := range critFailed {
		block("%s: critical check %q failed: %s", label, c.Name, measuredVsThreshold(c))
	}
	switch {
	case g.Critical && g.Status == StatusFail && len(critFailed) == 0:
		if len(failed) == 0 {
			block("%s failed", label)
		} else {
			block("%s failed: %s", label, listChecks(failed))
		}
	case g.Critical && g.Status == StatusFail:
		if len(failed) > 0 {
			block("%s also failed: %s", label, listChecks(failed))
		}
	case g.Critical && g.Status == StatusWarn:
		block("%s warns (A and B must pass): %s", label, listChecks(withStatus(g.Checks, StatusWarn)))
	case g.Critical && g.Status == StatusSkip && len(g.Checks) == 0:
		block("%s not verified: %s", label, skipDetail(g))
	case g.Status == StatusFail && len(g.Checks) == 0:
		block("%s failed without check detail: cannot tell whether a critical check failed", label)
	case g.Status == StatusFail && len(failed) > 0:
		failedCond("%s failed non-critical check(s): %s", label, listChecks(failed))
	case g.Status == StatusWarn:
		cond("%s warns: %s", label, listChecks(withStatus(g.Checks, StatusWarn)))
	case g.Status == StatusSkip && len(g.Checks) == 0:
		cond("%s not verified: %s", label, skipDetail(g))
	}
	// Evidence hidden: a critical check that did not run because something
	// else failed (or the run stopped) might have said NO-GO, so it blocks.
	// A critical check the target could not offer (SKIP: a capability; N/A:
	// a route; NOT MEASURED: nothing to judge) leaves the run INCOMPLETE,
	// named with its reason; GO needs every critical check measured.
	var hidden, critUnmeasured, blocked []Check
	for _, c := range append(skipped, unmeasured...) {
		switch {
		case c.Critical && c.Blocked:
			hidden = append(hidden, c)
		case c.Critical:
			critUnmeasured = append(critUnmeasured, c)
		case c.Blocked:
			blocked = append(blocked, c)
		}
	}
	if len(blocked) > 0 {
		cond("%s: %d check(s) not run because something else failed: %s", label, len(blocked), listSkipped(blocked))
	}
	if len(g.Checks) > 0 && len(withStatus(g.Checks, StatusPass))+len(withStatus(g.Checks, StatusWarn))+len(withStatus(g.Checks, StatusFail)) == 0 {
		cond("%s not verified: nothing measured: %s", label, listSkipped(g.Checks))
	}
	for _, c := range hidden {
		block("%s: critical check %q was not verified: %s", label, c.Name, orDefault(c.Detail, "not run"))
	}
	if len(critUnmeasured) > 0 {
		incomplete("%s: %d critical check(s) not measured: %s", label, len(critUnmeasured), listSkipped(critUnmeasured))
	}
	// Non-critical checks not measured do not hold the verdict back: the
	// report lists each with its reason and counts them (Measurement).
}

func decideScenarios(scs []Scenario, block, failedCond, cond func(string, ...any)) {
	if len(scs) == 0 {
		cond("no scenario results recorded")
		return
	}
	var failed, skipped []string
	for _, sc := range scs {
		st := normalizeScenarioStatus(sc.Status)
		// A "passed" scenario whose invariants broke did not pass.
		if st == ScenarioFailed || (st == ScenarioPassed && !sc.InvariantsPassed) {
			failed = append(failed, sc.Name)
			if sc.Critical {
				block("critical scenario %q failed%s", sc.Name, suffix(": ", sc.Detail))
			}
			continue
		}
		if st == ScenarioSkipped {
			skipped = append(skipped, sc.Name)
		}
	}
	switch n := len(failed); {
	case n > MaxConditionalScenarioFailures:
		block("%d scenarios failed (≥ %d): %s", n, MaxConditionalScenarioFailures+1, strings.Join(failed, ", "))
	case n > 0:
		failedCond("%d scenario(s) failed: %s", n, strings.Join(failed, ", "))
	}
	if len(skipped) > 0 {
		cond("%d scenario(s) skipped: %s", len(skipped), strings.Join(skipped, ", "))
	}
}

// worstP95 is the highest P95 among overall and the endpoints, and where it is.
func worstP95(l *Latency) (where string, p95 float64) {
	if l == nil {
		return "overall", 0
	}
	where, p95 = "overall", l.Overall.P95
	names := make([]string, 0, len(l.PerEndpoint))
	for n := range l.PerEndpoint {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if st := l.PerEndpoint[n]; st.Count > 0 && st.P95 > p95 {
			where, p95 = "of "+n, st.P95
		}
	}
	return where, p95
}

// ExitCode maps a verdict to the process exit code: GO 0, NO-GO 1,
// CONDITIONAL 2, INCOMPLETE 3; anything unknown is 1 so that a broken
// report never passes CI.
func ExitCode(status string) int {
	switch status {
	case VerdictGo:
		return 0
	case VerdictConditional:
		return 2
	case VerdictIncomplete:
		return 3
	default:
		return 1
	}
}

// verdictRank orders verdicts, worse is higher; unknown counts as NO-GO.
func verdictRank(v string) int {
	switch v {
	case VerdictGo:
		return 0
	case VerdictConditional:
		return 1
	case VerdictIncomplete:
		return 2
	default:
		return 3
	}
}

func measuredVsThreshold(c Check) string {
	s := "measured " + orDefault(c.Measured, "?") + ", threshold " + orDefault(c.Threshold, "?")
	return s + suffix(" — ", c.Detail)
}

// maxListed bounds how many checks one reason names; the report lists all.
const maxListed = 3

func listChecks(cs []Check) string {
	var parts []string
	for i, c := range cs {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-maxListed))
			break
		}
		parts = append(parts, fmt.Sprintf("%q (%s)", c.Name, measuredVsThreshold(c)))
	}
	if len(parts) == 0 {
		return "no check detail"
	}
	return strings.Join(parts, "; ")
}

// skipDetail says why a whole gate was not verified.
func skipDetail(g GateDetail) string {
	if g.Detail == "" && len(g.Checks) > 0 {
		return listSkipped(g.Checks)
	}
	return orDefault(g.Detail, "skipped")
}

// listSkipped names skipped checks with why they did not run.
func listSkipped(cs []Check) string {
	var parts []string
	for i, c := range cs {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-maxListed))
			break
		}
		crit := ""
		if c.Critical {
			crit = "critical "
		}
		parts = append(parts, fmt.Sprintf("%s%q (%s)", crit, c.Name, orDefault(c.Detail, "no reason recorded")))
	}
	return strings.Join(parts, "; ")
}

func withStatus(cs []Check, status string) []Check {
	var out []Check
	for _, c := range cs {
		if c.Status == status {
			out = append(out, c)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
