package harness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/chaos/tcpproxy"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/internal/freeport"
	"github.com/creditgate/creditgate/internal/repo"
	"github.com/creditgate/creditgate/scenarios"
)

// Env is one booted target with its KARMA stub and recording client.
type Env struct {
	Gate   string
	P      Params
	TCfg   target.Config
	T      target.Target
	Karma  *Karma // nil when KARMA is disabled or the target is a URL
	C      *scenarios.Client
	OutDir string
	// NS prefixes every id and idempotency key the gate creates on a url
	// target, so several suites (and reruns) can share one backend; ""
	// for the fresh backends the harness boots itself.
	NS string
	// StartSeq is the target's last seq when the suite booted: the gate's
	// own events are the journal after it.
	StartSeq uint64
	// Routes is what the backend serves, discovered at boot.
	Routes Routes
	// fails collects the running spec's failed checks (see Record).
	fails failures
	// unapplied holds the checks already recorded SKIP or N/A (under fails.mu).
	unapplied map[string]bool
	// StoreLink is the fault-injecting proxy on instance 0's database link
	// (WithStoreLink; nil otherwise).
	StoreLink *tcpproxy.Proxy
	// faults pairs the Lasting faults in effect with their history windows.
	faults faultLog
	// tokensIgnored says why a backend started with the harness's tokens
	// does not honour them (see CheckTokens); "" when it does or was not
	// asked to.
	tokensIgnored string
	// noAuth: the explorer judges that backend without roles: it serves
	// without a token (SPEC §6's dev mode), or oneToken.
	noAuth bool
	// oneToken: the harness cannot give that backend its principals'
	// tokens (a url target, or an exec target ignoring CREDITD_TOKENS), so
	// the explorer sends every command with the one it was given.
	oneToken bool
	// writeRefused says why the harness holds no token that backend lets
	// write ("" when it does): catalog.CapWriter.
	writeRefused string
	// exploreNote is what the explorer's detail adds about how it ran
	// (BootExplore).
	exploreNote string
	// exploreVariant names a walk after the first in its findings.
	exploreVariant string
}

// Karma is an in-process KARMA stub on a loopback port that can be
// stopped (connection refused) and started again on the same port.
type Karma struct {
	Stub *karmastub.Server
	Addr string
	mu   sync.Mutex
	srv  *http.Server
}

// Start serves the stub on its address.
func (k *Karma) Start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if ln, err = net.Listen("tcp", k.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("karma stub: %w", err)
	}
	k.srv = &http.Server{Handler: k.Stub, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = k.srv.Serve(ln) }()
	return nil
}

// Stop closes the listener: KARMA refuses connections.
func (k *Karma) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.srv != nil {
		_ = k.srv.Close()
		k.srv = nil
	}
}

// BootOption changes what Boot starts.
type BootOption func(*bootPlan)

type bootPlan struct {
	tweaks    []func(*target.Config)
	require   []string
	sub       string
	noKarma   bool
	storeLink bool
	token     string
}

// WithTarget changes the target configuration read from the environment
// (cluster size, a store link through a proxy, a data directory).
func WithTarget(f func(*target.Config)) BootOption {
	return func(b *bootPlan) { b.tweaks = append(b.tweaks, f) }
}

// WithPowerLoss puts the target's data directory on the FUSE power-loss
// layer (chaos/lazyfs): power cuts and disk quotas apply.
func WithPowerLoss() BootOption {
	return WithTarget(func(c *target.Config) { c.PowerLoss, c.DataDir = target.PowerLossOn, "" })
}

// WithStoreLink puts instance 0 of a cluster target behind a
// fault-injecting TCP proxy on its database link (chaos/tcpproxy): Env.
// StoreLink is what fault.LinkDelay, fault.Partition and fault.LinkCut act
// on; the other instances connect directly.
func WithStoreLink() BootOption { return func(b *bootPlan) { b.storeLink = true } }

// WithToken is the bearer token the harness sends from the boot on (route
// discovery, the first reads) when the gate starts the backend with tokens
// of its own (CREDITD_TOKENS), which the target's configured token is not.
func WithToken(tok string) BootOption { return func(b *bootPlan) { b.token = tok } }

// WithoutKarma boots no KARMA stub: health depends on the journal alone.
func WithoutKarma() BootOption { return func(b *bootPlan) { b.noKarma = true } }

// WithOutDir writes this target's artifacts and evidence into
// gate-<X>/<sub>, apart from the gate's main target.
func WithOutDir(sub string) BootOption { return func(b *bootPlan) { b.sub = sub } }

// Requiring declares the catalog checks the booted target exists for: when
// any of them lacks a capability on the configured target (a power-loss
// layer, settings, tokens), the target could not serve them, so each such
// check is recorded SKIP with its reason and the node is skipped without
// booting anything.
func Requiring(ids ...string) BootOption {
	return func(b *bootPlan) { b.require = append(b.require, ids...) }
}

// Fresh reports whether the backend holds only what this run wrote: our
// engine, and a backend the harness started from a command line in a data
// directory of its own (no CREDITGATE_EXEC_DATA_DIR). Its counters are then
// this run's alone.
func (e *Env) Fresh() bool {
	return e.TCfg.Kind.OwnEngine() || e.TCfg.Kind == target.KindExec && e.TCfg.DataDir == ""
}

// HealthyStates are the GET /api/health states that mean healthy: our
// engine's documented "healthy"; for another backend "ok" too (SPEC §6
// fixes only "degraded" and the original's "ok" on GET /health).
func (e *Env) HealthyStates() []string {
	if e.TCfg.Kind.OwnEngine() {
		return []string{"healthy"}
	}
	return []string{"healthy", "ok"}
}

// karmaControllable reports whether a target of cfg can be pointed at the
// harness's KARMA stub: our own engine always, an exec backend whose
// command names {karma_url}.
func karmaControllable(cfg target.Config) bool {
	return cfg.Kind.OwnEngine() || cfg.ExecTakesKarma()
}

// Boot starts the gate's target (with extra backend env) and, unless
// disabled, a KARMA stub. Cleanup is registered with DeferCleanup.
func Boot(ctx context.Context, gate string, backendEnv map[string]string, opts ...BootOption) *Env {
	var plan bootPlan
	for _, o := range opts {
		o(&plan)
	}
	p := Load()
	if err := p.Validate(); err != nil {
		ginkgo.Fail(err.Error())
	}
	cfg := target.ConfigFromEnv()
	if cfg.Kind == "" && cfg.URL == "" && cfg.Exec == "" {
		cfg.Kind = target.KindContainer // the default, named in every reason
	}
	for _, t := range plan.tweaks {
		t(&cfg)
	}
	var link *tcpproxy.Proxy
	if plan.storeLink {
		cfg.StoreURLFor = func(i int, db string) (string, error) {
			if i != 0 {
				return db, nil
			}
			p, err := tcpproxy.New(db)
			if err != nil {
				return "", err
			}
			link = p
			return p.Addr(), nil
		}
	}
	env := &Env{Gate: gate, P: p, TCfg: cfg}
	env.OutDir = OutDir(gate)
	if plan.sub != "" {
		env.OutDir = filepath.Join(env.OutDir, plan.sub)
		_ = os.MkdirAll(env.OutDir, 0o755)
	}
	if len(plan.require) > 0 {
		env.requireBeforeBoot(plan.require)
	}
	if plan.sub == "" {
		env.saveRunConfig()
	}
	cfg.Env = map[string]string{}
	for k, v := range backendEnv {
		cfg.Env[k] = v
	}
	// Our own engine is pointed at the stub by CREDITD_KARMA_URL, an exec
	// backend by its command's {karma_url}; nothing else can be.
	if p.KarmaEnabled && !plan.noKarma && karmaControllable(cfg) {
		port, err := freeport.Loopback()
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		env.Karma = &Karma{Stub: karmastub.New(int64(p.Seed)), Addr: fmt.Sprintf("127.0.0.1:%d", port)}
		if err := env.Karma.Start(); err != nil {
			ginkgo.Fail(err.Error())
		}
		ginkgo.DeferCleanup(env.Karma.Stop)
		cfg.KarmaURL = "http://" + env.Karma.Addr
		if cfg.Kind.OwnEngine() {
			cfg.Env["CREDITD_KARMA_URL"] = cfg.KarmaURL
		}
	}
	t, err := target.New(ctx, cfg)
	if link != nil {
		env.StoreLink = link
		ginkgo.DeferCleanup(link.Close)
	}
	if t != nil {
		ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) {
			if ginkgo.CurrentSpecReport().Failed() || os.Getenv("CREDITGATE_KEEP_EVIDENCE") != "" {
				env.SaveEvidence(ctx)
			}
			_ = t.Terminate(ctx)
		}, ginkgo.NodeTimeout(time.Minute))
	}
	if err != nil {
		ginkgo.Fail(fmt.Sprintf("booting the %s target: %v", cfg.Kind, err))
	}
	env.T = t
	env.TCfg = cfg
	token := cmp.Or(plan.token, t.Token())
	env.Routes = DiscoverRoutes(ctx, t.BaseURL(), token)
	ginkgo.GinkgoWriter.Println(env.Routes.Summary())
	if plan.sub == "" {
		env.saveScope()
	}
	env.C = scenarios.NewClient(t.BaseURL(), token)
	if cl, ok := t.(target.Cluster); ok {
		env.C.Instances = cl.Instances()
	}
	// A backend the harness did not start fresh may hold earlier runs' ids:
	// namespace every id (url; exec with a data dir the user gave).
	if !t.Kind().OwnEngine() {
		env.NS = fmt.Sprintf("r%d%s-", time.Now().Unix()%1_000_000, strings.ToLower(gate))
		env.C.NS = env.NS
		// Pools, missions and collaborations in the bodies it documents.
		env.C.Bodies = env.Routes
		ginkgo.DeferCleanup(func() {
			if f := env.C.Fitted(); len(f) > 0 {
				ginkgo.GinkgoWriter.Printf("request bodies fitted to the backend's OpenAPI document: %s\n", strings.Join(f, "; "))
			}
		})
		env.StartSeq = env.currentSeq(ctx)
	}
	if plan.sub == "" {
		env.saveRunConfig()
	}
	if v := os.Getenv("CREDITGATE_APPROVER_TOKENS"); v != "" {
		env.C.ApproverTokens = strings.Split(v, ",")
	}
	ginkgo.DeferCleanup(env.SaveHistory)
	return env
}

// requireBeforeBoot skips the node, recording why, when a check the target
// is booted for lacks a capability (routes are not known before the boot).
func (e *Env) requireBeforeBoot(ids []string) {
	var lacking []string
	for _, id := range ids {
		if !e.canTake(catalog.MustLookup(id)) {
			lacking = append(lacking, id)
		}
	}
	if len(lacking) > 0 {
		e.Require(lacking...) // records each SKIP and skips: none of them applies
	}
}

// ID namespaces an id the gate creates (see NS).
func (e *Env) ID(s string) string { return e.NS + s }

// currentSeq is the backend's last seq from GET /digest, 0 when the backend
// does not serve it (then the journal audits do not apply either: they need
// the event stream, see catalog.CapJournal).
func (e *Env) currentSeq(ctx context.Context) uint64 {
	if !e.Routes.Has(catalog.Digest) {
		return 0
	}
	r := e.C.Get(ctx, "/api/credits/digest")
	if !r.OK() {
		ginkgo.Fail(fmt.Sprintf("target %s: GET /api/credits/digest answered %d %s", e.T.BaseURL(), r.Status, r.Raw))
	}
	seq, _ := r.Body["seq"].(json.Number)
	n, _ := strconv.ParseUint(string(seq), 10, 64)
	return n
}

// Rand returns a generator for one named stream of the run's seed, so each
// scenario's choices are independent of the order scenarios run in.
func (e *Env) Rand(stream string) *rand.Rand {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(stream) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(e.P.Seed, h))
}

// Journal reads the gate's part of the journal (everything after StartSeq):
// the history audits compare it with what this suite's client did.
func (e *Env) Journal(ctx context.Context) (*audit.Journal, error) {
	if e.StartSeq > 0 {
		return e.ours(audit.FetchJournal(ctx, e.T.BaseURL(), e.T.Token(), nil, audit.WithAfterSeq(e.StartSeq)))
	}
	return e.FullJournal(ctx)
}

// ours marks a journal read from our own engine (Journal.MarkOurs): its
// forms are required of it, not recognized from its lines.
func (e *Env) ours(j *audit.Journal, err error) (*audit.Journal, error) {
	if j != nil && e.TCfg.Kind.OwnEngine() {
		j.MarkOurs()
	}
	return j, err
}

// FullJournal reads the whole journal: from the file when the harness
// controls it, else over GET /api/credits/events. Projections are folds of
// all of it.
func (e *Env) FullJournal(ctx context.Context) (*audit.Journal, error) {
	if p := e.T.JournalPath(); p != "" {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return e.ours(audit.ReadJournal(f))
	}
	return e.ours(audit.FetchJournal(ctx, e.T.BaseURL(), e.T.Token(), nil))
}

// OutDir is where a gate writes its artifacts: $CREDITGATE_OUT/<gate> or
// out/gates/<gate> under the repo root.
func OutDir(gate string) string {
	base := os.Getenv("CREDITGATE_OUT")
	if base == "" {
		if root, err := repo.Root(); err == nil {
			base = filepath.Join(root, "out", "gates")
		} else {
			base = filepath.Join(os.TempDir(), "creditgate-out")
		}
	}
	dir := filepath.Join(base, "gate-"+gate)
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// SaveEvidence copies the journal and the backend logs into the out dir.
func (e *Env) SaveEvidence(ctx context.Context) {
	dir := filepath.Join(e.OutDir, "evidence")
	_ = os.MkdirAll(dir, 0o755)
	if p := e.T.JournalPath(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "credits.jsonl"), b, 0o644)
		}
	}
	if logs, err := e.T.Logs(ctx); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "backend.log"), []byte(logs), 0o644)
	}
	if f, err := os.Create(filepath.Join(dir, "history.jsonl")); err == nil {
		_ = e.C.History.WriteJSONL(f)
		f.Close()
	}
	e.saveWindows(dir)
	_ = os.WriteFile(filepath.Join(dir, "repro.txt"), []byte(e.P.Repro(e.Gate)+"\n"), 0o644)
	ginkgo.GinkgoWriter.Printf("evidence saved in %s\n", dir)
}

// EventsByPages reads GET /api/credits/events in pages of limit lines by
// after_seq (each page starts after the seq of the last line read, so a
// stream with gaps pages right) until a page comes back short. It returns
// the bytes read, how many pages held more lines than asked for, and a
// note naming the first page that failed ("" when none did).
func (e *Env) EventsByPages(ctx context.Context, limit int) (raw []byte, overfull int, note string) {
	for after := uint64(0); ; {
		r := e.C.Get(ctx, fmt.Sprintf("/api/credits/events?after_seq=%d&limit=%d", after, limit))
		if r.Status != 200 {
			note += fmt.Sprintf("; GET /events?after_seq=%d answered %d %.200s", after, r.Status, r.Raw)
			return raw, overfull, note
		}
		raw = append(raw, r.Raw...)
		lines := bytes.Count(r.Raw, []byte("\n"))
		if lines > limit {
			if overfull++; overfull <= 3 {
				note += fmt.Sprintf("; GET /events?after_seq=%d&limit=%d answered %d lines", after, limit, lines)
			}
		}
		if lines < limit {
			return raw, overfull, note
		}
		last := bytes.TrimSpace(r.Raw)
		last = last[bytes.LastIndexByte(last, '\n')+1:]
		var head struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal(last, &head); err != nil || head.Seq <= after {
			note += fmt.Sprintf("; the page after seq %d ends in a line without a greater seq: %.200q", after, last)
			return raw, overfull, note
		}
		after = head.Seq
	}
}
