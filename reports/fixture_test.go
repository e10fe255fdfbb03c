package reports

import (
	"math"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// r3 rounds fixture values so that golden files do not depend on the last
// bits of math.Sin or fused multiply-add on the test machine.
func r3(v float64) float64 { return math.Round(v*1000) / 1000 }

var fixedTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// latencyHist records a deterministic latency distribution in microseconds:
// mostly around baseUs, with a tail up to 20× baseUs.
func latencyHist(t testing.TB, baseUs int64, n int) *hdrhistogram.Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 60_000_000, 3)
	for i := 0; i < n; i++ {
		v := baseUs + int64(i%97)*baseUs/50
		if i%100 == 0 {
			v = baseUs * int64(2+(i/100)%20)
		}
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// passingGates is every gate passing with a check or two each.
func passingGates() []GateDetail {
	return []GateDetail{
		{ID: "A", Checks: []Check{
			{Name: "each idempotency key once in the journal", Status: "pass", Measured: "0 duplicates", Threshold: "0", Critical: true},
			{Name: "seq gapless and increasing", Status: "pass", Measured: "1..20412", Threshold: "no gap"},
		}},
		{ID: "B", Checks: []Check{
			{Name: "reference fold equals API", Status: "pass", Measured: "0 differences", Threshold: "0"},
			{Name: "no negative balance", Status: "pass", Measured: "min 0.250 credits", Threshold: "≥ 0", Critical: true},
		}},
		{ID: "C", Checks: []Check{
			{Name: "at most one final decision per request", Status: "pass", Measured: "max 1", Threshold: "≤ 1", Critical: true},
		}},
		{ID: "D", Checks: []Check{
			{Name: "no crash on KARMA blackout", Status: "pass", Measured: "0 crashes", Threshold: "0", Critical: true},
			{Name: "fallback CI recorded", Status: "pass", Measured: "0.5", Threshold: "= 0.5"},
		}},
		{ID: "E", Checks: []Check{
			{Name: "P95 overall", Status: "pass", Measured: "41.2 ms", Threshold: "< 500 ms"},
			{Name: "achieved rate", Status: "pass", Measured: "99.8%", Threshold: "≥ 99% of target"},
		}},
	}
}

func passingScenarios() []Scenario {
	names := []string{"credit storm", "synergy anti-gaming", "approval race", "karma blackout", "ml chaos", "crash replay"}
	out := make([]Scenario, len(names))
	for i, n := range names {
		out[i] = Scenario{Name: n, Status: ScenarioPassed, Duration: Seconds(10 + i), Throughput: 250 + float64(i),
			P95Latency: 20 + float64(i), InvariantsPassed: true, Metrics: map[string]any{"operations": float64(1000 * (i + 1))}}
	}
	return out
}

// goSummary is a complete, passing run: the verdict must be GO.
func goSummary(t testing.TB) *Summary {
	h := latencyHist(t, 20_000, 20_000)
	consume := latencyHist(t, 25_000, 10_000)
	s := &Summary{
		Timestamp: fixedTime, Branch: "main", Commit: "0123abcd",
		TestConfig: TestConfig{Concurrency: 50, TestDuration: 600, Seed: 42, Target: "container", Fsync: Bool(true),
			KarmaEnabled: Bool(true), MLAnomalyInjection: Bool(true), RetryInjection: Bool(true), Profile: "ci"},
		Scenarios:   passingScenarios(),
		GateDetails: passingGates(),
		Latency: &Latency{Overall: FromHDR(h),
			PerEndpoint: map[string]LatencyStats{"POST /consume": FromHDR(consume)},
			PerPhase:    map[string]LatencyStats{"steady": FromHDR(h)}},
		LatencyCurve: CurveFromHDR(h),
		Load:         &LoadStats{TargetRate: 200, AchievedRate: 199.6, DurationS: 600, Requests: 119760, Errors: 12},
		Facts:        Facts{Seed: 42, ReproCommand: "SEED=42 make gates"},
	}
	ts := &Timeseries{IntervalS: 10}
	for i := 0; i <= 60; i++ {
		x := float64(i)
		ts.Points = append(ts.Points, TimeseriesPoint{TS: x * 10, Rate: r3(199 + math.Sin(x/3)),
			P50Ms: r3(18 + math.Sin(x/5)), P95Ms: r3(40 + 3*math.Sin(x/4)), P99Ms: r3(70 + 8*math.Sin(x/3)), Errors: int64(i % 2)})
	}
	s.Timeseries = ts
	var samples []MemorySample
	for i := 0; i <= 60; i++ {
		x := float64(i * 10)
		rss := math.Round(80e6 + 2e6*math.Min(x, 60)/60 + 30e3*math.Sin(x/7)) // warm-up growth, then flat
		samples = append(samples, MemorySample{TS: x, RSSBytes: int64(rss), HeapBytes: int64(rss / 2), Goroutines: 40, FDs: 25})
	}
	m := AnalyzeMemory(samples, 60)
	s.Memory = &m
	return s
}

// noGoSummary fails gate A, a critical check of C, three scenarios and the memory budget.
func noGoSummary(t testing.TB) *Summary {
	s := goSummary(t)
	s.Commit = "fedcba98"
	s.GateDetails[0].Checks[1] = Check{Name: "seq gapless and increasing", Status: "fail", Measured: "gap at seq 1042", Threshold: "no gap",
		Detail: "seq 1041 followed by 1043 | after crash", Repro: "SEED=42 make gate-a"}
	s.GateDetails[2].Checks = append(s.GateDetails[2].Checks, Check{Name: "expired requests cannot be decided", Status: "warn",
		Measured: "1 late decision", Threshold: "0", Detail: "clock skew <2 ms> at expiry"})
	s.GateDetails[3].Checks[1] = Check{Name: "fallback CI recorded", Status: "skip", Detail: "url target: no KARMA control"}
	for i := 0; i < 3; i++ {
		s.Scenarios[i].Status = ScenarioFailed
		s.Scenarios[i].InvariantsPassed = i != 0
	}
	s.Facts.IdempotencyViolations = 2
	var samples []MemorySample
	for i := 0; i <= 60; i++ {
		x := float64(i * 10)
		samples = append(samples, MemorySample{TS: x, RSSBytes: int64(80e6 + 1.5e6*x/60), Goroutines: int64(40 + i), FDs: 25})
	}
	m := AnalyzeMemory(samples, 60)
	s.Memory = &m
	return s
}
