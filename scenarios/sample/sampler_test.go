package sample

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// metricsServer serves a Prometheus text /metrics like a Go backend's.
func metricsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 12\ngo_memstats_heap_inuse_bytes 4.5e+06\nprocess_resident_memory_bytes 3.2e+07\nprocess_open_fds 9\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadProcOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, err := ReadProc("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.Sockets < 1 || p.Sockets >= p.FDs {
		t.Errorf("%d sockets of %d fds with a listener open", p.Sockets, p.FDs)
	}
	if p.RSSBytes < 1<<20 || p.RSSBytes > 64<<30 {
		t.Errorf("RSS %d bytes is implausible", p.RSSBytes)
	}
	if p.RSSAnonBytes <= 0 || p.RSSAnonBytes > p.RSSBytes {
		t.Errorf("RssAnon %d of RSS %d is implausible", p.RSSAnonBytes, p.RSSBytes)
	}
	if p.FDs < 3 {
		t.Errorf("%d open fds, want at least stdin/stdout/stderr", p.FDs)
	}
	if _, err := ReadProc(t.TempDir(), 1); err == nil {
		t.Error("a missing proc entry must be an error")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tcreditd\nVmPeak:\t  99999 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n"
	v, err := parseVmRSS(strings.NewReader(status))
	if err != nil || v != 12345*1024 {
		t.Fatalf("parseVmRSS = %d, %v", v, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tkthreadd\n")); err == nil {
		t.Error("a status without VmRSS must be an error")
	}
}

func TestParseMetricsReadsTheTextFormat(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2345e+07
process_open_fds{instance="a b"} 17 1700000000000
creditd_requests_total{route="/x",code="200"} 5
creditd_requests_total{route="/y",code="200"} 6

garbage line without value
nan_metric NaN
`
	m, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"go_goroutines": 42, "go_memstats_heap_inuse_bytes": 12345000, "process_open_fds": 17, "creditd_requests_total": 5} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	if metricOr(m, -1, "nan_metric") != -1 || metricOr(m, -1, "missing", "go_goroutines") != 42 {
		t.Error("metricOr must skip NaN and fall through names")
	}
}

func TestSamplerFallsBackToMetricsWithoutPID(t *testing.T) {
	srv := metricsServer(t)
	s, err := New(Config{MetricsURL: srv.URL + "/metrics", Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	time.Sleep(110 * time.Millisecond)
	s.Stop()
	s.Stop() // idempotent
	got := s.Samples()
	if len(got) < 2 || len(got) > 20 {
		t.Fatalf("%d samples in ~110ms at 20ms", len(got))
	}
	g := got[0]
	if g.Source != "metrics" || g.RSSBytes != 32_000_000 || g.OpenFDs != 9 || g.HeapBytes != 4_500_000 || g.Goroutines != 12 {
		t.Errorf("sample %+v", g)
	}
	if s.Err() != nil {
		t.Errorf("last error %v", s.Err())
	}
}

func TestSamplerReadsProcAndMetricsTogether(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	srv := metricsServer(t)
	s, err := New(Config{PID: os.Getpid(), MetricsURL: srv.URL + "/metrics", MaxSamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.SampleNow(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Samples()
	if len(got) != 2 || s.Dropped() != 1 {
		t.Fatalf("%d samples, %d dropped: want the cap of 2 and 1 dropped", len(got), s.Dropped())
	}
	if got[0].Source != "proc" || got[0].RSSBytes == 32_000_000 || got[0].Goroutines != 12 {
		t.Errorf("sample %+v: want RSS from /proc, goroutines from metrics", got[0])
	}
}

func TestSamplerRefusesRemoteMetrics(t *testing.T) {
	for _, u := range []string{"http://192.0.2.1/metrics", "http://example.com/metrics"} {
		if _, err := New(Config{MetricsURL: u}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("remote metrics URL %s: err %v, want ErrNotLoopback", u, err)
		}
		if _, err := New(Config{MetricsURL: u, AllowRemote: true}); err != nil {
			t.Errorf("remote metrics URL %s with AllowRemote: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9/metrics", "http://localhost:9/metrics", "http://[::1]:9/metrics"} {
		if _, err := New(Config{MetricsURL: u}); err != nil {
			t.Errorf("loopback metrics URL %s refused: %v", u, err)
		}
	}
	if _, err := New(Config{MetricsURL: "ftp://127.0.0.1/metrics"}); err == nil {
		t.Error("a non-HTTP metrics URL accepted")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("a sampler with no source accepted")
	}
}

func TestSlopeIsLeastSquares(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4}
	ys := []float64{1, 3, 5, 7, 9}
	if s := Slope(xs, ys); math.Abs(s-2) > 1e-12 {
		t.Errorf("slope %v, want 2", s)
	}
	if s := Slope([]float64{1, 1}, []float64{2, 3}); !math.IsNaN(s) {
		t.Errorf("no spread in x: %v, want NaN", s)
	}
	if s := Slope([]float64{1}, []float64{2}); !math.IsNaN(s) {
		t.Errorf("one point: %v, want NaN", s)
	}
}

func TestTrendIgnoresTheStartupBeforeSteadyState(t *testing.T) {
	// 10 minutes at one sample per 5s: RSS jumps by 50 MB in the first two
	// minutes (startup), then grows 0.05 MB/min; goroutines and fds flat.
	var samples []Sample
	for i := 0; i <= 120; i++ {
		at := time.Duration(i) * 5 * time.Second
		rss := 100.0 + 0.05*at.Minutes()
		if at < 2*time.Minute {
			rss = 50 + 25*at.Minutes()
		}
		samples = append(samples, Sample{At: at, RSSBytes: int64(rss * 1e6), Goroutines: 20, OpenFDs: 11, HeapBytes: -1})
	}
	from := DefaultSteadyFrom(10 * time.Minute)
	if from != 2*time.Minute {
		t.Fatalf("steady state of 10m from %s, want 2m", from)
	}
	tr := ComputeTrend(samples, from)
	if math.Abs(tr.RSSMBPerMin-0.05) > 0.001 {
		t.Errorf("RSS slope %v MB/min, want 0.05", tr.RSSMBPerMin)
	}
	if tr.GoroutinesPerMin != 0 || tr.FDsPerMin != 0 || !math.IsNaN(tr.HeapMBPerMin) {
		t.Errorf("trend %+v", tr)
	}
	if all := ComputeTrend(samples, 0); all.RSSMBPerMin < 1 {
		t.Errorf("including startup the slope is %v: the steady-state cut matters", all.RSSMBPerMin)
	}
	for total, want := range map[time.Duration]time.Duration{
		30 * time.Minute: 15 * time.Minute, 20 * time.Minute: 10 * time.Minute, 19 * time.Minute: 228 * time.Second,
		10 * time.Minute: 2 * time.Minute, 5 * time.Minute: 2 * time.Minute,
		3 * time.Minute: 36 * time.Second, time.Minute: 12 * time.Second,
	} {
		if got := DefaultSteadyFrom(total); got != want {
			t.Errorf("DefaultSteadyFrom(%s) = %s, want %s", total, got, want)
		}
	}
}

// In a soak, a cache that fills toward its bound during the first minutes
// (RSS 60 → 70 MB by minute 10, then flat, as the round-3 soak measured)
// is no leak, while a leak of 0.2 MB/min still reads as one: the soak's
// steady state starts at half time.
func TestASoakJudgesTheSecondHalfSoACacheFillingToItsBoundIsNoLeak(t *testing.T) {
	const total = 30 * time.Minute
	curve := func(rss func(min float64) float64) []Sample {
		var out []Sample
		for at := time.Duration(0); at <= total; at += 5 * time.Second {
			out = append(out, Sample{At: at, RSSBytes: int64(rss(at.Minutes()) * 1e6), HeapBytes: -1, Goroutines: -1, OpenFDs: -1})
		}
		return out
	}
	filling := curve(func(m float64) float64 { return 70 - 10*math.Exp(-(m-6)/2) })
	leaking := curve(func(m float64) float64 { return 60 + 0.2*m })
	from := DefaultSteadyFrom(total)
	if got := ComputeTrend(filling, from).RSSMBPerMin; got >= 0.1 {
		t.Errorf("a cache that filled to its bound by minute 10 reads %.3f MB/min from %s; want < 0.1", got, from)
	}
	if old := ComputeTrend(filling, 6*time.Minute).RSSMBPerMin; old < 0.1 {
		t.Errorf("from minute 6 the filling cache reads %.3f MB/min; this test no longer shows why the soak starts later", old)
	}
	if got := ComputeTrend(leaking, from).RSSMBPerMin; math.Abs(got-0.2) > 0.01 {
		t.Errorf("a 0.2 MB/min leak reads %.3f MB/min from %s", got, from)
	}
}

// RSS is split into its anonymous and file-backed parts, so a soak's
// memory trend can tell a leak from the pages of a mapped file; sockets are
// counted apart from the other fds, so the fd trend can tell a leaked file
// from connections the load opened and closed.
func TestReadProcSplitsRSSIntoRssAnonAndRssFileAndCountsSockets(t *testing.T) {
	root := t.TempDir()
	for pid, status := range map[string]string{
		"7": "Name:\tcreditd\nVmRSS:\t   30000 kB\nRssAnon:\t   20000 kB\nRssFile:\t   9000 kB\nRssShmem:\t  1000 kB\n",
		"8": "Name:\told-kernel\nVmRSS:\t   30000 kB\n",
	} {
		for _, dir := range []string{filepath.Join(root, pid), filepath.Join(root, pid, "fd")} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(root, pid, "status"), []byte(status), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for fd, target := range map[string]string{"0": "/dev/null", "3": "socket:[4711]", "4": "/data/credits.jsonl", "5": "socket:[4712]", "6": "pipe:[99]"} {
		if err := os.Symlink(target, filepath.Join(root, "7", "fd", fd)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := ReadProc(root, 7)
	if err != nil || p.RSSBytes != 30000<<10 || p.RSSAnonBytes != 20000<<10 || p.RSSFileBytes != 9000<<10 || p.FDs != 5 || p.Sockets != 2 {
		t.Fatalf("ReadProc = %+v, %v; want RSS %d, RssAnon %d, RssFile %d, 5 fds of which 2 sockets", p, err, 30000<<10, 20000<<10, 9000<<10)
	}
	if p, err := ReadProc(root, 8); err != nil || p.RSSBytes != 30000<<10 || p.RSSAnonBytes != -1 || p.RSSFileBytes != -1 {
		t.Fatalf("a status without the split: %+v, %v; want RSS %d and -1, -1", p, err, 30000<<10)
	}
}

// Connections come and go with the load: a burst of sockets late in the
// steady state moves the fd slope but not the files' slope, while one file
// leaked a minute moves both.
func TestFilesPerMinIgnoresConnectionsAndSeesALeakedFile(t *testing.T) {
	var churn, leak []Sample
	for i := 0; i <= 180; i++ { // 15 minutes, one sample each 5 s
		at := time.Duration(i) * 5 * time.Second
		sockets := int64(5)
		if i > 150 && i < 170 {
			sockets = 60 // a burst of connections near the end
		}
		churn = append(churn, Sample{At: at, OpenFDs: 12 + sockets, OpenSockets: sockets, RSSBytes: -1, HeapBytes: -1, Goroutines: -1})
		files := 12 + int64(at/time.Minute)
		leak = append(leak, Sample{At: at, OpenFDs: files + 5, OpenSockets: 5, RSSBytes: -1, HeapBytes: -1, Goroutines: -1})
	}
	tr := ComputeTrend(churn, 0)
	if tr.FDsPerMin < 1 || tr.FilesPerMin != 0 {
		t.Errorf("connection churn: fds %.2f/min, files %.2f/min; want fds ≥ 1/min (the burst) and files 0", tr.FDsPerMin, tr.FilesPerMin)
	}
	if tr := ComputeTrend(leak, 0); math.Abs(tr.FilesPerMin-1) > 0.05 {
		t.Errorf("one file leaked a minute reads %.2f files/min", tr.FilesPerMin)
	}
	unknown := slices.Clone(churn)
	for i := range unknown {
		unknown[i].OpenSockets = -1
	}
	if tr := ComputeTrend(unknown, 0); !math.IsNaN(tr.FilesPerMin) {
		t.Errorf("without the socket count the files' slope is %.2f, want NaN", tr.FilesPerMin)
	}
}
