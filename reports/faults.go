package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FaultsFile is the fault windows a suite saved beside its history.jsonl,
// one JSON object per line on the history's clock (scenarios/history
// Window: fault, start_ns, end_ns, detail). Read here as a file, like the
// rest of the run's evidence.
const FaultsFile = "faults.jsonl"

// Limits on what a fault timeline reads: a suite injects a handful of
// faults; a soak's history has a few hundred thousand operations.
const (
	maxFaultWindows  = 4096
	maxTimelineOps   = 2_000_000
	maxTimelinePoint = 240
)

// FaultTimeline is one history's latency over time with the fault windows
// injected during it, both on that history's clock (seconds since its
// base): what the report draws as shaded bands on a latency plot.
type FaultTimeline struct {
	// Name is where the history was saved, e.g. "gate-D/power-cut".
	Name string `json:"name"`
	// Points are the operations' latency per interval, by return time.
	Points  []TimeseriesPoint `json:"points,omitempty"`
	Windows []FaultWindow     `json:"windows"`
}

// FaultWindow is one injected fault: when it started and ended (EndS
// equals StartS for an instantaneous one; Open while never healed).
type FaultWindow struct {
	Fault  string  `json:"fault"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	Open   bool    `json:"open,omitempty"`
	Detail string  `json:"detail,omitempty"`
}

// faultTimelines reads every gate-*/faults.jsonl and gate-*/*/faults.jsonl
// of a run directory with the history.jsonl beside it.
func faultTimelines(dir string) []FaultTimeline {
	var files []string
	for _, pat := range []string{filepath.Join(dir, "gate-*", FaultsFile), filepath.Join(dir, "gate-*", "*", FaultsFile)} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	sort.Strings(files)
	var out []FaultTimeline
	for _, f := range files {
		rel, err := filepath.Rel(dir, filepath.Dir(f))
		if err != nil {
			continue
		}
		tl, err := ReadFaultTimeline(filepath.Dir(f))
		if err != nil || len(tl.Windows) == 0 {
			continue
		}
		tl.Name = filepath.ToSlash(rel)
		out = append(out, tl)
	}
	return out
}

// ReadFaultTimeline reads dir's faults.jsonl and, when present, its
// history.jsonl (call_ns and return_ns of each operation).
func ReadFaultTimeline(dir string) (FaultTimeline, error) {
	var tl FaultTimeline
	f, err := os.Open(filepath.Join(dir, FaultsFile))
	if err != nil {
		return tl, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	for len(tl.Windows) < maxFaultWindows {
		var w struct {
			Fault   string `json:"fault"`
			StartNs int64  `json:"start_ns"`
			EndNs   int64  `json:"end_ns"`
			Detail  string `json:"detail"`
		}
		if err := dec.Decode(&w); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return tl, err
		}
		fw := FaultWindow{Fault: w.Fault, StartS: seconds(w.StartNs), EndS: seconds(w.EndNs), Detail: w.Detail}
		if w.EndNs == 0 {
			fw.Open, fw.EndS = true, fw.StartS
		}
		tl.Windows = append(tl.Windows, fw)
	}
	if h, err := os.Open(filepath.Join(dir, "history.jsonl")); err == nil {
		defer h.Close()
		tl.Points = latencyPoints(h)
	}
	// An open window lasts to the end of what was recorded.
	end := 0.0
	for _, p := range tl.Points {
		end = math.Max(end, p.TS)
	}
	for i, w := range tl.Windows {
		if w.Open {
			tl.Windows[i].EndS = math.Max(w.StartS, end)
		}
	}
	return tl, nil
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// latencyPoints buckets the history's operations by return time into at
// most maxTimelinePoint intervals and gives each its latency percentiles.
func latencyPoints(r io.Reader) []TimeseriesPoint {
	type op struct{ ret, lat float64 }
	var ops []op
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() && len(ops) < maxTimelineOps {
		var o struct {
			CallNs   int64 `json:"call_ns"`
			ReturnNs int64 `json:"return_ns"`
		}
		if json.Unmarshal(sc.Bytes(), &o) != nil || o.ReturnNs < o.CallNs {
			continue
		}
		ops = append(ops, op{seconds(o.ReturnNs), float64(o.ReturnNs-o.CallNs) / 1e6})
	}
	if len(ops) == 0 {
		return nil
	}
	end := 0.0
	for _, o := range ops {
		end = math.Max(end, o.ret)
	}
	step := math.Max(0.1, end/maxTimelinePoint)
	buckets := map[int][]float64{}
	for _, o := range ops {
		i := int(o.ret / step)
		buckets[i] = append(buckets[i], o.lat)
	}
	keys := make([]int, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([]TimeseriesPoint, 0, len(keys))
	for _, k := range keys {
		l := buckets[k]
		sort.Float64s(l)
		out = append(out, TimeseriesPoint{TS: (float64(k) + 0.5) * step, P50Ms: nearestRank(l, 50), P95Ms: nearestRank(l, 95), P99Ms: nearestRank(l, 99),
			Rate: float64(len(l)) / step})
	}
	return out
}

// nearestRank is the nearest-rank percentile of sorted values.
func nearestRank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// plotIDFor is a stable plot id for a timeline's name.
func plotIDFor(name string) string {
	return PlotLatencyTime + "-" + strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(name))
}
