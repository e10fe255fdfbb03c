package target

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creditgate/creditgate/internal/repo"
)

// backendBinary is the binary the process and container tests run:
// CREDITGATE_BINARY if set, else "" (the target builds ./cmd/creditd). Tests
// skip while neither exists.
func backendBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("CREDITGATE_BINARY"); b != "" {
		return b
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "creditd")); err != nil {
		t.Skip("no ./cmd/creditd yet and CREDITGATE_BINARY unset")
	}
	return ""
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func healthy(t *testing.T, tg Target) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return probeHealth(ctx, tg.BaseURL(), tg.Token()) == nil
}

// exerciseControl is the shared lifecycle check for targets the harness
// controls: kill leaves the backend dead and down, start brings it back on the
// same URL over the same journal, stop is graceful.
func exerciseControl(t *testing.T, tg Target, dataDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if !strings.HasPrefix(tg.BaseURL(), "http://127.0.0.1:") {
		t.Fatalf("BaseURL %q is not loopback", tg.BaseURL())
	}
	if !healthy(t, tg) {
		t.Fatal("New returned before /api/health answered 200")
	}
	if got, want := filepath.Dir(tg.JournalPath()), dataDir; got != want {
		t.Fatalf("journal %s is not inside the data dir %s", tg.JournalPath(), want)
	}
	if _, err := os.Stat(tg.JournalPath()); err != nil {
		t.Fatalf("backend did not create its journal in the data dir: %v", err)
	}
	pid := tg.PID()
	if pid <= 0 {
		t.Fatalf("PID() = %d for a running backend", pid)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err != nil {
		t.Fatalf("PID %d is not a host process: %v", pid, err)
	}
	baseURL := tg.BaseURL()

	if err := tg.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("pid %d still exists after Kill (kill -0: %v)", pid, err)
	}
	if healthy(t, tg) {
		t.Fatal("backend still answers after Kill: something restarted it")
	}
	if got := tg.PID(); got != 0 {
		t.Fatalf("PID() = %d after Kill, want 0", got)
	}
	if err := tg.Kill(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Kill: %v, want ErrNotRunning", err)
	}

	if err := tg.Start(ctx); err != nil {
		t.Fatalf("Start after Kill: %v", err)
	}
	if tg.BaseURL() != baseURL || !healthy(t, tg) {
		t.Fatalf("restarted backend not healthy at the same URL %s", baseURL)
	}
	if err := tg.Start(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("Start while running: %v, want ErrRunning", err)
	}
	if _, err := os.Stat(tg.JournalPath()); err != nil {
		t.Fatalf("journal gone after restart: %v", err)
	}
	if newPID := tg.PID(); newPID == 0 || newPID == pid {
		t.Fatalf("PID after restart = %d (before %d)", newPID, pid)
	}

	if err := tg.Stop(ctx); err != nil {
		t.Fatalf("graceful Stop: %v", err)
	}
	if err := tg.Start(ctx); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	logs, err := tg.Logs(ctx)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if logs == "" {
		t.Fatal("Logs empty after three boots")
	}
}

func TestProcessTargetSurvivesKillAndRestartOnSameDataAndPort(t *testing.T) {
	bin := backendBinary(t)
	dataDir := t.TempDir()
	tg, err := New(context.Background(), Config{
		Kind: KindProcess, Binary: bin, DataDir: dataDir, Logger: testLogger(t),
	})
	if tg != nil {
		t.Cleanup(func() {
			if err := tg.Terminate(context.Background()); err != nil {
				t.Errorf("Terminate: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	exerciseControl(t, tg, dataDir)
}

func TestContainerTargetSurvivesKillAndRestartOnSameDataAndPort(t *testing.T) {
	if testing.Short() {
		t.Skip("container boot skipped in -short mode")
	}
	bin := backendBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := DockerAvailable(ctx); err != nil {
		t.Skipf("no Docker engine (run scripts/docker-up.sh): %v", err)
	}
	dataDir := t.TempDir()
	tg, err := New(ctx, Config{Kind: KindContainer, Binary: bin, DataDir: dataDir, Logger: testLogger(t)})
	if tg != nil {
		t.Cleanup(func() {
			if err := tg.Terminate(context.Background()); err != nil {
				t.Errorf("Terminate: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	exerciseControl(t, tg, dataDir)
}

func TestURLTargetRefusesControlOperations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/health" && r.Header.Get("Authorization") == "Bearer tok" {
			w.Write([]byte(`{"status":"healthy"}`))
			return
		}
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()

	ctx := context.Background()
	tg, err := New(ctx, Config{Kind: KindURL, URL: srv.URL + "/", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Terminate(ctx)
	if tg.BaseURL() != srv.URL || tg.Token() != "tok" || tg.JournalPath() != "" || tg.PID() != 0 {
		t.Fatalf("url target: BaseURL=%q Token=%q JournalPath=%q PID=%d", tg.BaseURL(), tg.Token(), tg.JournalPath(), tg.PID())
	}
	for name, op := range map[string]func(context.Context) error{
		"Kill": tg.Kill, "Stop": tg.Stop, "Start": tg.Start,
		"Logs": func(ctx context.Context) error { _, err := tg.Logs(ctx); return err },
	} {
		if err := op(ctx); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s on a url target: %v, want ErrUnsupported", name, err)
		}
	}
}

func TestURLTargetFailsFastWhenUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := New(context.Background(), Config{Kind: KindURL, URL: srv.URL, StartTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("New against an unhealthy URL: %v, want a 503 health error", err)
	}
}

func TestSupportsNamesTheReasonToSkip(t *testing.T) {
	url := Config{Kind: KindURL, URL: "http://127.0.0.1:8000"}
	for _, cap := range []Capability{CapCrash, CapRestart, CapJournalFile, CapPID, CapLogs} {
		ok, reason := url.Supports(cap)
		if ok || !strings.Contains(reason, string(cap)) || !strings.Contains(reason, "CREDITGATE_TARGET") {
			t.Errorf("url.Supports(%s) = %v, %q", cap, ok, reason)
		}
		for _, k := range []Kind{"", KindContainer, KindProcess} {
			if ok, reason := (Config{Kind: k}).Supports(cap); !ok {
				t.Errorf("kind %q lacks %s: %s", k, cap, reason)
			}
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"empty is the default container", nil, Config{}},
		{"url alone selects url mode",
			map[string]string{"CREDITGATE_URL": "http://127.0.0.1:9000", "CREDITGATE_TOKEN": "t"},
			Config{Kind: KindURL, URL: "http://127.0.0.1:9000", Token: "t"}},
		{"an explicit image is used as is",
			map[string]string{"CREDITGATE_TARGET": "Container", "CREDITGATE_IMAGE": "me/creditd:1", "CREDITGATE_NETWORK": "bridge"},
			Config{Kind: KindContainer, Image: "me/creditd:1", NoBuild: true, Network: "bridge"}},
		{"process with a binary",
			map[string]string{"CREDITGATE_TARGET": "process", "CREDITGATE_BINARY": "/x/creditd"},
			Config{Kind: KindProcess, Binary: "/x/creditd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"CREDITGATE_TARGET", "CREDITGATE_IMAGE", "CREDITGATE_URL", "CREDITGATE_TOKEN", "CREDITGATE_NETWORK", "CREDITGATE_BINARY"} {
				t.Setenv(k, tt.env[k])
			}
			got := ConfigFromEnv()
			if got.Kind != tt.want.Kind || got.Image != tt.want.Image || got.NoBuild != tt.want.NoBuild ||
				got.URL != tt.want.URL || got.Token != tt.want.Token || got.Network != tt.want.Network || got.Binary != tt.want.Binary {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateRejectsUnknownSettings(t *testing.T) {
	for _, c := range []Config{{Kind: "vm"}, {Kind: KindURL}, {Network: "overlay"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config invalid: %v", err)
	}
}

func TestSplitImageKeepsRegistryPort(t *testing.T) {
	for in, want := range map[string][2]string{
		"creditgate/creditd:dev":      {"creditgate/creditd", "dev"},
		"creditd":                     {"creditd", "latest"},
		"localhost:5000/creditd":      {"localhost:5000/creditd", "latest"},
		"localhost:5000/creditd:v1.2": {"localhost:5000/creditd", "v1.2"},
	} {
		if repo, tag := splitImage(in); repo != want[0] || tag != want[1] {
			t.Errorf("splitImage(%q) = %q, %q; want %q", in, repo, tag, want)
		}
	}
}

func TestTailBufferKeepsTheLastBytes(t *testing.T) {
	b := &tailBuffer{limit: 5}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := b.String(); got != "cdefg" {
		t.Fatalf("tail = %q, want cdefg", got)
	}
	if got := lastLines("a\nb\nc\n", 2); got != "b\nc\n" {
		t.Fatalf("lastLines = %q", got)
	}
}

func TestProcessTargetFailsFastWhenTheBackendDiesAtBoot(t *testing.T) {
	start := time.Now()
	tg, err := New(context.Background(), Config{Kind: KindProcess, Binary: "/bin/false", StartTimeout: 20 * time.Second})
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "died before it was healthy") {
		t.Fatalf("New with a backend that exits at once: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("New took %s to notice a dead backend; it should not wait for StartTimeout", took)
	}
}

// The default kind (CREDITGATE_TARGET unset) is our engine in a container:
// settings, tokens and the KARMA stub apply to it.
func TestTheDefaultKindIsOurOwnEngine(t *testing.T) {
	if !Kind("").OwnEngine() || !KindContainer.OwnEngine() || KindURL.OwnEngine() || KindExec.OwnEngine() {
		t.Fatal("OwnEngine: the default kind must be our engine, url and exec not")
	}
}
