package load

import (
	"fmt"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/creditgate/creditgate/scenarios/history"
)

// Histogram geometry: microseconds, 1µs..60s, 3 significant figures.
const (
	histMinUs  = 1
	histMaxUs  = 60_000_000
	histDigits = 3
)

// NewHistogram returns a latency histogram with the package's geometry
// (values in microseconds).
func NewHistogram() *hdr.Histogram { return hdr.New(histMinUs, histMaxUs, histDigits) }

// Result is what one Run measured. Histograms are in microseconds and
// measured from each hit's intended send time (see docs/load.md).
type Result struct {
	Seed    uint64
	Started time.Time // the monotonic base of History call/return times (History.Base())
	// AttackStart is when the first hit was due, relative to Started.
	AttackStart time.Duration
	// Duration is the wall time of the attack (first hit due → last response).
	Duration time.Duration

	// TargetRate and AchievedRate are over the non-warmup phases:
	// intended hits / time and (ok + expected responses of those hits) / time.
	TargetRate   float64
	AchievedRate float64

	// Overall and Endpoints exclude warmup phases; Phases have their own.
	Overall   *hdr.Histogram
	Endpoints map[string]*hdr.Histogram
	Phases    []PhaseResult
	// Status counts responses per endpoint and HTTP status (0 = transport
	// error or timeout), setup included.
	Status map[string]map[int]int64

	Requests   int64 // every request, including retries and follow-ups, excluding setup
	OK         int64
	Expected   int64 // expected business refusals (409 insufficient_credits)
	Unexpected int64 // everything else non-2xx, transport errors and timeouts
	Unknown    int64 // of Unexpected: timeouts, transport errors, 5xx
	// Clamped counts latencies above the histogram's 60s ceiling (recorded as 60s).
	Clamped int64

	ExpectedSamples   []ErrorSample
	UnexpectedSamples []ErrorSample

	// Intended is the number of hits the pacers scheduled; Sent of those,
	// how many were sent; Unsent = Intended − Sent (the attack ended while
	// they still waited for a free worker).
	Intended, Sent, Unsent uint64

	// RetriesSent counts copies sent with an earlier request's key
	// (immediate retries and concurrent duplicates). Whether they returned
	// the original result is judged by gates/audit over History.
	RetriesSent int64

	Timeseries []Interval
	// History is every request of the run (setup, reads and follow-ups
	// included), recorded through the one history.
	History *history.Recorder
	// SetupErrors lists unexpected setup outcomes (Run fails when non-empty).
	SetupErrors []ErrorSample
}

// PhaseResult is one phase's share of the run.
type PhaseResult struct {
	Name         string
	Start        time.Duration // offset from the attack start
	Duration     time.Duration
	Warmup       bool
	Intended     uint64 // hits scheduled in the phase
	Sent         uint64
	Good         uint64 // ok or expected primary responses
	TargetRate   float64
	AchievedRate float64
	Hist         *hdr.Histogram
}

// Interval is one timeseries point, bucketed by completion time.
type Interval struct {
	Start    time.Duration // offset from the attack start
	Duration time.Duration
	Count    int64
	Rate     float64 // completed requests per second
	OK       int64
	Expected int64
	Errors   int64 // unexpected
	P50Ms    float64
	P95Ms    float64
	P99Ms    float64
	MaxMs    float64
}

// ErrorSample is one example of an error class.
type ErrorSample struct {
	Endpoint string        `json:"endpoint"`
	OpID     uint64        `json:"op_id"`
	Status   int           `json:"status"`
	Code     string        `json:"code,omitempty"`
	Detail   string        `json:"detail,omitempty"`
	At       time.Duration `json:"at"` // since Started
}

func (e ErrorSample) String() string {
	return fmt.Sprintf("%s op %d: status %d %s %s", e.Endpoint, e.OpID, e.Status, e.Code, e.Detail)
}

// Percentile returns the q-th percentile (0..100) of h as a duration.
func Percentile(h *hdr.Histogram, q float64) time.Duration {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond
}

// LatencySummary is a histogram reduced to the numbers reports print.
type LatencySummary struct {
	Name  string  `json:"name"`
	Count int64   `json:"count"`
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// Summarize reduces h.
func Summarize(name string, h *hdr.Histogram) LatencySummary {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	s := LatencySummary{Name: name}
	if h == nil || h.TotalCount() == 0 {
		return s
	}
	s.Count = h.TotalCount()
	s.P50Ms, s.P95Ms, s.P99Ms = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(95)), ms(h.ValueAtQuantile(99))
	s.MaxMs = ms(h.Max())
	return s
}

// EndpointSummaries returns one summary per endpoint, sorted by name.
func (r *Result) EndpointSummaries() []LatencySummary {
	names := make([]string, 0, len(r.Endpoints))
	for n := range r.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]LatencySummary, 0, len(names))
	for _, n := range names {
		out = append(out, Summarize(n, r.Endpoints[n]))
	}
	return out
}

// RateRatio is AchievedRate / TargetRate (1 when nothing was targeted).
func (r *Result) RateRatio() float64 {
	if r.TargetRate == 0 {
		return 1
	}
	return r.AchievedRate / r.TargetRate
}
