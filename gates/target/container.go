package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/creditgate/creditgate/internal/freeport"
	"github.com/creditgate/creditgate/internal/repo"
)

// providerName is our testcontainers runtime provider: the standard Docker
// discovery, but published ports are always on 127.0.0.1 and the default
// network is "host" (dockerd runs with --bridge=none: without this,
// testcontainers would create a reaper_default bridge network).
const providerName = "creditgate-loopback"

// imageLabel marks images built from our Dockerfiles (LABEL in Dockerfile).
const imageLabel = "org.creditgate.image"

// containerPort is where creditd listens inside the container in bridge mode.
const containerPort = "8000/tcp"

var (
	registerErr error

	tcSetup struct {
		once sync.Once
		err  error
		// network is the first container target's Network: it decides the
		// provider's default network, which testcontainers fixes per process.
		network string
	}
)

func init() {
	// Providers must be registered before testcontainers discovers Docker,
	// i.e. before any container call: hence init.
	registerErr = testcontainers.RegisterProvider(providerName, func() testcontainers.RuntimeProvider {
		return loopbackProvider{}
	})
}

type loopbackProvider struct{}

func (loopbackProvider) Initialize(context.Context) (testcontainers.RuntimeConfig, error) {
	defaultNetwork := "bridge"
	if tcSetup.network == NetworkHost {
		defaultNetwork = "host"
	}
	return testcontainers.RuntimeConfig{PublishedHost: "127.0.0.1", DefaultBridgeNetwork: defaultNetwork}, nil
}

// setupTestcontainers selects our provider and disables Ryuk (the reaper image
// cannot be pulled: no registry) through the environment, which
// testcontainers reads once per process. It then checks that the settings
// took effect, because a testcontainers call made earlier elsewhere in the
// process would have frozen other values; we refuse to run rather than dial a
// gateway address.
func setupTestcontainers(network string) error {
	tcSetup.once.Do(func() {
		tcSetup.network = network
		if registerErr != nil {
			tcSetup.err = fmt.Errorf("target: register testcontainers provider: %w", registerErr)
			return
		}
		if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
		if os.Getenv("TESTCONTAINERS_PROVIDER") == "" {
			os.Setenv("TESTCONTAINERS_PROVIDER", providerName)
		}
		p, err := testcontainers.NewDockerProvider()
		if err != nil {
			tcSetup.err = fmt.Errorf("target: docker: %w", err)
			return
		}
		defer p.Close()
		if host := p.RuntimeConfig().PublishedHost; host != "127.0.0.1" {
			tcSetup.err = fmt.Errorf("target: testcontainers would publish ports on %q, not 127.0.0.1 (TESTCONTAINERS_PROVIDER=%q; unset it, and make sure no testcontainers call precedes the first target)", host, os.Getenv("TESTCONTAINERS_PROVIDER"))
			return
		}
		if !p.Config().RyukDisabled {
			tcSetup.err = errors.New("target: testcontainers' Ryuk reaper is enabled but its image cannot be pulled here; set TESTCONTAINERS_RYUK_DISABLED=true")
		}
	})
	if tcSetup.err == nil && network != tcSetup.network {
		return fmt.Errorf("target: network %q requested, but this process already uses %q (testcontainers fixes its runtime per process)", network, tcSetup.network)
	}
	return tcSetup.err
}

// DockerAvailable reports whether a Docker engine answers, for tests that
// skip the container target without one. It selects the same testcontainers
// runtime as a host-network container target.
func DockerAvailable(ctx context.Context) error {
	if err := setupTestcontainers(NetworkHost); err != nil {
		return err
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Info(ctx, client.InfoOptions{})
	return err
}

// containerTarget is the backend in a Docker container managed by
// testcontainers-go.
type containerTarget struct {
	cfg        Config
	baseURL    string
	dataDir    string
	ownDataDir bool
	work       string     // host directory bound as /data: dataDir or the layer's mount
	layer      *diskLayer // nil without PowerLossOn
	logger     *slog.Logger
	docker     *testcontainers.DockerClient

	mu         sync.Mutex // serializes control operations
	ctr        *testcontainers.DockerContainer
	terminated bool
}

func newContainer(ctx context.Context, cfg Config) (Target, error) {
	if err := setupTestcontainers(cfg.Network); err != nil {
		return nil, err
	}
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("target: docker client: %w", err)
	}
	dir, own, err := dataDir(cfg)
	if err != nil {
		docker.Close()
		return nil, err
	}
	c := &containerTarget{cfg: cfg, dataDir: dir, ownDataDir: own, work: dir, docker: docker, logger: cfg.Logger}
	if err := shareWithContainerUser(dir); err != nil {
		return c, err
	}
	if cfg.PowerLoss == PowerLossOn {
		// allow_other: the container's user (65532) is not the user that
		// mounted the layer. UNTESTED by the helper that added it (the
		// container target was not run); see docs/gates.md.
		if c.layer, err = mountLayer(dir, cfg, true); err != nil {
			return c, err
		}
		c.work = c.layer.mnt
	}
	port, err := freeport.Loopback()
	if err != nil {
		return c, err
	}
	c.baseURL = "http://127.0.0.1:" + strconv.Itoa(port)
	c.logger = cfg.Logger.With("target", "container", "url", c.baseURL)

	buildLog := &tailBuffer{limit: 64 << 10}
	req := testcontainers.ContainerRequest{
		WaitingFor: healthStrategy{baseURL: c.baseURL, token: cfg.Token, timeout: cfg.StartTimeout},
	}
	if cfg.NoBuild {
		req.Image = cfg.Image
	} else {
		if err := prepareBuildContext(ctx, &cfg); err != nil {
			return c, err
		}
		repo, tag := splitImage(cfg.Image)
		req.FromDockerfile = testcontainers.FromDockerfile{
			Context:    cfg.Context,
			Dockerfile: cfg.Dockerfile,
			Repo:       repo,
			Tag:        tag,
			// Fixed tag + KeepImage: rebuilds hit the layer cache and one
			// image is left behind, not one per run.
			KeepImage:      true,
			BuildLogWriter: buildLog,
		}
	}
	journal := "/data/" + JournalName
	hostPort := strconv.Itoa(port)
	if cfg.Network == NetworkHost {
		req.Env = backendEnv(cfg, "127.0.0.1:"+hostPort, journal)
	} else {
		// Inside its own network namespace creditd must listen on all of the
		// container's interfaces; the host side is published on loopback only.
		req.Env = backendEnv(cfg, "0.0.0.0:8000", journal)
		if req.Env["CREDITD_TOKENS"] == "" {
			// The port is published on the host's loopback only, so dev mode
			// without tokens is deliberate here: say so, or creditd refuses
			// a non-loopback address without auth.
			req.Env["CREDITD_INSECURE_NO_AUTH"] = "true"
		}
		req.ExposedPorts = []string{containerPort}
	}
	req.HostConfigModifier = func(hc *container.HostConfig) {
		hc.Binds = []string{c.work + ":/data"}
		// The harness alone decides when the backend comes back after a kill.
		hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyDisabled}
		if cfg.Network == NetworkHost {
			hc.NetworkMode = "host"
			return
		}
		// A fixed host port (not Docker's ephemeral one) keeps BaseURL stable
		// across Stop/Start.
		hc.PortBindings = network.PortMap{
			network.MustParsePort(containerPort): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}},
		}
	}

	start := time.Now()
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: req,
		Started:          true,
		Logger:           printfLogger{cfg.Logger},
	})
	if dc, ok := ctr.(*testcontainers.DockerContainer); ok {
		c.ctr = dc // may be a nil pointer when creation failed
	}
	if err != nil {
		if bl := buildLog.String(); bl != "" {
			err = fmt.Errorf("%w\nbuild log:\n%s", err, lastLines(bl, 20))
		}
		if c.ctr != nil {
			if logs, lerr := c.Logs(ctx); lerr == nil && logs != "" {
				err = fmt.Errorf("%w\ncontainer log tail:\n%s", err, lastLines(logs, 20))
			}
		}
		return c, fmt.Errorf("target: boot container: %w", err)
	}
	if !cfg.NoBuild {
		c.pruneSupersededImages(ctx)
	}
	c.logger.Info("container ready", "id", c.ctr.GetContainerID()[:12], "image", cfg.Image, "took", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// pruneSupersededImages removes our images that a rebuild left untagged:
// each new creditd binary means a new image under the fixed tag, and the old
// one would otherwise pile up. Images used by a container are never pruned,
// so parallel runs are safe. Best effort.
func (c *containerTarget) pruneSupersededImages(ctx context.Context) {
	f := make(client.Filters).Add("dangling", "true").Add("label", imageLabel)
	res, err := c.docker.ImagePrune(ctx, client.ImagePruneOptions{Filters: f})
	if err != nil {
		c.logger.Warn("prune superseded images", "err", err)
		return
	}
	if n := len(res.Report.ImagesDeleted); n > 0 {
		c.logger.Info("pruned superseded images", "deleted", n)
	}
}

// prepareBuildContext puts the creditd binary and the empty data directory
// where the Dockerfile expects them (build/creditd, build/data).
func prepareBuildContext(ctx context.Context, cfg *Config) error {
	if cfg.Context == "" {
		root, err := repo.Root()
		if err != nil {
			return err
		}
		cfg.Context = root
	}
	buildDir := filepath.Join(cfg.Context, "build")
	if err := os.MkdirAll(filepath.Join(buildDir, "data"), 0o755); err != nil {
		return err
	}
	src, err := Binary(ctx, *cfg)
	if err != nil {
		return err
	}
	dst := filepath.Join(buildDir, "creditd")
	if src == dst {
		return nil
	}
	return copyFileAtomic(src, dst, 0o755)
}

// shareWithContainerUser lets the image's non-root user (65532) write the
// bind-mounted data directory. As root we chown it (and anything already in
// it, e.g. a journal from a process-mode run); otherwise we open it up.
func shareWithContainerUser(dir string) error {
	if os.Geteuid() != 0 {
		return os.Chmod(dir, 0o777)
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, containerUID, containerUID)
	})
}

// splitImage splits "repo:tag" at the tag's colon (not a registry port's).
func splitImage(image string) (repo, tag string) {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "latest"
	}
	return image[:i], image[i+1:]
}

func (c *containerTarget) Kind() Kind          { return KindContainer }
func (c *containerTarget) BaseURL() string     { return c.baseURL }
func (c *containerTarget) Token() string       { return c.cfg.Token }
func (c *containerTarget) JournalPath() string { return filepath.Join(c.work, JournalName) }

// PID is the backend's host pid, from the container state.
func (c *containerTarget) PID() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.state(ctx)
	if err != nil || !st.Running {
		return 0
	}
	return st.Pid
}

func (c *containerTarget) state(ctx context.Context) (*container.State, error) {
	if c.ctr == nil {
		return nil, ErrNotRunning
	}
	return c.ctr.State(ctx)
}

func (c *containerTarget) Kill(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killLocked(ctx)
}

func (c *containerTarget) killLocked(ctx context.Context) error {
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("target: inspect: %w", err)
	}
	if !st.Running {
		return ErrNotRunning
	}
	if _, err := c.docker.ContainerKill(ctx, c.ctr.GetContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		return fmt.Errorf("target: kill container: %w", err)
	}
	// The kill API returns once the signal is sent; wait until Docker has
	// seen the process die so the caller observes a dead backend.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := c.state(ctx)
		if err != nil {
			return fmt.Errorf("target: inspect after kill: %w", err)
		}
		if !st.Running {
			c.logger.Info("killed container", "exit_code", st.ExitCode)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("target: container still running after SIGKILL: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (c *containerTarget) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("target: inspect: %w", err)
	}
	if !st.Running {
		return ErrNotRunning
	}
	return c.stopLocked(ctx)
}

func (c *containerTarget) stopLocked(ctx context.Context) error {
	timeout := c.cfg.StopTimeout
	if err := c.ctr.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("target: stop container: %w", err)
	}
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("target: inspect after stop: %w", err)
	}
	switch st.ExitCode {
	case 0:
		c.logger.Info("stopped container")
		return nil
	case 137: // 128 + SIGKILL: Docker gave up waiting after SIGTERM.
		return fmt.Errorf("target: backend did not exit within %s of SIGTERM; Docker SIGKILLed it", timeout)
	default:
		return fmt.Errorf("target: backend did not exit cleanly after SIGTERM: exit code %d", st.ExitCode)
	}
}

func (c *containerTarget) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return errors.New("target: container target terminated")
	}
	st, err := c.state(ctx)
	if err != nil {
		return fmt.Errorf("target: inspect: %w", err)
	}
	if st.Running {
		return ErrRunning
	}
	// DockerContainer.Start runs the health wait strategy again.
	if err := c.ctr.Start(ctx); err != nil {
		return fmt.Errorf("target: start container: %w", err)
	}
	return nil
}

func (c *containerTarget) Logs(ctx context.Context) (string, error) {
	if c.ctr == nil {
		return "", ErrNotRunning
	}
	rc, err := c.ctr.Logs(ctx)
	if err != nil {
		return "", fmt.Errorf("target: container logs: %w", err)
	}
	defer rc.Close()
	return readTail(rc, logLimitBytes)
}

func (c *containerTarget) Terminate(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return nil
	}
	c.terminated = true
	var errs []error
	if c.ctr != nil {
		// Terminate sends SIGTERM, waits, removes the container. The bind
		// mounted data directory stays; we remove it below if it is ours.
		errs = append(errs, c.ctr.Terminate(ctx))
	}
	errs = append(errs, c.layer.unmount())
	if c.ownDataDir {
		errs = append(errs, os.RemoveAll(c.dataDir))
	}
	errs = append(errs, c.docker.Close())
	return errors.Join(errs...)
}

// healthStrategy is the readiness wait: poll GET /api/health on 127.0.0.1
// and fail fast if the container exits. (wait.ForHTTP needs a mapped port,
// which host networking does not have.)
type healthStrategy struct {
	baseURL string
	token   string
	timeout time.Duration
}

func (s healthStrategy) WaitUntilReady(ctx context.Context, t wait.StrategyTarget) error {
	alive := func(ctx context.Context) error {
		st, err := t.State(ctx)
		if err != nil {
			return err
		}
		if st.Running {
			return nil
		}
		tail := ""
		if rc, err := t.Logs(ctx); err == nil {
			logs, _ := readTail(rc, 16<<10)
			rc.Close()
			tail = lastLines(logs, 20)
		}
		return fmt.Errorf("container %s with exit code %d; log tail:\n%s", st.Status, st.ExitCode, tail)
	}
	return waitHealthy(ctx, s.baseURL, s.token, s.timeout, alive)
}

func (s healthStrategy) String() string { return "GET " + s.baseURL + "/api/health" }

// printfLogger routes testcontainers' chatter to our logger at debug level.
type printfLogger struct{ l *slog.Logger }

func (p printfLogger) Printf(format string, v ...any) {
	p.l.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "source", "testcontainers")
}

// PowerCut: see PowerCutter.
func (c *containerTarget) PowerCut(ctx context.Context) (PowerCutReport, error) {
	c.mu.Lock()
	rep, err := c.layer.cut(func() error { return ignoreNotRunning(c.killLocked(ctx)) })
	c.mu.Unlock()
	if err != nil {
		return rep, err
	}
	c.logger.Info("power cut", "bytes_dropped", rep.BytesDropped, "files_reverted", rep.FilesReverted, "files_removed", rep.FilesRemoved)
	return rep, c.Start(ctx)
}

func (c *containerTarget) SetDiskQuota(n int64) error                { return c.layer.setQuota(n) }
func (c *containerTarget) DiskUsed() int64                           { return c.layer.used() }
func (c *containerTarget) FailSyncs() error                          { return c.layer.failSyncs() }
func (c *containerTarget) TrapSync(t *SyncTrap) (func() bool, error) { return c.layer.trapSync(t) }
