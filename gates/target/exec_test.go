package target

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/internal/repo"
)

func TestExecSplitWords(t *testing.T) {
	ok := []struct {
		in   string
		want []string
	}{
		{"uvicorn app:app --port {port}", []string{"uvicorn", "app:app", "--port", "{port}"}},
		{`  srv  -data '{data_dir}/with space'  `, []string{"srv", "-data", "{data_dir}/with space"}},
		{`srv "a \"b\" \$c" d\ e ''`, []string{"srv", `a "b" $c`, "d e", ""}},
		{`sh -c 'cd /app && exec srv --port {port}'`, []string{"sh", "-c", "cd /app && exec srv --port {port}"}},
		{`srv a~b --json={"k":1}`, []string{"srv", "a~b", `--json={k:1}`}},
	}
	for _, c := range ok {
		got, err := splitWords(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":                        "needs a command line",
		"   ":                     "needs a command line",
		"srv 'open":               "unterminated '",
		`srv "open`:               `unterminated "`,
		"srv | tee log":           "needs a shell",
		"srv > log":               "needs a shell",
		"srv --port $PORT":        "needs a shell",
		`srv "$HOME"`:             "needs a shell",
		"srv; rm -rf x":           "needs a shell",
		"srv ~/data":              "needs a shell",
		`srv \`:                   "trailing backslash",
		`'' --port {port}`:        "no program",
		"srv --port `echo 1`":     "needs a shell",
		"srv && other --x {port}": "needs a shell",
	}
	for in, want := range bad {
		if _, err := splitWords(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("splitWords(%q) error %v, want one saying %q", in, err, want)
		}
	}
}

func TestExecPlaceholdersAndConfigErrors(t *testing.T) {
	words, err := splitWords("srv -addr 127.0.0.1:{port} -data {data_dir} -log {data_dir}/x.log -karma={karma_url}")
	if err != nil {
		t.Fatal(err)
	}
	got := execArgv(words, 4242, "/tmp/a dir", "http://127.0.0.1:9")
	want := []string{"srv", "-addr", "127.0.0.1:4242", "-data", "/tmp/a dir", "-log", "/tmp/a dir/x.log", "-karma=http://127.0.0.1:9"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("execArgv = %q, want %q", got, want)
	}
	for cmd, want := range map[string]bool{"srv --karma {karma_url}": true, "srv --port {port}": false} {
		if got := (Config{Kind: KindExec, Exec: cmd}).ExecTakesKarma(); got != want {
			t.Errorf("ExecTakesKarma(%q) = %v, want %v", cmd, got, want)
		}
		if err := validateExec(Config{Kind: KindExec, Exec: cmd}); err != nil {
			t.Errorf("validateExec(%q): %v", cmd, err)
		}
	}

	bad := map[string]Config{
		"needs a command line":                                      {Kind: KindExec},
		"unknown placeholder {data-dir}":                            {Kind: KindExec, Exec: "srv -data {data-dir}"},
		"relative to {data_dir}":                                    {Kind: KindExec, Exec: "srv", ExecJournal: "../outside.jsonl"},
		"relative to {data_dir}, inside":                            {Kind: KindExec, Exec: "srv", ExecJournal: "/abs/journal.jsonl"},
		"must be a path starting with /":                            {Kind: KindExec, Exec: "srv", ExecHealth: "health"},
		"needs CREDITGATE_EXEC_JOURNAL":                             {Kind: KindExec, Exec: "srv", PowerLoss: PowerLossOn},
		"CREDITGATE_EXEC_SETTINGS: \"approval_timeout\" is neither": {Kind: KindExec, Exec: "srv", ExecSettings: []string{"CREDITD_APPROVAL_HIGH", "approval_timeout"}},
	}
	for want, cfg := range bad {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want an error saying %q", cfg, err, want)
		}
	}
	if err := (Config{Kind: KindExec, Exec: "srv --port {port}", ExecJournal: "sub/journal.jsonl"}).Validate(); err != nil {
		t.Fatalf("valid exec config refused: %v", err)
	}
	tg, err := New(context.Background(), Config{Kind: KindExec, Exec: "/nonexistent/backend --port {port}"})
	if tg != nil || err == nil || !strings.Contains(err.Error(), "CREDITGATE_EXEC program") {
		t.Fatalf("a missing program must fail New, leaving nothing, naming CREDITGATE_EXEC: %v %v", tg, err)
	}
}

func TestExecConfigFromEnvAndCapabilities(t *testing.T) {
	for _, k := range []string{"CREDITGATE_TARGET", "CREDITGATE_URL", "CREDITGATE_EXEC_JOURNAL", "CREDITGATE_EXEC_HEALTH"} {
		t.Setenv(k, "")
	}
	t.Setenv("CREDITGATE_EXEC", "srv --port {port}")
	t.Setenv("CREDITGATE_EXEC_DATA_DIR", "/tmp/mine")
	c := ConfigFromEnv()
	if c.Kind != KindExec || c.Exec != "srv --port {port}" || c.DataDir != "/tmp/mine" {
		t.Fatalf("ConfigFromEnv with only CREDITGATE_EXEC: %+v", c)
	}
	for _, cp := range []Capability{CapCrash, CapRestart, CapPID, CapLogs} {
		if ok, why := c.Supports(cp); !ok {
			t.Errorf("exec target lacks %s: %s", cp, why)
		}
	}
	for cp, remedy := range map[Capability]string{
		CapJournalFile:           "set CREDITGATE_EXEC_JOURNAL",
		CapPowerLoss:             "set CREDITGATE_EXEC_JOURNAL",
		CapCluster:               "CREDITGATE_TARGET=cluster",
		Capability("karma-stub"): "not available for a backend started from a command line",
	} {
		if ok, why := c.Supports(cp); ok || !strings.Contains(why, remedy) {
			t.Errorf("Supports(%s) = %v %q, want a refusal saying %q", cp, ok, why, remedy)
		}
	}
	c.ExecJournal = "journal.jsonl"
	if ok, why := c.Supports(CapJournalFile); !ok {
		t.Errorf("journal-file with CREDITGATE_EXEC_JOURNAL: %s", why)
	}
}

// A backend reads the settings CREDITGATE_EXEC_SETTINGS names ("rules":
// every one); any it does not name the harness cannot choose, and another
// kind of target reads none this way.
func TestExecSettingsAreTheOnesDeclared(t *testing.T) {
	for _, k := range []string{"CREDITGATE_TARGET", "CREDITGATE_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("CREDITGATE_EXEC", "srv --port {port}")
	want := []string{"CREDITD_APPROVAL_TIMEOUT_HIGH", "CREDITD_APPROVAL_THRESHOLD"}
	for decl, missing := range map[string][]string{
		"":                                want,
		" CREDITD_APPROVAL_TIMEOUT_HIGH ": {"CREDITD_APPROVAL_THRESHOLD"},
		"CREDITD_APPROVAL_THRESHOLD,CREDITD_APPROVAL_TIMEOUT_HIGH": nil,
		"rules": nil,
	} {
		t.Setenv("CREDITGATE_EXEC_SETTINGS", decl)
		c := ConfigFromEnv()
		if err := c.Validate(); err != nil {
			t.Fatalf("CREDITGATE_EXEC_SETTINGS=%q refused: %v", decl, err)
		}
		ok, got := c.ExecReadsSettings(want)
		if ok != (len(missing) == 0) || !reflect.DeepEqual(got, missing) {
			t.Errorf("CREDITGATE_EXEC_SETTINGS=%q: reads %v, missing %q; want missing %q", decl, ok, got, missing)
		}
	}
	if ok, _ := (Config{Kind: KindProcess, ExecSettings: []string{"rules"}}).ExecReadsSettings(want); ok {
		t.Error("a process target read settings through CREDITGATE_EXEC_SETTINGS")
	}
}

// originalBackend builds cmd/original-backend once per test binary.
var originalBackend = sync.OnceValues(func() (string, error) {
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "creditgate-orig-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "original-backend")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/original-backend")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(msg))
	}
	return out, nil
})

func buildOriginal(t *testing.T) string {
	t.Helper()
	bin, err := originalBackend()
	if err != nil {
		t.Fatalf("go build ./cmd/original-backend: %v", err)
	}
	return bin
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func TestExecOriginalBackendKeepsAcknowledgedWritesAcrossKill(t *testing.T) {
	bin := buildOriginal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := Config{Kind: KindExec, Exec: bin + " -addr 127.0.0.1:{port} -data {data_dir}", ExecJournal: "journal.jsonl",
		Logger: testLogger(t), StartTimeout: 20 * time.Second}
	tg, err := New(ctx, cfg)
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	if tg.Kind() != KindExec || !strings.HasPrefix(tg.BaseURL(), "http://127.0.0.1:") {
		t.Fatalf("kind %s, url %s", tg.Kind(), tg.BaseURL())
	}
	base := tg.BaseURL() + "/api/credits"
	if st, b := call(t, "POST", base+"/agents", `{"agent_id":"a1","skill_level":0.5}`); st != 200 || b["balance"] != 50.0 {
		t.Fatalf("POST /agents: %d %v", st, b)
	}
	if st, b := call(t, "POST", base+"/consume", `{"agent_id":"a1","amount":12.25,"reason":"r"}`); st != 200 || b["balance_after"] != 37.75 {
		t.Fatalf("POST /consume: %d %v", st, b)
	}
	if fi, err := os.Stat(tg.JournalPath()); err != nil || fi.Size() == 0 {
		t.Fatalf("journal %s not written: %v", tg.JournalPath(), err)
	}
	pid := tg.PID()
	if pid <= 0 {
		t.Fatalf("PID %d", pid)
	}
	if err := tg.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if healthy(t, tg) || tg.PID() != 0 {
		t.Fatal("backend still answers after Kill")
	}
	if err := tg.Kill(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Kill: %v", err)
	}
	url := tg.BaseURL()
	if err := tg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if tg.BaseURL() != url {
		t.Fatalf("restart moved the backend from %s to %s", url, tg.BaseURL())
	}
	if st, b := call(t, "GET", base+"/balance/a1", ""); st != 200 || b["balance"] != 37.75 {
		t.Fatalf("balance after kill -9 and restart: %d %v, want 37.75", st, b)
	}
	if err := tg.Stop(ctx); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	logs, _ := tg.Logs(ctx)
	if !strings.Contains(logs, "listening") || !strings.Contains(logs, "shutting down") {
		t.Fatalf("Logs lack the backend's output:\n%s", logs)
	}
}

func TestExecReadinessFallbackAndDegradedStart(t *testing.T) {
	bin := buildOriginal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A given data dir holding a torn journal: the backend answers health
	// 503 "degraded", which is ready (up, reporting damage).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), []byte(`{"seq":1,"event_`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Kind: KindExec, Exec: bin + " -addr 127.0.0.1:{port} -data .", DataDir: dir,
		ExecJournal: "journal.jsonl", ExecHealth: "/api/credits/health", Logger: testLogger(t), StartTimeout: 20 * time.Second}
	tg, err := New(ctx, cfg)
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	if st, b := call(t, "GET", tg.BaseURL()+"/api/health", ""); st != 503 || b["status"] != "degraded" {
		t.Fatalf("health on a torn journal: %d %v", st, b)
	}
	if err := tg.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Terminate removed a data dir it did not create: %v", err)
	}
}

func TestExecStartFailureShowsTheBackendsLog(t *testing.T) {
	bin := buildOriginal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The backend exits at once (non-loopback address refused).
	tg, err := New(ctx, Config{Kind: KindExec, Exec: bin + " -addr 0.0.0.0:{port} -data {data_dir}", Logger: testLogger(t)})
	if tg != nil {
		defer tg.Terminate(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "only loopback") {
		t.Fatalf("New with a backend that exits: %v", err)
	}
	// The backend lives but never answers: the timeout error carries its
	// output, and Terminate kills the whole group (sh and its sleep).
	tg2, err := New(ctx, Config{Kind: KindExec, Exec: `sh -c 'echo booting-{port}; exec sleep 60'`,
		StartTimeout: 1500 * time.Millisecond, Logger: testLogger(t)})
	if tg2 == nil {
		t.Fatalf("no target to clean up: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "not healthy within") || !strings.Contains(err.Error(), "booting-") {
		t.Fatalf("New with a backend that never becomes ready: %v", err)
	}
	pid := tg2.PID()
	if err := tg2.Terminate(ctx); err == nil {
		t.Log("sleep exited cleanly on SIGTERM")
	}
	if pid > 0 {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); !strings.Contains(string(b), ") Z") {
				t.Fatalf("pid %d survives Terminate", pid)
			}
		}
	}
}

func TestExecReadinessFallsBackToTheOriginalsHealthRoute(t *testing.T) {
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		switch r.URL.Path {
		case "/api/credits/health":
			w.Write([]byte(`{"status":"ok"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	p := &processTarget{baseURL: srv.URL, logger: testLogger(t)}
	h := &execHealth{}
	if err := h.probe(context.Background(), p); err != nil {
		t.Fatalf("fallback probe: %v", err)
	}
	if err := h.probe(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/api/health", "/api/credits/health", "/api/credits/health"}; !reflect.DeepEqual(hits, want) {
		t.Fatalf("probed %q, want %q (the fallback is remembered)", hits, want)
	}
	fixed := &execHealth{path: "/api/health", fixed: true}
	if err := fixed.probe(context.Background(), p); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("a configured path must not fall back: %v", err)
	}
	// 503 that is not "degraded" is not ready.
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		w.Write([]byte(`{"status":"failed"}`))
	})
	if err := h.probe(context.Background(), p); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("503 failed counted as ready: %v", err)
	}
}
