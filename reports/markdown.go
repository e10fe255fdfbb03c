package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// verdictMark gives each verdict a symbol that reads at a glance in CI logs and PR comments.
func verdictMark(v string) string {
	switch v {
	case VerdictGo:
		return "✅"
	case VerdictConditional:
		return "⚠️"
	default:
		return "⛔"
	}
}

func statusMark(st string) string {
	switch st {
	case StatusPass, ScenarioPassed:
		return "PASS"
	case StatusWarn:
		return "WARN"
	case StatusSkip, ScenarioSkipped:
		return "SKIP"
	case StatusNA:
		return "N/A"
	case StatusNotMeasured:
		return "NOT MEASURED"
	default:
		return "**FAIL**"
	}
}

// mdCell makes text safe inside a markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return "–"
	}
	return s
}

// Markdown renders report.md from a finalized summary: verdict first, then
// why, then the evidence.
func Markdown(s *Summary) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	w("# %s Sign-off verdict: %s\n\n", verdictMark(s.OverallStatus), s.OverallStatus)
	w("**%s**\n\n", s.Recommendation)
	if m := s.Measurement; m != nil {
		w("Measured %d of %d applicable checks (%s); %d N/A (routes the backend lacks), %d SKIP (capabilities the target lacks), %d NOT MEASURED.\n\n",
			m.Measured, m.Applicable, pct(m.Measured, m.Applicable), m.NA, m.Skipped, m.NotMeasured)
	}
	signOff, defects, unmeasured := SplitReasons(s.VerdictReasons)
	unmeasured = append(unmeasured, unmeasuredNotes(s)...)
	for _, r := range signOff {
		w("- %s\n\n", r)
	}
	if len(defects) > 0 {
		w("**Defects found:**\n\n")
		for _, r := range defects {
			w("- %s\n", r)
		}
		w("\n")
	}
	if len(unmeasured) > 0 {
		w("**Not measured, because:**\n\n")
		for _, r := range unmeasured {
			w("- %s\n", r)
		}
		w("\n")
	}
	b.WriteString("\n")
	if len(s.Caveats) > 0 {
		for _, c := range s.Caveats {
			w("> **Caveat:** %s\n", c)
		}
		b.WriteString("\n")
	}

	w("| Run | |\n|---|---|\n")
	w("| timestamp | %s |\n", mdCell(s.Timestamp.UTC().Format(time.RFC3339)))
	w("| branch / commit | %s / %s |\n", mdCell(s.Branch), mdCell(s.Commit))
	tc := s.TestConfig
	w("| target / profile | %s / %s |\n", mdCell(tc.Target), mdCell(tc.Profile))
	w("| concurrency / duration | %d / %gs |\n", tc.Concurrency, round3(float64(tc.TestDuration)))
	w("| seed | %d |\n", s.Facts.Seed)
	if tc.Routes != "" {
		w("| routes | %s |\n", mdCell(tc.Routes))
	}
	w("| fsync / karma / ML injection / retry injection | %s / %s / %s / %s |\n\n", onOff(tc.Fsync), onOff(tc.KarmaEnabled), onOff(tc.MLAnomalyInjection), onOff(tc.RetryInjection))

	w("## Gates\n\n| Gate | Status | Check | Measured | Threshold | Detail |\n|---|---|---|---|---|---|\n")
	for _, g := range s.GateDetails {
		crit := ""
		if g.Critical {
			crit = " (critical)"
		}
		w("| **%s – %s**%s | %s | | | | %s |\n", mdCell(g.ID), mdCell(g.Name), crit, statusMark(g.Status), mdCell(g.Detail))
		for _, c := range g.Checks {
			name := c.Name
			if c.Critical {
				name += " (critical)"
			}
			w("| | %s | %s | %s | %s | %s |\n", statusMark(c.Status), mdCell(name), mdCell(c.Measured), mdCell(c.Threshold), mdCell(c.Detail))
		}
	}
	b.WriteString("\n")

	w("## Scenarios\n\n")
	if len(s.Scenarios) == 0 {
		w("No scenario results recorded.\n\n")
	} else {
		w("| Scenario | Status | Duration (s) | Throughput (req/s) | P95 (ms) | Errors | Invariants |\n|---|---|---|---|---|---|---|\n")
		for _, sc := range s.Scenarios {
			inv := "held"
			if !sc.InvariantsPassed {
				inv = "**broken**"
			}
			w("| %s | %s | %s | %s | %s | %d | %s |\n", mdCell(sc.Name), statusMark(sc.Status), fmtNum(float64(sc.Duration)),
				fmtNum(sc.Throughput), fmtNum(sc.P95Latency), sc.Errors, inv)
		}
		b.WriteString("\n")
	}

	w("## Latency (ms, from intended send time)\n\n")
	if s.Latency == nil {
		w("No latency recorded.\n\n")
	} else {
		w("| Scope | Count | P50 | P90 | P95 | P99 | P99.9 | Max |\n|---|---|---|---|---|---|---|---|\n")
		row := func(name string, l LatencyStats) {
			w("| %s | %d | %s | %s | %s | %s | %s | %s |\n", mdCell(name), l.Count, fmtNum(l.P50), fmtNum(l.P90),
				fmtNum(l.P95), fmtNum(l.P99), fmtNum(l.P999), fmtNum(l.Max))
		}
		row("overall", s.Latency.Overall)
		for _, n := range sortedKeys(s.Latency.PerEndpoint) {
			row("endpoint "+n, s.Latency.PerEndpoint[n])
		}
		for _, n := range sortedKeys(s.Latency.PerPhase) {
			row("phase "+n, s.Latency.PerPhase[n])
		}
		w("\nBudget: P95 < %g ms (GO), ≤ %g ms (CONDITIONAL).\n\n", P95GoMs, P95ConditionalMaxMs)
	}

	w("## Load and memory\n\n")
	if l := s.Load; l != nil {
		w("- Rate: achieved %s of target %s req/s over %ss; %d requests, %d errors (%s%%), %d unexpected.\n",
			fmtNum(l.AchievedRate), fmtNum(l.TargetRate), fmtNum(l.DurationS), l.Requests, l.Errors, fmtNum(l.ErrorRatePct()), l.UnexpectedErrors)
	} else {
		w("- Load: not measured.\n")
	}
	if m := s.Memory; m != nil && m.steadySamples() >= 2 && (!m.Informational || m.steadySamples() >= MinMemorySamples) {
		w("- Memory trend: **%s MB/min** (budget < %g) over %d steady-state samples from %ss; goroutines %s/min, fds %s/min.\n",
			fmtSlope(m.SlopeMBPerMin), MemGoMBPerMin, m.steadySamples(), fmtNum(m.SteadyStateFromS), fmtSlope(m.GoroutineSlope), fmtSlope(m.FDSlope))
	} else {
		w("- Memory trend: not measured (too few steady-state samples of the backend's memory).\n")
	}
	f := s.Facts
	w("- Critical facts: %s.\n\n", CriticalFacts(s))

	w("## Reproduce\n\n")
	if f.ReproCommand != "" {
		w("```sh\n%s\n```\n\n", f.ReproCommand)
	} else {
		w("No repro command recorded (seed %d).\n\n", f.Seed)
	}
	var repros []string
	for _, g := range s.GateDetails {
		for _, c := range g.Checks {
			if c.Status == StatusFail && c.Repro != "" {
				repros = append(repros, fmt.Sprintf("- gate %s, %s: `%s`\n", g.ID, mdCell(c.Name), c.Repro))
			}
		}
	}
	for _, sc := range s.Scenarios {
		if sc.Status != ScenarioPassed && sc.Repro != "" {
			repros = append(repros, fmt.Sprintf("- scenario %s: `%s`\n", mdCell(sc.Name), sc.Repro))
		}
	}
	if len(repros) > 0 {
		w("Failed checks:\n\n%s\n", strings.Join(repros, ""))
	}
	if len(s.Artifacts) > 0 {
		w("## Artifacts\n\n")
		for _, a := range s.Artifacts {
			w("- `%s`\n", a)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// onOff shows a recorded switch, or "unknown" when the run did not record it.
func onOff(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "on"
	default:
		return "off"
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pct renders n/d as a percentage, "–" when d is 0.
func pct(n, d int) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", 100*float64(n)/float64(d))
}
