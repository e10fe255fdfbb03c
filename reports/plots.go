package reports

import (
	"fmt"
	"html/template"
)

// Plot ids: stable, so that tests and readers can find each plot.
const (
	PlotLatencyCurve = "plot-latency-percentiles"
	PlotLatencyTime  = "plot-latency-over-time"
	PlotThroughput   = "plot-throughput"
	PlotMemory       = "plot-memory"
)

// PlotIDs lists every plot report.html contains, in page order.
var PlotIDs = []string{PlotLatencyCurve, PlotLatencyTime, PlotThroughput, PlotMemory}

// plots builds the four plots of report.html, then one latency-over-time
// plot per history that recorded fault windows, the windows shaded.
func plots(s *Summary) []template.HTML {
	out := []template.HTML{
		latencyCurvePlot(s).svg(),
		latencyTimePlot(s).svg(),
		throughputPlot(s).svg(),
		memoryPlot(s).svg(),
	}
	for _, tl := range s.Faults {
		out = append(out, faultTimePlot(tl).svg())
	}
	return out
}

// faultTimePlot is the latency of one history's operations over time with
// the faults injected during it as shaded bands.
func faultTimePlot(tl FaultTimeline) *plot {
	p := &plot{
		id: plotIDFor(tl.Name), title: "Latency over time under faults: " + tl.Name,
		xLabel: "time since the history's start (s)", yLabel: "latency (ms)",
		emptyReason: "no operations recorded",
	}
	var t, p50, p99 []float64
	maxMs := 0.0
	for _, pt := range tl.Points {
		t = append(t, pt.TS)
		p50, p99 = append(p50, pt.P50Ms), append(p99, pt.P99Ms)
		maxMs = max(maxMs, pt.P99Ms)
	}
	p.series = []series{
		{name: "p50", color: colorGreen, xs: t, ys: p50},
		{name: "p99", color: colorRed, xs: t, ys: p99},
	}
	if len(t) > 0 {
		p.refs = budgetRef(maxMs)
	}
	p.bands = bandsOf(tl.Windows)
	p.note = fmt.Sprintf("%d fault window(s)", len(tl.Windows))
	return p
}

func bandsOf(ws []FaultWindow) []band {
	out := make([]band, 0, len(ws))
	for _, w := range ws {
		label := w.Fault
		if w.Open {
			label += " (never healed)"
		}
		out = append(out, band{lo: w.StartS, hi: w.EndS, label: label, detail: w.Detail})
	}
	return out
}

// budgetRef adds the P95 budget line only when latencies come near it; a
// 500 ms line over 5 ms data would flatten the curve into the axis.
func budgetRef(maxMs float64) []refLine {
	if maxMs < P95GoMs/2 {
		return nil
	}
	return []refLine{{v: P95GoMs, label: fmt.Sprintf("P95 budget %g ms", P95GoMs), color: colorRed}}
}

func latencyCurvePlot(s *Summary) *plot {
	p := &plot{
		id: PlotLatencyCurve, title: "Latency by percentile (overall)",
		xLabel: "percentile (log scale of nines)", yLabel: "latency (ms)",
		emptyReason: "no latency histogram recorded",
		xTicks:      []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}},
	}
	lo, hi := 0.0, 4.0
	p.xMin, p.xMax = &lo, &hi
	var xs, ys []float64
	maxMs := 0.0
	for _, c := range s.LatencyCurve {
		if c.Percentile < 0 || c.Percentile > 99.99 {
			continue
		}
		xs = append(xs, nines(c.Percentile))
		ys = append(ys, c.Ms)
		maxMs = max(maxMs, c.Ms)
	}
	p.series = []series{{name: "latency", color: colorBlue, xs: xs, ys: ys}}
	if len(xs) > 0 {
		p.refs = budgetRef(maxMs)
		if s.Latency != nil {
			p.note = fmt.Sprintf("P95 %s · P99 %s · max %s", fmtMs(s.Latency.Overall.P95), fmtMs(s.Latency.Overall.P99), fmtMs(s.Latency.Overall.Max))
		}
	}
	return p
}

func latencyTimePlot(s *Summary) *plot {
	p := &plot{
		id: PlotLatencyTime, title: "Latency over time",
		xLabel: "time since start (s)", yLabel: "latency (ms)",
		emptyReason: "no time series recorded",
	}
	var t, p50, p95, p99 []float64
	maxMs := 0.0
	if s.Timeseries != nil {
		for _, pt := range s.Timeseries.Points {
			t = append(t, pt.TS)
			p50, p95, p99 = append(p50, pt.P50Ms), append(p95, pt.P95Ms), append(p99, pt.P99Ms)
			maxMs = max(maxMs, pt.P99Ms)
		}
	}
	p.series = []series{
		{name: "p50", color: colorGreen, xs: t, ys: p50},
		{name: "p95", color: colorOrange, xs: t, ys: p95},
		{name: "p99", color: colorRed, xs: t, ys: p99},
	}
	if len(t) > 0 {
		p.refs = budgetRef(maxMs)
	}
	return p
}

func throughputPlot(s *Summary) *plot {
	p := &plot{
		id: PlotThroughput, title: "Throughput: achieved vs target",
		xLabel: "time since start (s)", yLabel: "requests/s",
		emptyReason: "no time series recorded",
	}
	var t, rate, target []float64
	perPointTarget := false
	if s.Timeseries != nil {
		for _, pt := range s.Timeseries.Points {
			t = append(t, pt.TS)
			rate = append(rate, pt.Rate)
			target = append(target, pt.TargetRate)
			perPointTarget = perPointTarget || pt.TargetRate > 0
		}
	}
	p.series = []series{{name: "achieved", color: colorBlue, xs: t, ys: rate}}
	switch {
	case len(t) == 0:
	case perPointTarget:
		p.series = append(p.series, series{name: "target", color: colorGray, xs: t, ys: target, dashed: true})
	case s.Load != nil && s.Load.TargetRate > 0:
		p.refs = []refLine{{v: s.Load.TargetRate, label: fmt.Sprintf("target %s req/s", fmtNum(s.Load.TargetRate)), color: colorGray}}
	}
	if len(t) > 0 && s.Load != nil {
		p.note = fmt.Sprintf("achieved %s of %s req/s", fmtNum(s.Load.AchievedRate), fmtNum(s.Load.TargetRate))
	}
	return p
}

func memoryPlot(s *Summary) *plot {
	p := &plot{
		id: PlotMemory, title: "Memory (RSS) over time",
		xLabel: "time since start (s)", yLabel: "RSS (MB)",
		emptyReason: "no memory samples recorded",
	}
	m := s.Memory
	if m == nil {
		p.series = []series{{name: "RSS"}}
		return p
	}
	var t, rss, steadyT, steadyRSS []float64
	for _, smp := range m.Samples {
		mb := float64(smp.RSSBytes) / bytesPerMB
		t, rss = append(t, smp.TS), append(rss, mb)
		if m.inSteadyState(smp.TS) {
			steadyT, steadyRSS = append(steadyT, smp.TS), append(steadyRSS, mb)
		}
	}
	p.series = []series{{name: "RSS", color: colorBlue, xs: t, ys: rss}}
	if len(steadyT) >= 2 {
		// The drawn trend is the same least-squares fit the verdict uses.
		slope, icpt := Fit(steadyT, steadyRSS)
		a, z := steadyT[0], steadyT[len(steadyT)-1]
		p.series = append(p.series, series{
			name: "least-squares trend", color: colorRed, dashed: true,
			xs: []float64{a, z}, ys: []float64{slope*a + icpt, slope*z + icpt},
		})
	}
	if m.SteadyStateFromS > 0 && len(t) > 0 {
		p.refs = []refLine{{v: m.SteadyStateFromS, label: "steady state", color: colorGray, vertical: true}}
	}
	if len(t) > 0 {
		p.note = fmt.Sprintf("trend %s MB/min (budget < %g)", fmtSlope(m.SlopeMBPerMin), MemGoMBPerMin)
	}
	return p
}
