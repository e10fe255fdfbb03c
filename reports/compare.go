package reports

import (
	"fmt"
	"strings"
)

// Thresholds decide what counts as a regression between two runs. A zero
// field takes its default (DefaultThresholds), so the zero value is valid.
type Thresholds struct {
	// P95UpPct: a P95 (overall, per endpoint, per scenario) regresses when it
	// rises by more than this percentage AND by more than P95FloorMs.
	P95UpPct float64
	// P95FloorMs keeps small absolute changes (noise at a few ms) from counting.
	P95FloorMs float64
	// ThroughputDownPct: achieved rate or scenario throughput dropping by more.
	ThroughputDownPct float64
	// ErrorRateUpPP: error rate rising by more than this many percentage points.
	ErrorRateUpPP float64
	// MemorySlopeUpMBPerMin: memory trend rising by more than this.
	MemorySlopeUpMBPerMin float64
}

// DefaultThresholds: +20% and +5 ms P95, −10% throughput, +0.1 pp errors, +0.05 MB/min.
func DefaultThresholds() Thresholds {
	return Thresholds{P95UpPct: 20, P95FloorMs: 5, ThroughputDownPct: 10, ErrorRateUpPP: 0.1, MemorySlopeUpMBPerMin: 0.05}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	if t.P95UpPct <= 0 {
		t.P95UpPct = d.P95UpPct
	}
	if t.P95FloorMs <= 0 {
		t.P95FloorMs = d.P95FloorMs
	}
	if t.ThroughputDownPct <= 0 {
		t.ThroughputDownPct = d.ThroughputDownPct
	}
	if t.ErrorRateUpPP <= 0 {
		t.ErrorRateUpPP = d.ErrorRateUpPP
	}
	if t.MemorySlopeUpMBPerMin <= 0 {
		t.MemorySlopeUpMBPerMin = d.MemorySlopeUpMBPerMin
	}
	return t
}

// Row verdicts.
const (
	RowOK        = "ok"
	RowRegressed = "REGRESSED"
	RowImproved  = "improved"
	RowWorse     = "worse" // worse, but within the thresholds or not a regression rule
	RowNew       = "new"   // only in the current run
	RowGone      = "gone"  // only in the base run
)

// CompareRow is one metric of a comparison, ready for display.
type CompareRow struct {
	Metric  string `json:"metric"`
	Base    string `json:"base"`
	Current string `json:"current"`
	Delta   string `json:"delta"`
	Verdict string `json:"verdict"`
	// Rule names the threshold a regression broke.
	Rule string `json:"rule,omitempty"`
}

// Comparison is the diff of a run against a base run.
type Comparison struct {
	Base       string       `json:"base"`
	Current    string       `json:"current"`
	Thresholds Thresholds   `json:"thresholds"`
	Rows       []CompareRow `json:"rows"`
	// Notes warn when the runs are not like for like (seed, concurrency, …).
	Notes []string `json:"notes,omitempty"`
}

// Regressed reports whether any row regressed.
func (c Comparison) Regressed() bool {
	for _, r := range c.Rows {
		if r.Verdict == RowRegressed {
			return true
		}
	}
	return false
}

// Regressions returns the regressed rows only.
func (c Comparison) Regressions() []CompareRow {
	var out []CompareRow
	for _, r := range c.Rows {
		if r.Verdict == RowRegressed {
			out = append(out, r)
		}
	}
	return out
}

func runLabel(s *Summary) string {
	return fmt.Sprintf("%s@%s %s (%s)", orDefault(s.Branch, "?"), orDefault(s.Commit, "?"),
		s.Timestamp.UTC().Format("2006-01-02T15:04:05Z"), orDefault(s.OverallStatus, "no verdict"))
}

// Compare diffs cur against base. Both are read as saved (not finalized).
func Compare(base, cur *Summary, th Thresholds) Comparison {
	th = th.withDefaults()
	c := Comparison{Base: runLabel(base), Current: runLabel(cur), Thresholds: th}
	c.Notes = likeForLike(base, cur)

	// Verdict: worse is a regression.
	{
		r := CompareRow{Metric: "verdict", Base: orDefault(base.OverallStatus, "?"), Current: orDefault(cur.OverallStatus, "?"), Delta: "", Verdict: RowOK}
		switch b, k := verdictRank(base.OverallStatus), verdictRank(cur.OverallStatus); {
		case k > b:
			r.Verdict, r.Rule, r.Delta = RowRegressed, "verdict worse", "worse"
		case k < b:
			r.Verdict, r.Delta = RowImproved, "better"
		default:
			r.Delta = "same"
		}
		c.Rows = append(c.Rows, r)
	}

	// Gates: a gate that passed (or warned) and now fails regresses.
	bg, cg := normalizeGates(base), normalizeGates(cur)
	for i := range bg {
		if i >= len(cg) || bg[i].ID != cg[i].ID {
			continue // both lists start with A–E in order
		}
		b, k := bg[i].Status, cg[i].Status
		r := CompareRow{Metric: "gate " + GateKey(bg[i].ID), Base: b, Current: k, Verdict: RowOK, Delta: "same"}
		if b != k {
			r.Delta = b + " → " + k
			switch {
			case k == StatusFail && (b == StatusPass || b == StatusWarn):
				r.Verdict, r.Rule = RowRegressed, "passing gate now fails"
			case statusRank(k) > statusRank(b):
				r.Verdict = RowWorse
			default:
				r.Verdict = RowImproved
			}
		}
		c.Rows = append(c.Rows, r)
	}

	// Latency.
	var bl, cl Latency
	if base.Latency != nil {
		bl = *base.Latency
	}
	if cur.Latency != nil {
		cl = *cur.Latency
	}
	c.Rows = append(c.Rows, p95Row("P95 overall (ms)", bl.Overall, cl.Overall, th))
	for _, n := range unionKeys(bl.PerEndpoint, cl.PerEndpoint) {
		c.Rows = append(c.Rows, p95Row("P95 "+n+" (ms)", bl.PerEndpoint[n], cl.PerEndpoint[n], th))
	}

	// Load.
	if base.Load != nil || cur.Load != nil {
		var b, k LoadStats
		if base.Load != nil {
			b = *base.Load
		}
		if cur.Load != nil {
			k = *cur.Load
		}
		c.Rows = append(c.Rows, dropRow("achieved rate (req/s)", b.AchievedRate, k.AchievedRate, base.Load != nil, cur.Load != nil, th))
		er := numRow("error rate (%)", b.ErrorRatePct(), k.ErrorRatePct(), base.Load != nil, cur.Load != nil, "pp")
		if er.Verdict == RowOK && k.ErrorRatePct()-b.ErrorRatePct() > th.ErrorRateUpPP {
			er.Verdict, er.Rule = RowRegressed, fmt.Sprintf("error rate up > %g pp", th.ErrorRateUpPP)
		}
		c.Rows = append(c.Rows, er)
		ue := numRow("unexpected errors", float64(b.UnexpectedErrors), float64(k.UnexpectedErrors), base.Load != nil, cur.Load != nil, "")
		if ue.Verdict == RowOK && k.UnexpectedErrors > b.UnexpectedErrors {
			// Gate E allows none: every new unexpected error is a regression.
			ue.Verdict, ue.Rule = RowRegressed, "new unexpected errors"
		}
		c.Rows = append(c.Rows, ue)
	}

	// Memory.
	if base.Memory != nil || cur.Memory != nil {
		var b, k float64
		if base.Memory != nil {
			b = base.Memory.SlopeMBPerMin
		}
		if cur.Memory != nil {
			k = cur.Memory.SlopeMBPerMin
		}
		r := numRow("memory trend (MB/min)", b, k, base.Memory != nil, cur.Memory != nil, "")
		r.Base, r.Current = fmtSlopeIf(base.Memory != nil, b), fmtSlopeIf(cur.Memory != nil, k)
		if r.Verdict == RowOK {
			r.Delta = signed(fmtSlope(k - b))
			if k-b > th.MemorySlopeUpMBPerMin {
				r.Verdict, r.Rule = RowRegressed, fmt.Sprintf("memory trend up > %g MB/min", th.MemorySlopeUpMBPerMin)
			}
		}
		c.Rows = append(c.Rows, r)
	}

	// Scenarios by name: status, throughput, P95.
	bs := map[string]Scenario{}
	for _, s := range base.Scenarios {
		bs[s.Name] = s
	}
	for _, k := range cur.Scenarios {
		b, ok := bs[k.Name]
		if !ok {
			c.Rows = append(c.Rows, CompareRow{Metric: "scenario " + k.Name, Base: "–", Current: k.Status, Verdict: RowNew})
			continue
		}
		delete(bs, k.Name)
		st := CompareRow{Metric: "scenario " + k.Name, Base: b.Status, Current: k.Status, Verdict: RowOK, Delta: "same"}
		if normalizeScenarioStatus(b.Status) == ScenarioPassed && normalizeScenarioStatus(k.Status) == ScenarioFailed {
			st.Verdict, st.Rule, st.Delta = RowRegressed, "passing scenario now fails", "passed → failed"
		} else if b.Status != k.Status {
			st.Delta = b.Status + " → " + k.Status
		}
		c.Rows = append(c.Rows, st)
		if b.Throughput > 0 || k.Throughput > 0 {
			c.Rows = append(c.Rows, dropRow("scenario "+k.Name+" throughput (req/s)", b.Throughput, k.Throughput, true, true, th))
		}
		if b.P95Latency > 0 || k.P95Latency > 0 {
			c.Rows = append(c.Rows, p95Row("scenario "+k.Name+" P95 (ms)", LatencyStats{P95: b.P95Latency, Count: 1}, LatencyStats{P95: k.P95Latency, Count: 1}, th))
		}
	}
	for _, b := range base.Scenarios {
		if _, left := bs[b.Name]; left {
			c.Rows = append(c.Rows, CompareRow{Metric: "scenario " + b.Name, Base: b.Status, Current: "–", Verdict: RowGone})
		}
	}
	return c
}

func statusRank(st string) int {
	switch st {
	case StatusPass:
		return 0
	case StatusWarn:
		return 1
	case StatusSkip:
		return 2
	default:
		return 3
	}
}

// numRow fills base/current/delta and new/gone; the caller applies its rule.
func numRow(metric string, b, k float64, hasB, hasK bool, unit string) CompareRow {
	r := CompareRow{Metric: metric, Base: fmtIf(hasB, b), Current: fmtIf(hasK, k), Verdict: RowOK}
	switch {
	case !hasB && !hasK:
		r.Verdict = RowOK
	case !hasB:
		r.Verdict = RowNew
	case !hasK:
		r.Verdict = RowGone
	default:
		r.Delta = signed(fmtNum(k-b)) + suffix(" ", unit)
	}
	return r
}

func p95Row(metric string, b, k LatencyStats, th Thresholds) CompareRow {
	r := numRow(metric, b.P95, k.P95, b.Count > 0, k.Count > 0, "")
	if r.Verdict != RowOK {
		return r
	}
	d := k.P95 - b.P95
	pct := 0.0
	if b.P95 > 0 {
		pct = 100 * d / b.P95
		r.Delta += fmt.Sprintf(" (%s%%)", signed(fmtNum(pct)))
	}
	// Both conditions must hold: relative change alone is noise at a few ms,
	// absolute change alone is noise at seconds.
	switch {
	case d > th.P95FloorMs && (b.P95 <= 0 || pct > th.P95UpPct):
		r.Verdict, r.Rule = RowRegressed, fmt.Sprintf("P95 up > %g%% and > %g ms", th.P95UpPct, th.P95FloorMs)
	case d > th.P95FloorMs || pct > th.P95UpPct:
		r.Verdict = RowWorse
	case -d > th.P95FloorMs:
		r.Verdict = RowImproved
	}
	return r
}

func dropRow(metric string, b, k float64, hasB, hasK bool, th Thresholds) CompareRow {
	r := numRow(metric, b, k, hasB, hasK, "")
	if r.Verdict != RowOK {
		return r
	}
	if b > 0 {
		pct := 100 * (k - b) / b
		r.Delta += fmt.Sprintf(" (%s%%)", signed(fmtNum(pct)))
		switch {
		case -pct > th.ThroughputDownPct:
			r.Verdict, r.Rule = RowRegressed, fmt.Sprintf("down > %g%%", th.ThroughputDownPct)
		case pct > th.ThroughputDownPct:
			r.Verdict = RowImproved
		}
	}
	return r
}

// likeForLike notes differences that make a comparison apples to oranges.
func likeForLike(b, k *Summary) []string {
	var out []string
	diff := func(what string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("%s differs: base %v, current %v", what, x, y))
		}
	}
	diff("seed", b.TestConfig.Seed, k.TestConfig.Seed)
	diff("concurrency", b.TestConfig.Concurrency, k.TestConfig.Concurrency)
	diff("planned duration (s)", b.TestConfig.TestDuration, k.TestConfig.TestDuration)
	diff("target", b.TestConfig.Target, k.TestConfig.Target)
	diff("profile", b.TestConfig.Profile, k.TestConfig.Profile)
	diff("fsync", onOff(b.TestConfig.Fsync), onOff(k.TestConfig.Fsync))
	if b.Load != nil && k.Load != nil {
		diff("target rate (req/s)", b.Load.TargetRate, k.Load.TargetRate)
	}
	return out
}

func unionKeys(a, b map[string]LatencyStats) []string {
	m := map[string]LatencyStats{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return sortedKeys(m)
}

func fmtIf(ok bool, v float64) string {
	if !ok {
		return "–"
	}
	return fmtNum(v)
}

func fmtSlopeIf(ok bool, v float64) string {
	if !ok {
		return "–"
	}
	return fmtSlope(v)
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || s == "0" {
		return s
	}
	return "+" + s
}

// Text renders the comparison as aligned plain text for a terminal or CI log.
func (c Comparison) Text() string {
	var b strings.Builder
	head := "NO REGRESSION"
	if c.Regressed() {
		head = fmt.Sprintf("REGRESSED (%d)", len(c.Regressions()))
	}
	fmt.Fprintf(&b, "compare: %s\n  base:    %s\n  current: %s\n", head, c.Base, c.Current)
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	rows := [][]string{{"METRIC", "BASE", "CURRENT", "DELTA", "VERDICT"}}
	for _, r := range c.Rows {
		rows = append(rows, []string{r.Metric, r.Base, r.Current, r.Delta, r.Verdict + suffix(": ", r.Rule)})
	}
	width := make([]int, 5)
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		b.WriteString("  ")
		for i, cell := range row {
			if i == len(row)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell + strings.Repeat(" ", width[i]-len([]rune(cell))+2))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Markdown renders the comparison as a markdown table, regressions bold.
func (c Comparison) Markdown() string {
	var b strings.Builder
	if c.Regressed() {
		fmt.Fprintf(&b, "## ⛔ Regressed: %d metric(s)\n\n", len(c.Regressions()))
	} else {
		b.WriteString("## ✅ No regression\n\n")
	}
	fmt.Fprintf(&b, "- base: %s\n- current: %s\n", c.Base, c.Current)
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "- note: %s\n", n)
	}
	b.WriteString("\n| Metric | Base | Current | Delta | Verdict |\n|---|---|---|---|---|\n")
	for _, r := range c.Rows {
		v := mdCell(r.Verdict + suffix(": ", r.Rule))
		if r.Verdict == RowRegressed {
			v = "**" + v + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdCell(r.Metric), mdCell(r.Base), mdCell(r.Current), mdCell(r.Delta), v)
	}
	return b.String()
}
