package reports

import (
	"math"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

func TestSlopeIsLeastSquares(t *testing.T) {
	cases := []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"exact line", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2},
		{"flat", []float64{0, 1, 2}, []float64{5, 5, 5}, 0},
		{"decreasing", []float64{0, 10, 20}, []float64{30, 20, 10}, -1},
		{"noisy symmetric around a line", []float64{0, 1, 2, 3}, []float64{0, 2, 2, 4}, 1.2},
		{"large x offsets stay exact", []float64{1e9, 1e9 + 1, 1e9 + 2}, []float64{0, 0.5, 1}, 0.5},
		{"one point has no slope", []float64{1}, []float64{2}, 0},
		{"no points", nil, nil, 0},
		{"all xs equal has no slope", []float64{3, 3, 3}, []float64{1, 2, 3}, 0},
		{"length mismatch uses the common prefix", []float64{0, 1, 2, 99}, []float64{0, 1, 2}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Slope(tc.xs, tc.ys); !near(got, tc.want, 1e-9) {
				t.Fatalf("Slope = %v, want %v", got, tc.want)
			}
		})
	}
	if s, i := Fit([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); !near(s, 2, 1e-12) || !near(i, 1, 1e-12) {
		t.Fatalf("Fit = %v, %v; want 2, 1", s, i)
	}
}

func TestFromHDRConvertsMicrosecondsToMilliseconds(t *testing.T) {
	h := hdrhistogram.New(1, 60_000_000, 3)
	for v := int64(1); v <= 1000; v++ {
		if err := h.RecordValue(v * 1000); err != nil { // 1..1000 ms in µs
			t.Fatal(err)
		}
	}
	st := FromHDR(h)
	if st.Count != 1000 {
		t.Fatalf("count %d", st.Count)
	}
	// HDR with 3 significant digits: within 0.1% of the exact value.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", st.P50, 500}, {"p90", st.P90, 900}, {"p95", st.P95, 950}, {"p99", st.P99, 990}, {"p999", st.P999, 999}, {"max", st.Max, 1000}, {"mean", st.Mean, 500.5}} {
		if !near(c.got, c.want, c.want*0.001+0.001) {
			t.Errorf("%s = %v ms, want ≈ %v ms", c.name, c.got, c.want)
		}
	}
	if (FromHDR(nil) != LatencyStats{}) || (FromHDR(hdrhistogram.New(1, 10, 1)) != LatencyStats{}) {
		t.Error("empty histogram must give zero stats")
	}
}

func TestCurveFromHDRIsMonotonicAndEndsAt9999(t *testing.T) {
	h := latencyHist(t, 10_000, 50_000)
	c := CurveFromHDR(h)
	if len(c) != len(CurvePercentiles) || c[len(c)-1].Percentile != 99.99 {
		t.Fatalf("curve %v", c)
	}
	for i := 1; i < len(c); i++ {
		if c[i].Ms < c[i-1].Ms || c[i].Percentile <= c[i-1].Percentile {
			t.Fatalf("curve not monotonic at %d: %v then %v", i, c[i-1], c[i])
		}
	}
	if CurveFromHDR(nil) != nil {
		t.Error("nil histogram must give no curve")
	}
}

func TestAnalyzeMemoryFitsOnlyTheSteadyState(t *testing.T) {
	var samples []MemorySample
	for i := 0; i <= 30; i++ {
		ts := float64(i * 60) // one sample a minute
		rss := 50e6 + 0.2e6*float64(i)
		if i < 5 {
			rss = 10e6 * float64(i) // warm-up ramp that must not count
		}
		samples = append(samples, MemorySample{TS: ts, RSSBytes: int64(rss), Goroutines: 10 + int64(i), FDs: 7})
	}
	m := AnalyzeMemory(samples, 300)
	if !near(m.SlopeMBPerMin, 0.2, 1e-9) {
		t.Errorf("slope %v MB/min, want 0.2", m.SlopeMBPerMin)
	}
	if !near(m.GoroutineSlope, 1, 1e-9) || !near(m.FDSlope, 0, 1e-9) {
		t.Errorf("goroutine slope %v, fd slope %v", m.GoroutineSlope, m.FDSlope)
	}
	if m.steadySamples() != 26 {
		t.Errorf("steady samples %d, want 26", m.steadySamples())
	}
}

func TestNinesMapsPercentilesToTheLogAxis(t *testing.T) {
	for p, want := range map[float64]float64{0: 0, 90: 1, 99: 2, 99.9: 3, 99.99: 4, 100: 4} {
		if got := nines(p); !near(got, want, 1e-9) {
			t.Errorf("nines(%v) = %v, want %v", p, got, want)
		}
	}
}
