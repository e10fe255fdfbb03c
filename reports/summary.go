package reports

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Verdicts, worst last. The strings are the original report's overall_status values.
const (
	VerdictGo          = "GO"
	VerdictConditional = "CONDITIONAL"
	VerdictNoGo        = "NO-GO"
	// VerdictIncomplete: nothing measured failed, but critical checks could
	// not be measured (N/A, SKIP, NOT MEASURED). GO needs them measured.
	VerdictIncomplete = "INCOMPLETE"
)

// Scenario statuses (original report values).
const (
	ScenarioPassed  = "passed"
	ScenarioFailed  = "failed"
	ScenarioSkipped = "skipped"
)

// Gate and check statuses.
const (
	StatusPass = "pass"
	StatusWarn = "warn"
	StatusFail = "fail"
	StatusSkip = "skip"
	// StatusNA: the backend does not serve a route the check needs.
	StatusNA = "n/a"
	// StatusNotMeasured: the check ran over nothing (0 samples, 0
	// decisions, only error answers); it never passes.
	StatusNotMeasured = "not measured"
)

// Gate ids A–E and their names; GateKey joins them into the original report's
// `gates` map key ("A - Event Integrity").
var (
	GateIDs   = []string{"A", "B", "C", "D", "E"}
	GateNames = map[string]string{
		"A": "Event Integrity",
		"B": "Projection Integrity",
		"C": "Human Gate Safety",
		"D": "Failure Safety",
		"E": "Load Reality",
	}
)

// GateKey returns the original report's key for a gate id, e.g. "A - Event Integrity".
func GateKey(id string) string { return id + " - " + GateNames[id] }

// CriticalGate reports whether gate id is critical: A and B guard the
// record and the money, so their failing, warning or skipping alone is
// NO-GO (SPEC §8). Per-check criticality comes with each check instead.
func CriticalGate(id string) bool { return id == "A" || id == "B" }

// Summary is summary.json: a superset of the original live-test report. The
// fields up to Recommendation are the original ones; the rest is our detail.
// Units: durations in seconds, latencies in milliseconds, rates in requests/s,
// memory slopes in MB/min with 1 MB = 1,000,000 bytes.
type Summary struct {
	Timestamp      time.Time       `json:"timestamp"`
	Branch         string          `json:"branch"`
	Commit         string          `json:"commit"`
	TestConfig     TestConfig      `json:"test_config"`
	Scenarios      []Scenario      `json:"scenarios"`
	Gates          map[string]bool `json:"gates"`
	OverallStatus  string          `json:"overall_status"`
	Recommendation string          `json:"recommendation"`

	// VerdictReasons are Decide's reasons for OverallStatus, worst first.
	VerdictReasons []string `json:"verdict_reasons"`
	// Caveats are facts a reader must know that do not change the verdict
	// (e.g. fsync disabled).
	Caveats      []string     `json:"caveats,omitempty"`
	GateDetails  []GateDetail `json:"gate_details"`
	Latency      *Latency     `json:"latency,omitempty"`
	Load         *LoadStats   `json:"load,omitempty"`
	Memory       *Memory      `json:"memory,omitempty"`
	Timeseries   *Timeseries  `json:"timeseries,omitempty"`
	LatencyCurve []CurvePoint `json:"latency_curve,omitempty"`
	// Faults are the histories that recorded fault windows (gates/fault),
	// each with its latency over time: drawn as shaded bands.
	Faults []FaultTimeline `json:"faults,omitempty"`
	Facts  Facts           `json:"facts"`
	// Focus are the catalog checks a focused run selected (`creditgate
	// gates --checks`): only the specs recording them ran, so the run
	// cannot sign off.
	Focus []string `json:"focus,omitempty"`
	// Measurement counts the checks measured against those that applied.
	Measurement *Measurement      `json:"measurement,omitempty"`
	Artifacts   []string          `json:"artifacts,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// TestConfig is the run's parameters (SPEC §8 Parameters).
type TestConfig struct {
	Concurrency int `json:"concurrency"`
	// TestDuration is the planned run length in seconds.
	TestDuration Seconds `json:"test_duration"`
	Seed         int64   `json:"seed"`
	Target       string  `json:"target,omitempty"`
	// The switches are pointers: nil means "not recorded" (reports of the
	// original harness lack them) and is shown as unknown, never as false.
	Fsync              *bool  `json:"fsync,omitempty"`
	KarmaEnabled       *bool  `json:"karma_enabled,omitempty"`
	MLAnomalyInjection *bool  `json:"ml_anomaly_injection,omitempty"`
	RetryInjection     *bool  `json:"retry_injection,omitempty"`
	Profile            string `json:"profile,omitempty"`
	// Routes says which catalog routes the target serves and how that was
	// found ("target implements 11 of 44 catalog routes (probes); …").
	Routes string `json:"routes,omitempty"`
}

// Bool returns a pointer to b, for the TestConfig switches.
func Bool(b bool) *bool { return &b }

// Scenario is one of the six scenarios' results (original shape plus Critical,
// Detail and Repro).
type Scenario struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Duration in seconds, Throughput in requests/s, P95Latency in ms.
	Duration         Seconds        `json:"duration"`
	Throughput       float64        `json:"throughput"`
	P95Latency       float64        `json:"p95_latency"`
	Errors           int64          `json:"errors"`
	Metrics          map[string]any `json:"metrics,omitempty"`
	InvariantsPassed bool           `json:"invariants_passed"`
	// Critical marks a scenario whose failure alone is NO-GO.
	Critical bool   `json:"critical,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Repro    string `json:"repro,omitempty"`
}

// GateDetail is one hard gate with its checks. Status is derived from the
// checks by Finalize when there are any.
type GateDetail struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Critical gates (A and B) make the run NO-GO when they fail, warn or skip.
	Critical bool `json:"critical"`
	// Detail says why a gate has no checks (not run, skipped and why).
	Detail string  `json:"detail,omitempty"`
	Checks []Check `json:"checks"`
}

// Check is one exact check of a gate: what was measured against which
// threshold. Measured and Threshold are display strings ("612 ms", "< 500 ms")
// so that any unit can be shown honestly.
type Check struct {
	// ID is the catalog ID ("A8"); Name starts with it.
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Measured  string `json:"measured"`
	Threshold string `json:"threshold"`
	Detail    string `json:"detail,omitempty"`
	Repro     string `json:"repro,omitempty"`
	// Critical marks a check whose failure alone is NO-GO in any gate (SPEC §8:
	// negative balance, idempotency violation, more than one final approval
	// decision, crash on a dependency outage). On a skipped check it says the
	// missing evidence is critical.
	Critical bool `json:"critical,omitempty"`
	// Samples is how many things the check judged.
	Samples int `json:"samples,omitempty"`
	// Blocked marks a skipped check that did not run because something else
	// failed or the run was interrupted (its evidence is hidden), not by its
	// own choice (a capability the target lacks, a spec filter). Detail
	// says why it did not run.
	Blocked bool `json:"blocked,omitempty"`
}

// LatencyStats summarises one latency distribution, in milliseconds.
type LatencyStats struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Count int64   `json:"count"`
}

// Latency holds the run's latency summaries, measured from the intended send
// time (no coordinated omission).
type Latency struct {
	Overall     LatencyStats            `json:"overall"`
	PerEndpoint map[string]LatencyStats `json:"per_endpoint,omitempty"`
	PerPhase    map[string]LatencyStats `json:"per_phase,omitempty"`
}

// LoadStats is the open-model load result of gate E.
type LoadStats struct {
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	DurationS    float64 `json:"duration_s"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	// UnexpectedErrors are errors that are not an enumerated business outcome.
	UnexpectedErrors int64 `json:"unexpected_errors"`
}

// ErrorRatePct is Errors/Requests in percent (0 without requests).
func (l *LoadStats) ErrorRatePct() float64 {
	if l == nil || l.Requests <= 0 {
		return 0
	}
	return 100 * float64(l.Errors) / float64(l.Requests)
}

// MemorySample is one resource sample of the target process.
type MemorySample struct {
	TS         float64 `json:"t_s"`
	RSSBytes   int64   `json:"rss_bytes"`
	HeapBytes  int64   `json:"heap_bytes,omitempty"`
	Goroutines int64   `json:"goroutines,omitempty"`
	FDs        int64   `json:"fds,omitempty"`
}

// Memory is the resource trend: slopes are least squares over the samples at
// or after SteadyStateFromS.
type Memory struct {
	Samples          []MemorySample `json:"samples"`
	SlopeMBPerMin    float64        `json:"slope_mb_per_min"`
	SteadyStateFromS float64        `json:"steady_state_from_s"`
	// SteadyStateUntilS ends the fitted window (0 = the end of the run).
	SteadyStateUntilS float64 `json:"steady_state_until_s,omitempty"`
	// GoroutineSlope and FDSlope are per minute.
	GoroutineSlope float64 `json:"goroutine_slope"`
	FDSlope        float64 `json:"fd_slope"`
	// Informational marks a run too short to resolve the GO bound (bounded
	// caches still filling, GC noise): the verdict then only rejects a
	// gross leak above MemGrossLeakMBPerMin, and a caveat says that the
	// nightly soak judges the real bound.
	Informational bool `json:"informational,omitempty"`
}

// Timeseries is the run sliced into fixed intervals.
type Timeseries struct {
	IntervalS float64           `json:"interval_s"`
	Points    []TimeseriesPoint `json:"points"`
}

// TimeseriesPoint is one interval; TargetRate is optional (ramps), else Load.TargetRate applies.
type TimeseriesPoint struct {
	TS         float64 `json:"t_s"`
	Rate       float64 `json:"rate"`
	TargetRate float64 `json:"target_rate,omitempty"`
	P50Ms      float64 `json:"p50_ms"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	Errors     int64   `json:"errors"`
}

// CurvePoint is one point of the latency percentile curve.
type CurvePoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// Facts are run-wide facts. The violation counters are the critical facts of
// SPEC §8: any non-zero counter is NO-GO regardless of gate results, so a
// scenario that observes one can record it even outside a gate.
type Facts struct {
	Seed          int64  `json:"seed"`
	ReproCommand  string `json:"repro_command"`
	FsyncDisabled bool   `json:"fsync_disabled"`

	NegativeBalances      int64 `json:"negative_balances"`
	IdempotencyViolations int64 `json:"idempotency_violations"`
	// MultipleFinalDecisions counts approval requests with more than one final decision.
	MultipleFinalDecisions int64 `json:"multiple_final_decisions"`
	CrashesOnOutage        int64 `json:"crashes_on_outage"`

	// ReplayDriftEvents counts projection differences after replay (gate B measures it too).
	ReplayDriftEvents int64 `json:"replay_drift_events"`
}

// Gate returns the gate detail with the given id, or nil.
func (s *Summary) Gate(id string) *GateDetail {
	for i := range s.GateDetails {
		if s.GateDetails[i].ID == id {
			return &s.GateDetails[i]
		}
	}
	return nil
}

// Seconds is a duration in seconds. It is written as a number and read from a
// number or a Go duration string ("30m", "1m30s"), because reports of the
// original harness wrote durations either way.
type Seconds float64

// UnmarshalJSON accepts 1800, 1800.5, "1800", "30m".
func (d *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*d = Seconds(f)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("reports: duration must be seconds or a duration string, got %s", b)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*d = Seconds(f)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("reports: duration %q: %w", s, err)
	}
	*d = Seconds(v.Seconds())
	return nil
}
