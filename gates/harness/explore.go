package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// BootExplore boots the backend with several principals' tokens, runs the
// generative workload on it and returns the run for the reference model
// (gates/audit/explore.go). Our engine is booted with settings drawn from
// the seed, and so is a backend started from a command line (exec) that
// reads our engine's setting variables (CREDITGATE_EXEC_SETTINGS); another
// one with SPEC §5's defaults, which it applies without being told (SPEC
// names no variables for the thresholds). An exec backend gets the tokens
// in SPEC §6's CREDITD_TOKENS, which it must honour. ids are the catalog checks the gate records from it: where
// the target cannot take tokens (or settings, for the checks that need
// them) the node is skipped, each id SKIP with the reason.
//
// walk 0 is the run's seed; walk 1 a second walk from a seed derived from
// it (WalkSeed). On our engine walk 0 runs on settings drawn from the seed,
// walk 1 on SPEC §5's defaults, which the engine is not told (so a wrong
// built-in default — a timeout, a threshold, the cap — meets the judge),
// with a fail refund share below 1, so a bug that only a share away from
// the default shows (a cancel refunding the fail share) meets them on every
// run, whatever walk 0 drew.
func BootExplore(ctx context.Context, gate string, walk int, ids ...string) (*Env, audit.ExploreRun) {
	p := Load()
	seed := WalkSeed(p.Seed, walk)
	principals := explore.Principals("x-")
	cfg := target.ConfigFromEnv()
	own := cfg.Kind.OwnEngine()
	settings, backend := explore.DefaultSettings(), map[string]string{}
	if ok, _ := (&Env{P: p, TCfg: cfg}).Has(catalog.CapSettings); ok {
		settings = explore.DrawSettings(rand.New(rand.NewPCG(seed, 0x736574)))
		if walk > 0 {
			settings = settings.Defaults()
		}
		backend = settings.Env()
	}
	backend["CREDITD_TOKENS"] = explore.TokensSpec(principals)
	// Booted for the checks the target can take (C31 runs on a backend
	// whose settings the harness cannot choose, C32 does not); the rest
	// are recorded SKIP after the boot. None: the node is skipped.
	pre := &Env{P: p, TCfg: cfg}
	var boot []string
	for _, id := range ids {
		if pre.canTake(catalog.MustLookup(id)) {
			boot = append(boot, id)
		}
	}
	if len(boot) == 0 {
		boot = ids
	}
	opts := []BootOption{Requiring(boot...)}
	if cfg.Kind == target.KindExec {
		// Routes are discovered (and the start seq read) with an admin's
		// token: the backend honours only the tokens it was given.
		opts = append(opts, WithToken(explore.TokenOf(principals, "admin")))
	}
	// Power cuts need the data directory on the power-loss layer; where
	// the target cannot mount it the explorer records them skipped.
	// Its fdatasync takes 2 ms, as on a real disk, so a power cut right
	// after a refusal can land before the sync of the batch that refusal
	// saw (a refusal answered before its cause is durable is caught).
	if ok, _ := cfg.Supports(catalog.CapPowerLoss); ok {
		opts = append(opts, WithPowerLoss(), WithTarget(func(c *target.Config) { c.SyncDelay = 2 * time.Millisecond }))
	}
	env := Boot(ctx, gate, backend, opts...)
	env.C.Token = "" // the explorer sends each command's own token
	writer := explore.TokenOf(principals, "admin")
	if cfg.Kind == target.KindExec {
		env.checkTokens(ctx, principals)
	}
	if !own && (cfg.Kind != target.KindExec || env.tokensIgnored != "") {
		// Tokens the harness did not choose: every command carries the one
		// it was given, and the run is judged without roles.
		writer = env.T.Token()
		if env.tokensIgnored != "" { // the admin's token it discovered the routes with meant nothing to it
			env.Routes = DiscoverRoutes(ctx, env.T.BaseURL(), writer)
		}
		env.oneToken, env.noAuth = true, true
		env.probeWriter(ctx, writer, walk)
	}
	env.Require(ids...) // again, now that the routes (and tokens) are known
	headerKeys := !own && env.writeRefused == "" && !env.bodyKeysTaken(ctx, writer)
	prefix := env.ID("x")
	if walk > 0 {
		prefix = env.ID(fmt.Sprintf("w%dx", walk))
	}
	env.exploreVariant = ""
	if walk > 0 {
		env.exploreVariant = fmt.Sprintf("walk %d (seed %d)", walk+1, seed)
	}
	r, err := explore.Explore(ctx, env.C, explore.Config{HeaderKeysOnly: headerKeys, Seed: seed, Commands: 900, Budget: 40 * time.Second,
		Prefix: prefix, Settings: settings, Principals: principals, Faults: &exploreFaults{env: env},
		Serves: env.exploreServes(), OneToken: env.oneToken, Token: writer})
	Ensure(err == nil, "the generated workload must run (seed %d, %s): %v", seed, settings, err)
	b, _ := json.Marshal(r)
	run, err := audit.ExploreRunFromJSON(b)
	Ensure(err == nil, "the generated run must read back: %v", err)
	run.Foreign, run.NoAuth = !own, env.noAuth
	// The judge's input as judged: `creditgate judge-explore` judges it again offline.
	b, _ = json.Marshal(run)
	name := "explore-run.json"
	if walk > 0 {
		name = fmt.Sprintf("explore-run-walk%d.json", walk+1)
	}
	_ = os.WriteFile(filepath.Join(env.OutDir, name), b, 0o644)
	if headerKeys {
		env.exploreNote = "; keys sent as the Idempotency-Key header only: the backend refused a key in the body (SPEC §3 allows both; A16 judges it)"
	}
	n := audit.CountExplore(run)
	ginkgo.GinkgoWriter.Printf("explore: seed %d, %d commands (%d distinct, %d boundary cases, %d retries, %d final reads), %d principals; %s; settings %s\n",
		seed, n.Commands, n.Distinct, n.Boundary, n.Retries, n.Final, n.Principals, n.FaultLine(), settings)
	return env, run
}

// WalkSeed is the seed of a walk of the generated workload: the run's own
// for walk 0, one derived from it for the others (so LIVE_TEST_SEED alone
// repeats every walk).
func WalkSeed(seed uint64, walk int) uint64 {
	if walk == 0 {
		return seed
	}
	return seed ^ (0x9e3779b97f4a7c15 * uint64(walk))
}

// exploreServes is the explorer's Config.Serves: the routes the backend
// serves, and on another backend only those whose answers the SPEC fixes
// (catalog.ExploreForeignRoutes).
func (e *Env) exploreServes() func(method, path string) bool {
	if e.TCfg.Kind.OwnEngine() {
		return e.Routes.ServesPath
	}
	return RoutesServing(e.foreignExplored()...).ServesPath
}

// foreignExplored are the routes the explorer draws on for another
// backend: the ones of catalog.ExploreForeignRoutes it serves, without
// the human gate's when it runs without auth.
func (e *Env) foreignExplored() []string {
	var out []string
	for _, r := range catalog.ExploreForeignRoutes {
		if e.Routes.Has(r) && !(e.noAuth && slices.Contains(catalog.ExploreIdentityRoutes, r)) {
			out = append(out, r)
		}
	}
	return out
}

// probeWriter asks a backend whose tokens the harness did not choose
// whether token lets it write (a registration): if not, the generated
// workload cannot run there (catalog.CapWriter), and the reason says which
// token to give it.
func (e *Env) probeWriter(ctx context.Context, token string, walk int) {
	r := e.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/agents", Token: token,
		Body: map[string]any{"agent_id": e.ID(fmt.Sprintf("x-writer-probe-%d", walk)), "skill_level": 0}})
	if r.OK() {
		return
	}
	given := "no token (CREDITGATE_TOKEN is empty)"
	if token != "" {
		given = "the token in CREDITGATE_TOKEN"
	}
	e.writeRefused = fmt.Sprintf("the harness cannot give target %s its own principals' tokens and holds %s, with which a registration (POST /api/credits/agents) answered %d %s: set CREDITGATE_TOKEN to a token that may write (SPEC §6: operator or admin)",
		e.TCfg.Kind, given, r.Status, truncate(string(r.Raw), 200))
}

// bodyKeysTaken asks another backend whether it takes a key in the body
// (SPEC §3: the idempotency_key member): it registers a probe agent keyed
// that way and reports whether that was acknowledged.
func (e *Env) bodyKeysTaken(ctx context.Context, admin string) bool {
	r := e.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/agents", Token: admin, Key: "x-bodykey-probe", KeyInBody: true,
		Body: map[string]any{"agent_id": e.ID("x-bodykey-probe"), "skill_level": 0}})
	return r.OK()
}

// unexplored names the routes the workload draws on that the backend does
// not serve ("" when it serves them all), and for another backend which
// settings it ran on.
func (e *Env) unexplored() string {
	var out string
	if !e.TCfg.Kind.OwnEngine() {
		settings := "SPEC §5's default settings"
		if ok, _ := e.Has(catalog.CapSettings); ok {
			settings = "the settings of CREDITGATE_EXEC_SETTINGS"
		}
		out = " (another backend: " + settings + ", only what the SPEC fixes judged"
		switch {
		case e.oneToken && e.T.Token() == "":
			out += "; every command sent without a token (the harness was given none: CREDITGATE_TOKEN), so no roles are judged"
		case e.oneToken:
			out += "; every command sent with the one token the harness was given (CREDITGATE_TOKEN), so no roles are judged"
		case e.noAuth:
			out += "; it serves without a token, so no roles are judged"
		}
		out += ")"
	}
	var missing, left []string
	explored := e.foreignExplored()
	for _, r := range catalog.ExploreRoutes {
		switch {
		case !e.Routes.Has(r):
			missing = append(missing, r)
		case !e.TCfg.Kind.OwnEngine() && !slices.Contains(explored, r):
			left = append(left, r)
		}
	}
	if len(left) > 0 {
		out += fmt.Sprintf("; not explored on another backend (answer shapes the SPEC leaves open, or the human gate without auth): %s", strings.Join(left, ", "))
	}
	if len(missing) > 0 {
		out += fmt.Sprintf("; not explored, not served: %s", strings.Join(missing, ", "))
	}
	return out
}

// canTake reports whether the target offers every capability a check
// needs (before the boot: routes are not known yet).
func (e *Env) canTake(c catalog.Check) bool {
	for _, cap := range c.Needs {
		if ok, _ := e.Has(cap); !ok {
			return false
		}
	}
	return true
}

// checkTokens asks a backend the harness started with its principals'
// tokens whether it honours them: a read without a token must be refused
// (401) and the same read with the reader's token must not be. A backend
// that serves the read without a token runs without auth (SPEC §6's dev
// mode): it is explored all the same, judged without roles (noAuth). One
// that refuses the reader's token too has tokens configured another way:
// the checks needing them are SKIP with what it answered.
func (e *Env) checkTokens(ctx context.Context, principals []explore.Principal) {
	reader := explore.TokenOf(principals, "reader")
	path := "/api/credits/balance/" + e.ID("tokens-probe")
	none := e.C.Do(ctx, scenarios.Call{Method: "GET", Path: path})
	read := e.C.Do(ctx, scenarios.Call{Method: "GET", Path: path, Token: reader})
	refused := func(s int) bool { return s == http.StatusUnauthorized || s == http.StatusForbidden }
	switch {
	case none.Status == http.StatusUnauthorized && !refused(read.Status) && read.Status > 0 && read.Status < 500:
	case none.Status > 0 && none.Status < 500 && !refused(none.Status) && !refused(read.Status):
		e.noAuth = true
	default:
		e.tokensIgnored = fmt.Sprintf("the backend was started with the harness's tokens in CREDITD_TOKENS (SPEC §6: token=principal:role,...) but does not honour them: GET %s answered %d without a token (want 401) and %d with a reader's token", path, none.Status, read.Status)
	}
}

// RecordExplore judges the run and records the findings of the listed
// checks, each with what the run explored.
func (e *Env) RecordExplore(run audit.ExploreRun, ids ...string) {
	n := audit.CountExplore(run)
	for _, f := range audit.JudgeExplore(run) {
		if slices.Contains(ids, catalog.IDOf(f.Check)) {
			by := fmt.Sprintf("%d principals", n.Principals)
			if e.oneToken {
				by = "one token"
			}
			f.Detail = fmt.Sprintf("%d commands (%d distinct, %d boundary cases, %d retries) over %d routes by %s%s; %s; answers: %s; %s",
				n.Commands, n.Distinct, n.Boundary, n.Retries, n.Routes, by, e.unexplored()+e.exploreNote, n.FaultLine(), n.OutcomeLine(), f.Detail)
			if !f.OK {
				f.Detail += "\nrepro: " + e.P.Repro(e.Gate)
			}
			e.RecordFinding(f, e.exploreVariant)
		}
	}
}
