package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/internal/pglaunch"
)

// KindCluster: PostgreSQL plus N creditd processes on one database, behind
// a round-robin proxy on 127.0.0.1 (BaseURL), so every gate runs unchanged
// with its requests spread over the instances.
const KindCluster Kind = "cluster"

// CapCluster is control of single instances and of the database (the
// Cluster interface).
const CapCluster = catalog.CapCluster

// DefaultClusterSize is the number of instances unless
// CREDITGATE_CLUSTER_SIZE says otherwise.
const DefaultClusterSize = 3

// Cluster is implemented by cluster targets: control of one instance and of
// the database, and direct addresses of the instances (bypassing the proxy).
type Cluster interface {
	Target
	// Instances are the instances' base URLs, in index order.
	Instances() []string
	// KillInstance SIGKILLs instance i; StartInstance boots it again (same
	// port) and waits until it is healthy.
	KillInstance(ctx context.Context, i int) error
	StartInstance(ctx context.Context, i int) error
	// InstancePID is instance i's pid, 0 when it is down.
	InstancePID(i int) int
	// StopDatabase stops PostgreSQL ("immediate" = crash, "fast" = clean);
	// StartDatabase starts it again on the same data and port.
	StopDatabase(ctx context.Context, mode string) error
	StartDatabase(ctx context.Context) error
	// StartExtra starts one more creditd on the database, outside the
	// proxy, with the instances' environment plus env (e.g. another money
	// setting), and waits until it is healthy or exits. The caller
	// terminates the returned target (nil when it could not be created);
	// err says why it is not serving (its log tail when it exited).
	StartExtra(ctx context.Context, env map[string]string) (Target, error)
}

func clusterSize(cfg Config) int {
	if cfg.ClusterSize > 0 {
		return cfg.ClusterSize
	}
	if n, err := strconv.Atoi(os.Getenv("CREDITGATE_CLUSTER_SIZE")); err == nil && n > 0 {
		return n
	}
	return DefaultClusterSize
}

type clusterTarget struct {
	cfg       Config
	pg        *pglaunch.Server
	instances []*processTarget
	proxy     *rrProxy
	srv       *http.Server
	baseURL   string
	dataDir   string
	ownData   bool

	mu         sync.Mutex
	terminated bool
	extras     int // instances StartExtra started
}

var _ Cluster = (*clusterTarget)(nil)

func newCluster(ctx context.Context, cfg Config) (Target, error) {
	dir, own, err := dataDir(cfg)
	if err != nil {
		return nil, err
	}
	c := &clusterTarget{cfg: cfg, dataDir: dir, ownData: own}
	if c.pg, err = newPostgres(ctx); err != nil {
		return c, err
	}
	if cfg.Binary, err = Binary(ctx, cfg); err != nil {
		return c, err
	}
	c.cfg = cfg
	n := clusterSize(cfg)
	// Instances boot one after the other (the first migrates the schema).
	var urls []string
	for i := range n {
		icfg := c.instanceConfig(fmt.Sprintf("instance-%d", i))
		if cfg.StoreURLFor != nil {
			addr, err := cfg.StoreURLFor(i, c.pg.Addr())
			if err != nil {
				return c, fmt.Errorf("target: cluster instance %d: store address: %w", i, err)
			}
			icfg.Env["CREDITD_STORE"] = pglaunch.URLAt(addr, "postgres")
		}
		icfg.Logger = cfg.Logger.With("instance", i)
		t, err := newProcess(ctx, icfg)
		if t != nil {
			c.instances = append(c.instances, t.(*processTarget))
		}
		if err != nil {
			return c, fmt.Errorf("target: cluster instance %d: %w", i, err)
		}
		urls = append(urls, t.BaseURL())
	}
	c.proxy = newRRProxy(urls)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c, err
	}
	c.baseURL = "http://" + ln.Addr().String()
	c.srv = &http.Server{Handler: c.proxy, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	cfg.Logger.Info("cluster up", "instances", n, "proxy", c.baseURL, "postgres", c.pg.URL("postgres"))
	return c, nil
}

// instanceConfig is the configuration of an instance whose data directory
// is name under the cluster's: creditd on the database, no journal layer.
func (c *clusterTarget) instanceConfig(name string) Config {
	icfg := c.cfg
	icfg.Kind = KindProcess
	if icfg.PowerLoss == PowerLossOn {
		icfg.PowerLoss = PowerLossAuto // no journal to put on the layer
	}
	icfg.DataDir = filepath.Join(c.dataDir, name)
	icfg.Env = map[string]string{}
	for k, v := range c.cfg.Env {
		icfg.Env[k] = v
	}
	icfg.Env["CREDITD_STORE"] = c.pg.URL("postgres")
	return icfg
}

func (c *clusterTarget) StartExtra(ctx context.Context, env map[string]string) (Target, error) {
	c.mu.Lock()
	c.extras++
	icfg := c.instanceConfig(fmt.Sprintf("extra-%d", c.extras))
	c.mu.Unlock()
	for k, v := range env {
		icfg.Env[k] = v
	}
	icfg.Logger = c.cfg.Logger.With("instance", "extra")
	t, err := newProcess(ctx, icfg)
	if t == nil {
		return nil, err
	}
	return t, err
}

func (c *clusterTarget) Kind() Kind          { return KindCluster }
func (c *clusterTarget) BaseURL() string     { return c.baseURL }
func (c *clusterTarget) Token() string       { return c.cfg.Token }
func (c *clusterTarget) JournalPath() string { return "" } // the stream is in PostgreSQL: read GET /events
func (c *clusterTarget) Instances() []string { return c.proxy.backends }

// PID is instance 0's pid (what gate E samples), 0 when it is down.
func (c *clusterTarget) PID() int { return c.instances[0].PID() }

func (c *clusterTarget) inst(i int) (*processTarget, error) {
	if i < 0 || i >= len(c.instances) {
		return nil, fmt.Errorf("target: no instance %d (cluster of %d)", i, len(c.instances))
	}
	return c.instances[i], nil
}

func (c *clusterTarget) KillInstance(ctx context.Context, i int) error {
	p, err := c.inst(i)
	if err != nil {
		return err
	}
	return p.Kill(ctx)
}

func (c *clusterTarget) StartInstance(ctx context.Context, i int) error {
	p, err := c.inst(i)
	if err != nil {
		return err
	}
	return p.Start(ctx)
}

func (c *clusterTarget) InstancePID(i int) int {
	p, err := c.inst(i)
	if err != nil {
		return 0
	}
	return p.PID()
}

func (c *clusterTarget) StopDatabase(ctx context.Context, mode string) error {
	return c.pg.Stop(ctx, mode)
}

func (c *clusterTarget) StartDatabase(ctx context.Context) error { return c.pg.Start(ctx) }

// each runs f on every instance concurrently.
func (c *clusterTarget) each(f func(p *processTarget) error) error {
	errs := make([]error, len(c.instances))
	var wg sync.WaitGroup
	for i, p := range c.instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(p); err != nil {
				errs[i] = fmt.Errorf("instance %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Kill SIGKILLs every running instance (the whole backend crashes); the
// database keeps running, as a managed database would.
func (c *clusterTarget) Kill(ctx context.Context) error {
	var running atomic.Int32
	err := c.each(func(p *processTarget) error {
		if p.PID() == 0 {
			return nil
		}
		running.Add(1)
		return p.Kill(ctx)
	})
	if err == nil && running.Load() == 0 {
		return ErrNotRunning
	}
	return err
}

// Stop stops every running instance gracefully.
func (c *clusterTarget) Stop(ctx context.Context) error {
	return c.each(func(p *processTarget) error {
		if p.PID() == 0 {
			return nil
		}
		return p.Stop(ctx)
	})
}

// Start starts the database if it is down and every instance that is not
// running.
func (c *clusterTarget) Start(ctx context.Context) error {
	if err := c.pg.Start(ctx); err != nil {
		return err
	}
	var started atomic.Int32
	err := c.each(func(p *processTarget) error {
		if p.PID() != 0 {
			return nil
		}
		started.Add(1)
		return p.Start(ctx)
	})
	if err == nil && started.Load() == 0 {
		return ErrRunning
	}
	return err
}

func (c *clusterTarget) Logs(ctx context.Context) (string, error) {
	var b strings.Builder
	for i, p := range c.instances {
		l, _ := p.Logs(ctx)
		fmt.Fprintf(&b, "===== instance %d (%s)\n%s\n", i, p.BaseURL(), l)
	}
	fmt.Fprintf(&b, "===== postgres\n%s\n", c.pg.Log())
	return b.String(), nil
}

func (c *clusterTarget) Terminate(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return nil
	}
	c.terminated = true
	var errs []error
	if c.srv != nil {
		_ = c.srv.Close()
	}
	for _, p := range c.instances {
		errs = append(errs, p.Terminate(ctx))
	}
	if c.pg != nil {
		errs = append(errs, c.pg.Stop(ctx, "fast"), c.pg.Remove())
	}
	if c.ownData {
		errs = append(errs, os.RemoveAll(c.dataDir))
	}
	return errors.Join(errs...)
}

// rrProxy spreads requests round-robin over the instances. A request whose
// connection is refused (the instance is down: nothing was sent) goes to the
// next instance, as a load balancer with health checks would route it; any
// other failure is answered 502 and never retried, since the instance may
// have acted on it.
type rrProxy struct {
	backends []string
	next     atomic.Uint64
	client   *http.Client
}

func newRRProxy(backends []string) *rrProxy {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}
	return &rrProxy{backends: backends, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// hop-by-hop headers are not forwarded.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Trailer"}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, "proxy: reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	start := p.next.Add(1)
	var last error
	for try := range uint64(len(p.backends)) {
		backend := p.backends[(start+try)%uint64(len(p.backends))]
		out, err := http.NewRequestWithContext(r.Context(), r.Method, backend+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out.Header = r.Header.Clone()
		for _, h := range hopHeaders {
			out.Header.Del(h)
		}
		out.Header.Set("X-Forwarded-For", r.RemoteAddr)
		resp, err := p.client.Do(out)
		if err != nil {
			last = err
			if errors.Is(err, syscall.ECONNREFUSED) {
				continue // never reached the instance
			}
			break
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		for _, h := range hopHeaders {
			w.Header().Del(h)
		}
		w.Header().Set("X-Creditgate-Instance", backend)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(flushWriter{w}, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, fmt.Sprintf("proxy: no instance answered: %v", last), http.StatusBadGateway)
}

// flushWriter flushes after each write so streamed responses (GET /events)
// flow through.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
