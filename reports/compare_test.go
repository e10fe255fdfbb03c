package reports

import (
	"strings"
	"testing"
)

func finalized(t *testing.T, mutate func(*Summary)) *Summary {
	s := goSummary(t)
	if mutate != nil {
		mutate(s)
	}
	Finalize(s)
	return s
}

func regressedMetrics(c Comparison) []string {
	var out []string
	for _, r := range c.Regressions() {
		out = append(out, r.Metric)
	}
	return out
}

func TestCompareUnchangedRunHasNoRegression(t *testing.T) {
	c := Compare(finalized(t, nil), finalized(t, nil), Thresholds{})
	if c.Regressed() {
		t.Fatalf("unchanged run regressed: %v\n%s", regressedMetrics(c), c.Text())
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes for identical configs: %v", c.Notes)
	}
	if !strings.Contains(c.Text(), "NO REGRESSION") || !strings.Contains(c.Markdown(), "No regression") {
		t.Error("renderings do not say there is no regression")
	}
}

func TestCompareFlagsEachRegression(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Summary)
		metric string
	}{
		{"P95 overall up 50% and 20 ms", func(s *Summary) { s.Latency.Overall.P95 *= 1.5 }, "P95 overall (ms)"},
		{"P95 of one endpoint up", func(s *Summary) {
			st := s.Latency.PerEndpoint["POST /consume"]
			st.P95 += 40
			s.Latency.PerEndpoint["POST /consume"] = st
		}, "P95 POST /consume (ms)"},
		{"achieved rate down 15%", func(s *Summary) { s.Load.AchievedRate *= 0.85 }, "achieved rate (req/s)"},
		{"error rate up 1 pp", func(s *Summary) { s.Load.Errors += s.Load.Requests / 100 }, "error rate (%)"},
		{"a new unexpected error", func(s *Summary) { s.Load.UnexpectedErrors = 1 }, "unexpected errors"},
		{"memory trend up 0.2 MB/min", func(s *Summary) {
			for i := range s.Memory.Samples {
				s.Memory.Samples[i].RSSBytes += int64(0.2e6 * s.Memory.Samples[i].TS / 60)
			}
		}, "memory trend (MB/min)"},
		{"gate that passed now fails", func(s *Summary) { s.Gate("D").Checks[1].Status = StatusFail }, "gate D - Failure Safety"},
		{"verdict worse", func(s *Summary) { s.Scenarios[5].Status = ScenarioFailed }, "verdict"},
		{"scenario throughput down", func(s *Summary) { s.Scenarios[0].Throughput = 100 }, "scenario credit storm throughput (req/s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(finalized(t, nil), finalized(t, tc.mutate), DefaultThresholds())
			if !c.Regressed() {
				t.Fatalf("not flagged:\n%s", c.Text())
			}
			got := regressedMetrics(c)
			found := false
			for _, m := range got {
				found = found || m == tc.metric
			}
			if !found {
				t.Fatalf("regressed %v, want %q among them\n%s", got, tc.metric, c.Text())
			}
			if !strings.Contains(c.Text(), "REGRESSED") || !strings.Contains(c.Markdown(), "**REGRESSED") {
				t.Error("renderings do not show the regression")
			}
		})
	}
}

func TestCompareIgnoresNoise(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Summary)
	}{
		// +100% but only +2 ms: under the absolute floor.
		{"P95 doubling at a few ms", func(s *Summary) { s.Latency.Overall.P95 = 4; s.Latency.PerEndpoint = nil }},
		{"P95 up 10%", func(s *Summary) { s.Latency.Overall.P95 *= 1.1 }},
		{"achieved rate down 5%", func(s *Summary) { s.Load.AchievedRate *= 0.95 }},
		{"error rate up 0.05 pp", func(s *Summary) { s.Load.Errors += s.Load.Requests / 2000 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := finalized(t, nil)
			if tc.name == "P95 doubling at a few ms" {
				base.Latency.Overall.P95 = 2
				base.Latency.PerEndpoint = nil
			}
			c := Compare(base, finalized(t, tc.mutate), DefaultThresholds())
			if c.Regressed() {
				t.Fatalf("noise flagged: %v\n%s", regressedMetrics(c), c.Text())
			}
		})
	}
}

func TestCompareNotesRunsThatAreNotLikeForLike(t *testing.T) {
	c := Compare(finalized(t, nil), finalized(t, func(s *Summary) { s.TestConfig.Concurrency = 300; s.TestConfig.Seed = 7 }), Thresholds{})
	joined := strings.Join(c.Notes, "\n")
	if !strings.Contains(joined, "concurrency differs: base 50, current 300") || !strings.Contains(joined, "seed differs") {
		t.Fatalf("notes %q", c.Notes)
	}
}

func TestCompareRowsShowBaseCurrentDeltaVerdict(t *testing.T) {
	c := Compare(finalized(t, nil), finalized(t, func(s *Summary) { s.Load.AchievedRate = 150 }), Thresholds{})
	for _, r := range c.Rows {
		if r.Metric == "achieved rate (req/s)" {
			if r.Base != "199.6" || r.Current != "150" || !strings.HasPrefix(r.Delta, "-49.6 (-24.85") || r.Verdict != RowRegressed || r.Rule == "" {
				t.Fatalf("row %+v", r)
			}
			return
		}
	}
	t.Fatal("no achieved rate row")
}
