package reports

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// bytesPerMB is a decimal megabyte: the memory budget (0.1 MB/min) reads the
// same in every tool, and decimal is the stricter of the two conventions.
const bytesPerMB = 1e6

// CurvePercentiles are the points of the latency percentile curve: dense where
// tails live, up to 99.99 (the plot's right edge).
var CurvePercentiles = []float64{
	0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99,
	99.5, 99.9, 99.95, 99.99,
}

// Fit returns the least-squares line y = slope*x + intercept. With fewer than
// two points, or all xs equal, the slope is 0 and the intercept the mean of ys.
func Fit(xs, ys []float64) (slope, intercept float64) {
	n := min(len(xs), len(ys))
	if n == 0 {
		return 0, 0
	}
	var mx, my float64
	for i := 0; i < n; i++ {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	// Centered sums: numerically stable for large x (seconds into a long soak).
	var sxy, sxx float64
	for i := 0; i < n; i++ {
		dx := xs[i] - mx
		sxy += dx * (ys[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, my
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}

// Slope is the least-squares slope of ys over xs (0 if undefined).
func Slope(xs, ys []float64) float64 {
	s, _ := Fit(xs, ys)
	return s
}

// usToMs converts a histogram value recorded in microseconds to milliseconds.
func usToMs(v int64) float64 { return float64(v) / 1000 }

// FromHDR summarises a histogram whose values are in microseconds; the result is in ms.
func FromHDR(h *hdrhistogram.Histogram) LatencyStats {
	if h == nil || h.TotalCount() == 0 {
		return LatencyStats{}
	}
	return LatencyStats{
		P50:   usToMs(h.ValueAtPercentile(50)),
		P90:   usToMs(h.ValueAtPercentile(90)),
		P95:   usToMs(h.ValueAtPercentile(95)),
		P99:   usToMs(h.ValueAtPercentile(99)),
		P999:  usToMs(h.ValueAtPercentile(99.9)),
		Max:   usToMs(h.Max()),
		Mean:  math.Round(h.Mean()) / 1000,
		Count: h.TotalCount(),
	}
}

// CurveFromHDR returns the percentile curve (CurvePercentiles) of a histogram
// in microseconds, in ms; nil for an empty histogram.
func CurveFromHDR(h *hdrhistogram.Histogram) []CurvePoint {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	out := make([]CurvePoint, 0, len(CurvePercentiles))
	for _, p := range CurvePercentiles {
		out = append(out, CurvePoint{Percentile: p, Ms: usToMs(h.ValueAtPercentile(p))})
	}
	return out
}

// AnalyzeMemory fits the steady-state trends of the samples (those at or after
// steadyFromS): RSS in MB/min, goroutines and file descriptors per minute.
func AnalyzeMemory(samples []MemorySample, steadyFromS float64) Memory {
	return AnalyzeMemoryWindow(samples, steadyFromS, 0)
}

// AnalyzeMemoryWindow fits the trends over the samples within
// [steadyFromS, steadyUntilS]; steadyUntilS 0 means to the end (e.g. a
// final spike phase is load, not a trend, and is left out).
func AnalyzeMemoryWindow(samples []MemorySample, steadyFromS, steadyUntilS float64) Memory {
	m := Memory{Samples: samples, SteadyStateFromS: steadyFromS, SteadyStateUntilS: steadyUntilS}
	var ts, rss, gor, fds []float64
	for _, smp := range samples {
		if !m.inSteadyState(smp.TS) {
			continue
		}
		minutes := smp.TS / 60
		ts = append(ts, minutes)
		rss = append(rss, float64(smp.RSSBytes)/bytesPerMB)
		gor = append(gor, float64(smp.Goroutines))
		fds = append(fds, float64(smp.FDs))
	}
	m.SlopeMBPerMin = round9(Slope(ts, rss))
	m.GoroutineSlope = round9(Slope(ts, gor))
	m.FDSlope = round9(Slope(ts, fds))
	return m
}

// round9 drops float noise below a nano-unit, so that summary.json is the
// same on every architecture (fused multiply-add differs in the last bits)
// while staying far below any budget's resolution.
func round9(v float64) float64 { return math.Round(v*1e9)/1e9 + 0 }

// steadySamples counts the samples the slopes are fitted over.
func (m *Memory) steadySamples() int {
	n := 0
	for _, s := range m.Samples {
		if m.inSteadyState(s.TS) {
			n++
		}
	}
	return n
}

func (m *Memory) inSteadyState(ts float64) bool {
	return ts >= m.SteadyStateFromS && (m.SteadyStateUntilS <= 0 || ts <= m.SteadyStateUntilS)
}
