package sample

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditgate/creditgate/scenarios/loopback"
)

// Sample is one observation of the backend's resources. A field is -1 when
// its source was unavailable.
type Sample struct {
	At       time.Duration `json:"at"` // since the sampler started
	RSSBytes int64         `json:"rss_bytes"`
	// RSSAnonBytes and RSSFileBytes split RSS (from /proc/<pid>/status:
	// RssAnon, RssFile): a leak grows the anonymous part, while pages of a
	// memory-mapped file the backend reads (an on-disk index) are file-backed
	// and reclaimable. -1 without /proc.
	RSSAnonBytes int64 `json:"rss_anon_bytes"`
	RSSFileBytes int64 `json:"rss_file_bytes"`
	OpenFDs      int64 `json:"open_fds"`
	// OpenSockets are the sockets among OpenFDs (from /proc/<pid>/fd): their
	// number follows the load's connections, the rest (files, pipes) does
	// not. -1 without /proc.
	OpenSockets int64 `json:"open_sockets"`
	HeapBytes   int64 `json:"heap_bytes"`
	Goroutines  int64 `json:"goroutines"`
	// Source of RSS and fds: "proc" (/proc/<pid>) or "metrics" (Prometheus text).
	Source string `json:"source"`
}

// Config configures a Sampler. The zero value samples nothing; set PID
// and/or MetricsURL.
type Config struct {
	// PID of the backend process for /proc/<pid>/status (VmRSS) and
	// /proc/<pid>/fd. 0: take RSS and fds from the metrics instead.
	PID int
	// MetricsURL is the backend's Prometheus text endpoint (e.g.
	// http://127.0.0.1:8000/metrics); it gives heap and goroutines (and RSS
	// and fds without a PID). Loopback only unless AllowRemote.
	MetricsURL  string
	Token       string
	AllowRemote bool
	// Interval between samples (default 5s).
	Interval time.Duration
	// MaxSamples bounds the kept samples (default 100,000; the oldest stay,
	// later ones are counted as dropped).
	MaxSamples int
	// ProcRoot is the proc filesystem (default "/proc"); tests and
	// containers with a mounted host /proc may change it.
	ProcRoot string
}

// Sampler samples a backend's resources periodically. Start once, Stop once;
// Samples, Dropped and Err are safe to call at any time from any goroutine.
// ComputeTrend fits the samples.
type Sampler struct {
	cfg    Config
	client *http.Client

	mu      sync.Mutex
	start   time.Time
	samples []Sample
	dropped int64
	lastErr error

	stop chan struct{}
	done chan struct{}
}

// New validates cfg and returns a sampler that has not started.
func New(cfg Config) (*Sampler, error) {
	if cfg.Interval == 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.MaxSamples == 0 {
		cfg.MaxSamples = 100_000
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	switch {
	case cfg.PID == 0 && cfg.MetricsURL == "":
		return nil, errors.New("sample: a sampler needs a PID or a metrics URL")
	case cfg.Interval < 10*time.Millisecond:
		return nil, fmt.Errorf("sample: interval %s below 10ms", cfg.Interval)
	case cfg.MaxSamples < 1 || cfg.MaxSamples > 10_000_000:
		return nil, fmt.Errorf("sample: max samples %d outside [1, 10000000]", cfg.MaxSamples)
	}
	if cfg.MetricsURL != "" {
		if err := checkMetricsURL(cfg.MetricsURL, cfg.AllowRemote); err != nil {
			return nil, err
		}
	}
	timeout := min(cfg.Interval, 5*time.Second)
	return &Sampler{
		cfg:    cfg,
		client: &http.Client{Transport: transport(timeout, cfg.AllowRemote), Timeout: timeout},
	}, nil
}

// ErrNotLoopback is returned for a metrics URL (or a dialed address)
// outside 127.0.0.0/8, ::1 and localhost without AllowRemote (the
// harness's one rule, scenarios/loopback).
var ErrNotLoopback = loopback.ErrNotLoopback

func checkMetricsURL(raw string, allowRemote bool) error {
	return loopback.CheckURL("sample: metrics URL", raw, allowRemote)
}

// transport never goes through a proxy and, without allowRemote, refuses to
// dial anything but loopback whatever a name resolved to.
func transport(timeout time.Duration, allowRemote bool) *http.Transport {
	d := loopback.Dialer(timeout, allowRemote)
	return &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxIdleConnsPerHost: 2, ResponseHeaderTimeout: timeout, DisableCompression: true}
}

// Start takes a first sample now and then one every Interval until Stop or
// ctx is done.
func (s *Sampler) Start(ctx context.Context) {
	s.mu.Lock()
	if s.stop != nil {
		s.mu.Unlock()
		return
	}
	s.start = time.Now()
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			s.SampleNow(ctx)
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends sampling and waits for the sampling goroutine.
func (s *Sampler) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	if stop != nil {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// SampleNow takes one sample and keeps it (when anything could be read).
func (s *Sampler) SampleNow(ctx context.Context) (Sample, error) {
	s.mu.Lock()
	if s.start.IsZero() {
		s.start = time.Now()
	}
	at := time.Since(s.start)
	s.mu.Unlock()

	smp := Sample{At: at, RSSBytes: -1, RSSAnonBytes: -1, RSSFileBytes: -1, OpenFDs: -1, OpenSockets: -1, HeapBytes: -1, Goroutines: -1}
	var errs []error
	if s.cfg.PID != 0 {
		p, err := ReadProc(s.cfg.ProcRoot, s.cfg.PID)
		if err != nil {
			errs = append(errs, err)
		} else {
			smp.RSSBytes, smp.RSSAnonBytes, smp.RSSFileBytes, smp.Source = p.RSSBytes, p.RSSAnonBytes, p.RSSFileBytes, "proc"
			smp.OpenFDs, smp.OpenSockets = p.FDs, p.Sockets
		}
	}
	if s.cfg.MetricsURL != "" {
		m, err := s.fetchMetrics(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			smp.HeapBytes = metricOr(m, -1, "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes")
			smp.Goroutines = metricOr(m, -1, "go_goroutines")
			if smp.Source == "" {
				smp.RSSBytes = metricOr(m, -1, "process_resident_memory_bytes")
				smp.OpenFDs = metricOr(m, -1, "process_open_fds")
				smp.Source = "metrics"
			}
		}
	}
	err := errors.Join(errs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if smp.RSSBytes < 0 && smp.HeapBytes < 0 && smp.Goroutines < 0 && smp.OpenFDs < 0 {
		return smp, err
	}
	if len(s.samples) >= s.cfg.MaxSamples {
		s.dropped++
	} else {
		s.samples = append(s.samples, smp)
	}
	return smp, err
}

func metricOr(m map[string]float64, def int64, names ...string) int64 {
	for _, n := range names {
		if v, ok := m[n]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return int64(v)
		}
	}
	return def
}

func (s *Sampler) fetchMetrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.MetricsURL, nil)
	if err != nil {
		return nil, err
	}
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sample: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sample: metrics: status %d", resp.StatusCode)
	}
	return ParseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// Samples returns a copy of the kept samples.
func (s *Sampler) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...)
}

// Dropped is the number of samples not kept because MaxSamples was reached.
func (s *Sampler) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Err is the error of the last sample (nil when it read every source).
func (s *Sampler) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Trend is the least-squares slope of each resource over the steady state.
// NaN where fewer than two samples had the resource.
type Trend struct {
	From             time.Duration `json:"from"`
	Samples          int           `json:"samples"`
	RSSMBPerMin      float64       `json:"rss_mb_per_min"`
	RSSAnonMBPerMin  float64       `json:"rss_anon_mb_per_min"` // NaN without the split
	RSSFileMBPerMin  float64       `json:"rss_file_mb_per_min"`
	HeapMBPerMin     float64       `json:"heap_mb_per_min"`
	GoroutinesPerMin float64       `json:"goroutines_per_min"`
	FDsPerMin        float64       `json:"fds_per_min"`
	// FilesPerMin is the slope of the fds that are not sockets (NaN
	// without the split): connections come and go with the load, files
	// (journal, index, logs) do not.
	FilesPerMin   float64 `json:"files_per_min"`
	FirstRSSBytes int64   `json:"first_rss_bytes"`
	LastRSSBytes  int64   `json:"last_rss_bytes"`
	MaxGoroutines int64   `json:"max_goroutines"`
	MaxOpenFDs    int64   `json:"max_open_fds"`
}

// ComputeTrend fits the samples with At ≥ steadyFrom.
func ComputeTrend(samples []Sample, steadyFrom time.Duration) Trend {
	tr := Trend{From: steadyFrom, MaxGoroutines: -1, MaxOpenFDs: -1, FirstRSSBytes: -1, LastRSSBytes: -1}
	var steady []Sample
	for _, s := range samples {
		if s.At >= steadyFrom {
			steady = append(steady, s)
		}
	}
	tr.Samples = len(steady)
	const mb = 1e6 // MB, as in the report (reports.bytesPerMB)
	fit := func(get func(Sample) int64, scale float64) float64 {
		var xs, ys []float64
		for _, s := range steady {
			if v := get(s); v >= 0 {
				xs = append(xs, s.At.Minutes())
				ys = append(ys, float64(v)/scale)
			}
		}
		return Slope(xs, ys)
	}
	tr.RSSMBPerMin = fit(func(s Sample) int64 { return s.RSSBytes }, mb)
	tr.RSSAnonMBPerMin = fit(func(s Sample) int64 { return s.RSSAnonBytes }, mb)
	tr.RSSFileMBPerMin = fit(func(s Sample) int64 { return s.RSSFileBytes }, mb)
	tr.HeapMBPerMin = fit(func(s Sample) int64 { return s.HeapBytes }, mb)
	tr.GoroutinesPerMin = fit(func(s Sample) int64 { return s.Goroutines }, 1)
	tr.FDsPerMin = fit(func(s Sample) int64 { return s.OpenFDs }, 1)
	tr.FilesPerMin = fit(func(s Sample) int64 {
		if s.OpenFDs < 0 || s.OpenSockets < 0 {
			return -1
		}
		return s.OpenFDs - s.OpenSockets
	}, 1)
	for _, s := range steady {
		if s.RSSBytes >= 0 {
			if tr.FirstRSSBytes < 0 {
				tr.FirstRSSBytes = s.RSSBytes
			}
			tr.LastRSSBytes = s.RSSBytes
		}
		tr.MaxGoroutines = max(tr.MaxGoroutines, s.Goroutines)
		tr.MaxOpenFDs = max(tr.MaxOpenFDs, s.OpenFDs)
	}
	return tr
}

// DefaultSteadyFrom is where the steady state of a run of length total
// starts: after the first 20% or 2 minutes, whichever is later — unless that
// would leave less than half of the run, then after the first 20%. Startup
// allocation (pools, caches, the first GC cycles) is not a leak.
//
// A soak (SoakRun or longer) starts it at half time. A backend's bounded
// caches fill at the load's rate (our engine kept 20,000 idempotency keys
// and 200 ledger entries per agent in memory: about ten minutes at the
// soak's rate), and a slope fitted across that fill reads growth toward a
// bound as a leak; a leak keeps growing through the second half, where a
// full cache does not.
func DefaultSteadyFrom(total time.Duration) time.Duration {
	if total >= SoakRun {
		return total / 2
	}
	from := max(total/5, 2*time.Minute)
	if total-from < total/2 {
		return total / 5
	}
	return from
}

// SoakRun is the run length from which DefaultSteadyFrom starts the steady
// state at half time.
const SoakRun = 20 * time.Minute

// Slope is the ordinary least-squares slope of ys over xs; NaN with fewer
// than two points or no spread in xs.
func Slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return math.NaN()
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		dx := xs[i] - mx
		sxy += dx * (ys[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return math.NaN()
	}
	return sxy / sxx
}

// Proc is what one read of /proc/<pid> gives: the resident set size
// (VmRSS) and its anonymous and file-backed parts (RssAnon, RssFile; -1
// where the kernel does not say) in bytes, and the open file descriptors,
// of which Sockets are sockets (-1 when the links could not be read).
// All three memory figures come from one read of the status file, so they
// describe the same instant.
type Proc struct {
	RSSBytes, RSSAnonBytes, RSSFileBytes int64
	FDs, Sockets                         int64
}

// ReadProc reads pid's status and fd table under procRoot.
func ReadProc(procRoot string, pid int) (Proc, error) {
	p := Proc{RSSBytes: -1, RSSAnonBytes: -1, RSSFileBytes: -1, FDs: -1, Sockets: -1}
	dir := fmt.Sprintf("%s/%d", procRoot, pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return p, fmt.Errorf("sample: proc: %w", err)
	}
	if p.RSSBytes, err = parseVmRSS(bytes.NewReader(status)); err != nil {
		return p, err
	}
	if v, err := parseStatusBytes(bytes.NewReader(status), "RssAnon:"); err == nil {
		p.RSSAnonBytes = v
	}
	if v, err := parseStatusBytes(bytes.NewReader(status), "RssFile:"); err == nil {
		p.RSSFileBytes = v
	}
	d, err := os.Open(dir + "/fd")
	if err != nil {
		return p, fmt.Errorf("sample: proc: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1 << 20) // bounded
	if err != nil && err != io.EOF {
		return p, fmt.Errorf("sample: proc fds: %w", err)
	}
	p.FDs = int64(len(names))
	sockets := int64(0)
	for _, n := range names {
		target, err := os.Readlink(dir + "/fd/" + n)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // closed between the listing and the read
			}
			return p, nil // sockets unknown; the count stands
		}
		if strings.HasPrefix(target, "socket:") {
			sockets++
		}
	}
	p.Sockets = sockets
	return p, nil
}

// parseVmRSS finds "VmRSS:   12345 kB" in a /proc/<pid>/status stream.
func parseVmRSS(r io.Reader) (int64, error) { return parseStatusBytes(r, "VmRSS:") }

// parseStatusBytes finds "<field>   12345 kB" in a /proc/<pid>/status
// stream and returns the value in bytes.
func parseStatusBytes(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, field)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 {
			break
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1, fmt.Errorf("sample: proc: bad %s %q", strings.TrimSuffix(field, ":"), line)
		}
		mult := int64(1)
		if len(fields) > 1 {
			switch strings.ToLower(fields[1]) {
			case "kb":
				mult = 1 << 10
			case "mb":
				mult = 1 << 20
			}
		}
		return v * mult, nil
	}
	if err := sc.Err(); err != nil {
		return -1, err
	}
	return -1, fmt.Errorf("sample: proc: no %s line (kernel thread or zombie?)", strings.TrimSuffix(field, ":"))
}

// ParseMetrics reads the Prometheus text exposition format minimally: for
// each sample line "name{labels} value [timestamp]" it keeps the first value
// of each metric name (labels ignored). Comments and blank lines are skipped;
// lines that do not parse are ignored.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 0; sc.Scan() && n < 1_000_000; n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ \t"); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		if _, seen := out[name]; !seen {
			out[name] = v
		}
	}
	return out, sc.Err()
}
