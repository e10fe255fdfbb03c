package target

import (
	"context"
	"errors"
	"fmt"
	"github.com/creditgate/creditgate/gates/catalog"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kind selects how the backend is booted.
type Kind string

const (
	KindContainer Kind = "container"
	KindProcess   Kind = "process"
	KindURL       Kind = "url"
)

const (
	// DefaultImage is the fixed tag the repo's Dockerfile is built into. A fixed
	// tag (kept after Terminate) makes rebuilds cheap and leaves one image, not
	// one per run.
	DefaultImage = "creditgate/creditd:dev"

	NetworkHost   = "host"
	NetworkBridge = "bridge"

	// JournalName is the journal file name inside the data directory.
	JournalName = "credits.jsonl"

	// containerUID owns /data in the image (USER 65532:65532 in the Dockerfile).
	containerUID = 65532

	// logLimitBytes bounds what Logs returns (the tail is kept).
	logLimitBytes = 1 << 20
)

var (
	// ErrUnsupported is returned by control operations the target kind cannot
	// perform (url mode: Kill, Stop, Start, Logs).
	ErrUnsupported = errors.New("target: not supported by this target kind")
	// ErrNotRunning is returned by Kill and Stop when the backend is not running.
	ErrNotRunning = errors.New("target: backend not running")
	// ErrRunning is returned by Start when the backend is already running.
	ErrRunning = errors.New("target: backend already running")
)

// Config describes the target to boot. The zero value is valid: a container
// target built from the repo's Dockerfile, host networking, a temporary data
// directory, no token.
type Config struct {
	// Kind is container (default), process, cluster, exec or url.
	Kind Kind
	// Image is the container image tag (default DefaultImage). Unless NoBuild is
	// set, the repo's Dockerfile is built into this tag first.
	Image string
	// NoBuild uses Image as it is (e.g. built by `make image`, or any image
	// honouring CREDITD_ADDR/CREDITD_JOURNAL) instead of building it.
	NoBuild bool
	// Context is the Docker build context and the directory `go build` runs in
	// (default: the repo root, found by walking up from the working directory
	// to go.mod).
	Context string
	// Dockerfile is relative to Context (default "Dockerfile").
	Dockerfile string
	// URL is the backend's base URL (url mode only), e.g. http://127.0.0.1:8000.
	URL string
	// Token is sent by the harness as a bearer token; "" means none (the
	// backend then runs in loopback dev mode unless Env sets CREDITD_TOKENS).
	Token string
	// Network is "host" (default: bind 127.0.0.1 on a harness-chosen port) or
	// "bridge" (publish 8000/tcp on 127.0.0.1, for a Docker with its default
	// bridge). The first container target in a process fixes the
	// testcontainers runtime for the whole process.
	Network string
	// Binary is the creditd binary. Process mode runs it; container mode copies
	// it into the image. Default: `CGO_ENABLED=0 go build -o build/creditd
	// ./cmd/creditd` in Context, once per process.
	Binary string
	// Env is extra environment (CREDITD_* settings) for the backend.
	// CREDITD_ADDR and CREDITD_JOURNAL are owned by the target and overridden.
	Env map[string]string
	// DataDir is the host directory holding the journal (default: a new
	// temporary directory, removed by Terminate). Process mode writes the
	// backend's output next to it, to <DataDir>.creditd.log.
	DataDir string
	// StartTimeout bounds how long New and Start wait for /api/health
	// (default 30s).
	StartTimeout time.Duration
	// StopTimeout bounds the graceful drain after SIGTERM before SIGKILL
	// (default 15s).
	StopTimeout time.Duration
	// Logger receives lifecycle messages (default: discarded).
	Logger *slog.Logger
	// ClusterSize is the number of creditd instances of a cluster target
	// (default CREDITGATE_CLUSTER_SIZE, else DefaultClusterSize).
	ClusterSize int
	// StoreURLFor, if set, rewrites the database URL instance i of a cluster
	// target connects to (e.g. through a fault-injecting TCP proxy); it
	// gets the database's host:port and returns the address to use.
	StoreURLFor func(instance int, dbAddr string) (string, error)
	// PowerLoss (CREDITGATE_POWERLOSS) says whether the data directory is
	// mounted through the power-loss layer (chaos/lazyfs, FUSE), where the
	// backend's journal lives on a filesystem that can lose unsynced data
	// (PowerCutter.PowerCut) and run full (DiskQuota): PowerLossOn mounts
	// it (process, container and exec targets), PowerLossOff makes the
	// capability unavailable so its gates SKIP, PowerLossAuto (zero) mounts
	// nothing but lets the power-loss gates boot their own layered target.
	PowerLoss PowerLossMode
	// DiskQuota, with PowerLossOn, caps the data directory at this many
	// bytes (0: no cap).
	DiskQuota int64
	// SyncDelay, with PowerLoss, is how long each fsync/fdatasync takes on
	// the layer (0: at once), like a real disk's: a power cut can then land
	// between a write and its sync.
	SyncDelay time.Duration
	// Exec (CREDITGATE_EXEC) is the exec target's command line, with
	// {port}, {data_dir} and {karma_url} placeholders (see exec.go). DataDir
	// (CREDITGATE_EXEC_DATA_DIR) is then its {data_dir}.
	Exec string
	// ExecJournal (CREDITGATE_EXEC_JOURNAL) is the exec backend's journal
	// file relative to {data_dir}; "" means the harness cannot read or
	// damage it.
	ExecJournal string
	// ExecHealth (CREDITGATE_EXEC_HEALTH) is the exec backend's readiness
	// path (default /api/health, falling back to /api/credits/health).
	ExecHealth string
	// ExecSettings (CREDITGATE_EXEC_SETTINGS) names the rule settings the
	// exec backend reads from the environment under our engine's names and
	// units (CREDITD_APPROVAL_TIMEOUT_HIGH=3s, …), comma-separated, or
	// "rules" for every one (ExecReadsSettings). SPEC §7 names no variables
	// for the thresholds and timeouts, so without it the harness cannot
	// choose them.
	ExecSettings []string
	// KarmaURL is the base URL of the harness's KARMA stub, put in for an
	// exec command's {karma_url} ("" when the harness runs none). Our own
	// engine gets it as CREDITD_KARMA_URL in Env instead.
	KarmaURL string
}

// ConfigFromEnv reads CREDITGATE_TARGET, CREDITGATE_IMAGE, CREDITGATE_URL,
// CREDITGATE_TOKEN, CREDITGATE_NETWORK, CREDITGATE_BINARY and
// CREDITGATE_POWERLOSS, and for the exec target CREDITGATE_EXEC,
// CREDITGATE_EXEC_JOURNAL, CREDITGATE_EXEC_HEALTH, CREDITGATE_EXEC_SETTINGS
// and CREDITGATE_EXEC_DATA_DIR. Setting CREDITGATE_IMAGE means "use this image
// as is" (NoBuild). Setting only CREDITGATE_URL selects url mode, only
// CREDITGATE_EXEC exec mode.
// CREDITGATE_POWERLOSS: "true" mounts every booted target's data directory
// through the power-loss layer; "false" disables the layer (its gates SKIP);
// unset ("auto") leaves ordinary targets as they are and lets the power-loss
// gates boot their own layered target where FUSE is available.
func ConfigFromEnv() Config {
	c := Config{
		Kind:    Kind(strings.ToLower(strings.TrimSpace(os.Getenv("CREDITGATE_TARGET")))),
		Image:   os.Getenv("CREDITGATE_IMAGE"),
		URL:     os.Getenv("CREDITGATE_URL"),
		Token:   os.Getenv("CREDITGATE_TOKEN"),
		Network: os.Getenv("CREDITGATE_NETWORK"),
		Binary:  os.Getenv("CREDITGATE_BINARY"),

		Exec:        os.Getenv("CREDITGATE_EXEC"),
		ExecJournal: os.Getenv("CREDITGATE_EXEC_JOURNAL"),
		ExecHealth:  os.Getenv("CREDITGATE_EXEC_HEALTH"),
	}
	for _, name := range strings.Split(os.Getenv("CREDITGATE_EXEC_SETTINGS"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			c.ExecSettings = append(c.ExecSettings, name)
		}
	}
	c.NoBuild = c.Image != ""
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CREDITGATE_POWERLOSS"))) {
	case "true", "1", "on", "yes":
		c.PowerLoss = PowerLossOn
	case "false", "0", "off", "no":
		c.PowerLoss = PowerLossOff
	}
	if c.Kind == "" && c.URL != "" {
		c.Kind = KindURL
	}
	if c.Kind == "" && c.Exec != "" {
		c.Kind = KindExec
	}
	if c.Kind == KindExec {
		c.DataDir = os.Getenv("CREDITGATE_EXEC_DATA_DIR")
	}
	return c
}

// withDefaults fills the zero fields. It does not touch the filesystem.
func (c Config) withDefaults() Config {
	if c.Kind == "" {
		c.Kind = KindContainer
	}
	if c.Image == "" {
		c.Image = DefaultImage
	}
	if c.Dockerfile == "" {
		c.Dockerfile = "Dockerfile"
	}
	if c.Network == "" {
		c.Network = NetworkHost
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Validate reports a configuration New would refuse.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch c.Kind {
	case KindContainer, KindProcess, KindCluster:
	case KindExec:
		if err := validateExec(c); err != nil {
			return err
		}
	case KindURL:
		if c.URL == "" {
			return errors.New("target: url mode needs a URL (CREDITGATE_URL)")
		}
		if c.PowerLoss == PowerLossOn {
			return errors.New("target: url mode cannot mount the backend's data directory through the power-loss layer (unset CREDITGATE_POWERLOSS)")
		}
	default:
		return fmt.Errorf("target: unknown kind %q (want container, process, cluster, exec or url)", c.Kind)
	}
	if c.Network != NetworkHost && c.Network != NetworkBridge {
		return fmt.Errorf("target: unknown network %q (want host or bridge)", c.Network)
	}
	return nil
}

// Capability is something a gate needs beyond HTTP access; the check
// catalog declares which check needs which.
type Capability = catalog.Capability

const (
	CapCrash       = catalog.CapCrash       // Kill: SIGKILL the backend
	CapRestart     = catalog.CapRestart     // Stop/Start on the same data
	CapJournalFile = catalog.CapJournalFile // read/corrupt the journal file
	CapPID         = catalog.CapPID         // /proc sampling of the backend
	CapLogs        = catalog.CapLogs        // backend stdout/stderr
	// CapPowerLoss: a target booted with PowerLossOn implements
	// PowerCutter (power cut that drops unsynced data, disk quota).
	CapPowerLoss = catalog.CapPowerLoss
)

// OwnEngine reports whether targets of this kind run our engine (creditd),
// which the harness starts with settings and tokens of its choosing.
func (k Kind) OwnEngine() bool {
	return k == "" || k == KindContainer || k == KindProcess || k == KindCluster // "": the default, container
}

// Supports reports whether targets of this configuration offer cap, and if
// not, the reason a gate should SKIP with.
func (c Config) Supports(cap Capability) (bool, string) {
	c = c.withDefaults()
	if c.Kind == KindExec {
		return execSupports(c, cap)
	}
	if c.Kind == KindCluster {
		switch cap {
		case CapJournalFile:
			return false, "target cluster: the event stream lives in PostgreSQL, there is no journal file to read or corrupt"
		case CapPowerLoss:
			return false, "target cluster: the events are in PostgreSQL (fsync and synchronous_commit on), not in a journal on the power-loss layer"
		}
		return true, ""
	}
	if cap == CapCluster {
		return false, fmt.Sprintf("target %s: single-instance control and database faults need CREDITGATE_TARGET=cluster", c.Kind)
	}
	if c.Kind != KindURL {
		if cap == CapPowerLoss {
			return powerLossSupport(c)
		}
		return true, ""
	}
	switch cap {
	case CapCrash, CapRestart, CapJournalFile, CapPID, CapLogs, CapPowerLoss:
		return false, fmt.Sprintf("target url (%s): the harness does not control that backend, so %q is unavailable; run with CREDITGATE_TARGET=container or process", c.URL, cap)
	}
	return false, fmt.Sprintf("target: unknown capability %q", cap)
}

// Target is one running backend. Methods are safe for concurrent use; control
// operations (Kill, Stop, Start, Terminate) are serialized.
type Target interface {
	Kind() Kind
	// BaseURL is http://127.0.0.1:<port> (url mode: the configured URL),
	// without a trailing slash. It does not change across restarts.
	BaseURL() string
	// Token is the bearer token to send, "" for none.
	Token() string
	// JournalPath is the host path of the journal file, "" when the harness has
	// no file access (url mode: read GET /api/credits/events instead).
	JournalPath() string
	// PID is the host pid of the backend process, 0 when not running or unknown.
	PID() int
	// Kill SIGKILLs the backend and waits until it is gone. It does not restart.
	Kill(ctx context.Context) error
	// Stop sends SIGTERM and waits for exit. It returns an error if the backend
	// had to be SIGKILLed after StopTimeout or exited unsuccessfully.
	Stop(ctx context.Context) error
	// Start boots the backend again after Kill or Stop, with the same data
	// directory and port, and waits until /api/health answers 200.
	Start(ctx context.Context) error
	// Logs returns the backend's stdout and stderr so far (the last MiB).
	Logs(ctx context.Context) (string, error)
	// Terminate stops the backend for good and removes what New created
	// (container, temporary data directory). Safe to call twice.
	Terminate(ctx context.Context) error
}

// New boots the configured target and returns once it is healthy. Callers
// must Terminate it (register the cleanup before checking the error: a failed
// New may still return a Target holding resources).
func New(ctx context.Context, cfg Config) (Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	switch cfg.Kind {
	case KindURL:
		return newURL(ctx, cfg)
	case KindProcess:
		return newProcess(ctx, cfg)
	case KindCluster:
		return newCluster(ctx, cfg)
	case KindExec:
		return newExec(ctx, cfg)
	default:
		return newContainer(ctx, cfg)
	}
}

// backendEnv is the environment a booted backend gets: cfg.Env plus the
// address and journal the target owns.
func backendEnv(cfg Config, addr, journal string) map[string]string {
	env := make(map[string]string, len(cfg.Env)+2)
	for k, v := range cfg.Env {
		env[k] = v
	}
	env["CREDITD_ADDR"] = addr
	env["CREDITD_JOURNAL"] = journal
	return env
}

// dataDir returns cfg.DataDir, or a new temporary directory and true when the
// target created it (and so removes it on Terminate).
func dataDir(cfg Config) (string, bool, error) {
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return "", false, fmt.Errorf("target: data dir: %w", err)
		}
		abs, err := filepath.Abs(cfg.DataDir)
		return abs, false, err
	}
	dir, err := os.MkdirTemp("", "creditgate-data-")
	if err != nil {
		return "", false, fmt.Errorf("target: data dir: %w", err)
	}
	return dir, true, nil
}

// healthClient never reuses connections: a killed backend must not leave a
// pooled connection that makes the next probe fail or hang.
var healthClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// probeHealth does one GET baseURL/api/health; nil means 200.
func probeHealth(ctx context.Context, baseURL, token string) error {
	status, _, err := getStatus(ctx, baseURL+"/api/health", token)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET /api/health: status %d", status)
	}
	return nil
}

// getStatus does one GET url and returns the status and the body's first
// 64 KiB.
func getStatus(ctx context.Context, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, nil
}

// waitHealthy polls /api/health until it answers 200, the timeout passes, or
// alive reports the backend died (then waiting longer is pointless).
func waitHealthy(ctx context.Context, baseURL, token string, timeout time.Duration, alive func(context.Context) error) error {
	return waitReady(ctx, baseURL+"/api/health", timeout, alive, func(ctx context.Context) error {
		return probeHealth(ctx, baseURL, token)
	})
}

// waitReady polls probe until it returns nil, the timeout passes, or alive
// reports the backend died. what names the probe in the timeout error.
func waitReady(ctx context.Context, what string, timeout time.Duration, alive, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		// Keep the last real answer (e.g. a 503), not the deadline that cut
		// the final probe short.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if alive != nil {
			if err := alive(ctx); err != nil {
				return fmt.Errorf("target: backend died before it was healthy: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("target: %s not healthy within %s: %w", what, timeout, last)
		case <-tick.C:
		}
	}
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// readTail reads r to the end and returns its last limit bytes.
func readTail(r io.Reader, limit int) (string, error) {
	tb := &tailBuffer{limit: limit}
	_, err := io.Copy(tb, r)
	return tb.String(), err
}

// binaryBuild caches the one `go build` of creditd per process.
var binaryBuild struct {
	mu   sync.Mutex
	path string
}

// buildBinary builds ./cmd/creditd into root/build/creditd (static, so the
// same file serves the scratch image and process mode). It writes to a
// temporary name and renames, so concurrent test processes never exec or copy
// a half-written binary.
func buildBinary(ctx context.Context, root string, logger *slog.Logger) (string, error) {
	binaryBuild.mu.Lock()
	defer binaryBuild.mu.Unlock()
	out := filepath.Join(root, "build", "creditd")
	if binaryBuild.path == out {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, "./cmd/creditd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("target: go build ./cmd/creditd: %w\n%s", err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	logger.Info("built creditd", "path", out, "took", time.Since(start).Round(time.Millisecond))
	binaryBuild.path = out
	return out, nil
}

// copyFileAtomic copies src to dst through a temporary file and a rename.
func copyFileAtomic(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
