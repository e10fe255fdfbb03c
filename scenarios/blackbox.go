package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// BlackBoxConfig is the workload the black-box judge (gates/audit
// BlackBox) reads. It uses only the original system's routes (POST
// /agents, /consume, /refund, /add; GET /balance/{id}, /balances,
// /history/{id}), so it runs against any backend, and records every
// request through the Client's history.
type BlackBoxConfig struct {
	Agents     int     // agents created (default 4)
	Sequential int     // keyed writes per agent, one at a time (default 30)
	RetryShare float64 // share of sequential writes retried with the same key and body at once (default 0.3)
	Concurrent int     // keyed writes per agent sent at once, two of them duplicated concurrently (default 8)
	// Prefix starts every agent id, after the Client's NS (default "bb").
	Prefix string
	// RunID tells this run's agents from an earlier run's on the same
	// backend; "" = derived from the clock (the workload itself still
	// derives only from the seed).
	RunID string
}

// DefaultBlackBox is a few hundred requests: 4 agents × 30 sequential
// writes (30% retried) and 8 concurrent ones, the boundary and hostile
// requests, and the snapshot.
func DefaultBlackBox() BlackBoxConfig {
	return BlackBoxConfig{Agents: 4, Sequential: 30, RetryShare: 0.3, Concurrent: 8, Prefix: "bb"}
}

// BlackBoxRun is what the workload recorded: its own operations (in record
// order) and the final snapshot, the two inputs of audit.BlackBox.
type BlackBoxRun struct {
	Agents   []string
	Phantoms []string
	Ops      []history.Op
	Snapshot history.Snapshot
	Elapsed  time.Duration
}

// Requests is how many requests the run sent.
func (r BlackBoxRun) Requests() int { return len(r.Ops) }

// bbAmounts are amounts whose float sums show binary noise (0.1 + 0.2,
// 1.005, 37.2, 2.675 …).
var bbAmounts = []string{"0.1", "0.2", "0.3", "1.005", "37.2", "2.675", "0.07", "1.1", "4.35", "0.015", "0.001", "12.345"}

// bbHostile are amounts every backend must refuse, sent verbatim.
// "12345e-4" and "2.5e-3" carry a fourth decimal in exponent form (a
// check counting the digits after '.' lets them through, truncated).
var bbHostile = []string{"NaN", "Infinity", "-Infinity", "1e309", "-5", "0", "1e15", `"NaN"`, `"-5"`, `"abc"`, "0.0001", "null", "12345e-4", "2.5e-3"}

// bbRecorder sends the workload through the Client (which records every
// request in its history) and remembers only which operations were its
// own, so the run's ops are read back from that one history.
type bbRecorder struct {
	c   *Client
	mu  sync.Mutex
	ids []uint64
}

func (b *bbRecorder) keep(r Reply) Reply {
	if r.Op.ID != 0 {
		b.mu.Lock()
		b.ids = append(b.ids, r.Op.ID)
		b.mu.Unlock()
	}
	return r
}

// ops reads the workload's operations back from the client's history, in
// record order; it fails when the history no longer holds all of them.
func (b *bbRecorder) ops() ([]history.Op, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops := b.c.History.OpsByID(b.ids)
	if len(ops) != len(b.ids) {
		return ops, fmt.Errorf("blackbox: the history keeps %d of the run's %d operations (dropped %d)", len(ops), len(b.ids), b.c.History.Dropped())
	}
	return ops, nil
}

func (b *bbRecorder) get(ctx context.Context, path string) Reply { return b.keep(b.c.Get(ctx, path)) }

// write posts {agent_id, amount, reason} to /consume, /refund or /add with
// the amount's literal verbatim.
func (b *bbRecorder) write(ctx context.Context, kind history.Kind, agent, amount, key string, role history.Role) Reply {
	path := map[history.Kind]string{history.KindConsume: "/consume", history.KindRefund: "/refund", history.KindAdd: "/add"}[kind]
	aj, _ := json.Marshal(agent)
	raw := []byte(`{"agent_id":` + string(aj) + `,"amount":` + amount + `,"reason":"blackbox"}`)
	m, _ := money.ParseMilli(strings.Trim(amount, `"`))
	return b.keep(b.c.doRaw(ctx, Call{Method: "POST", Path: api + path, Kind: kind, Role: role, Key: key, Agent: agent, AmountMilli: m,
		Route: "POST " + path}, raw, amount))
}

func (b *bbRecorder) create(ctx context.Context, agent, key string, role history.Role) Reply {
	aj, _ := json.Marshal(agent)
	raw := []byte(`{"agent_id":` + string(aj) + `,"skill_level":1.0}`)
	return b.keep(b.c.doRaw(ctx, Call{Method: "POST", Path: api + "/agents", Kind: history.KindCreateAgent, Role: role, Key: key, Agent: agent,
		Route: "POST /agents"}, raw, ""))
}

// BlackBox runs the black-box workload: per agent (agents in parallel, each
// agent's requests one at a time so balance_after comparisons are exact)
// creation, funding, keyed writes of noisy amounts with same-key retries, a
// consume above and one at the balance, a re-registration, hostile amounts,
// then concurrent writes with concurrent duplicates; requests naming a
// never-created agent; then the snapshot (GET /balances, GET /balance/{id}
// and GET /history/{id} of every agent and the phantom).
func BlackBox(ctx context.Context, c *Client, rng *rand.Rand, cfg BlackBoxConfig) (BlackBoxRun, error) {
	def := DefaultBlackBox()
	if cfg.Agents <= 0 {
		cfg.Agents = def.Agents
	}
	if cfg.Prefix == "" {
		cfg.Prefix = def.Prefix
	}
	if cfg.RunID == "" {
		cfg.RunID = strconv.FormatInt(time.Now().UnixNano()%(36*36*36*36*36*36), 36)
	}
	b := &bbRecorder{c: c}
	run := BlackBoxRun{}
	base := fmt.Sprintf("%s%s-%s", c.NS, cfg.Prefix, cfg.RunID)
	for i := 0; i < cfg.Agents; i++ {
		run.Agents = append(run.Agents, fmt.Sprintf("%s-a%d", base, i))
	}
	ghost := base + "-never-created"
	run.Phantoms = []string{ghost}
	// Plan from the seed before anything runs: each agent gets its own
	// generator, so scheduling never changes the workload.
	seeds := make([]uint64, cfg.Agents)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	start := time.Now()
	errs := make([]error, cfg.Agents)
	var wg sync.WaitGroup
	for i, agent := range run.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.agent(ctx, agent, rand.New(rand.NewPCG(seeds[i], uint64(i))), cfg, i == 0)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return run, err
		}
	}
	// The last agent ends at exactly 0 (its balance consumed whole): a
	// registered agent with nothing left is still listed by GET /balances.
	zero := run.Agents[len(run.Agents)-1]
	if r := b.get(ctx, api+"/balance/"+zero); r.OK() && r.Op.HasRead && r.Op.ReadMilli > 0 {
		b.write(ctx, history.KindConsume, zero, money.FormatMilli(r.Op.ReadMilli), strings.TrimPrefix(zero, c.NS)+"-drain", history.Original)
		b.get(ctx, api+"/balance/"+zero)
	}
	// A never-created agent: read and written, it must stay unknown.
	b.get(ctx, api+"/balance/"+ghost)
	b.get(ctx, api+"/history/"+ghost+"?limit=10")
	b.write(ctx, history.KindConsume, ghost, "1", strings.TrimPrefix(ghost, c.NS)+"-consume", history.Original)
	b.write(ctx, history.KindAdd, ghost, "5", strings.TrimPrefix(ghost, c.NS)+"-add", history.Original)
	b.write(ctx, history.KindRefund, ghost, "0.5", "", history.Original)

	// The snapshot, after every request returned.
	snap := b.snapshot(ctx, run.Agents, run.Phantoms)
	run.Snapshot, run.Elapsed = snap, time.Since(start)
	ops, err := b.ops()
	run.Ops = ops
	if err != nil {
		return run, err
	}
	return run, ctx.Err()
}

// snapshot reads /balances and every agent's balance and history.
func (b *bbRecorder) snapshot(ctx context.Context, agents, phantoms []string) history.Snapshot {
	snap := history.Snapshot{History: map[string]history.HistoryRead{}, Phantoms: phantoms}
	r := b.get(ctx, api+"/balances")
	snap.BalancesStatus = r.Status
	if r.OK() {
		snap.Balances, _ = history.ParseBalances(r.Raw)
	}
	for _, id := range append(append([]string(nil), agents...), phantoms...) {
		b.get(ctx, api+"/balance/"+id)
		r := b.get(ctx, api+"/history/"+id+"?limit=1000")
		h := history.HistoryRead{Status: r.Status, Total: -1}
		if r.OK() {
			if es, total, err := history.ParseHistory(r.Raw); err == nil {
				h.Entries, h.Total = es, total
			}
		}
		snap.History[id] = h
	}
	return snap
}

// agent is one agent's part of the workload.
func (b *bbRecorder) agent(ctx context.Context, agent string, rng *rand.Rand, cfg BlackBoxConfig, hostile bool) error {
	short := strings.TrimPrefix(agent, b.c.NS) // the client prefixes keys with NS itself
	// A create whose outcome is unknown (5xx, no answer) is resent with its
	// key, recorded as a retry: the judge decides what the 5xx did.
	r := b.create(ctx, agent, short+"-create", history.Setup)
	for i := 1; i < setupAttempts && r.Op.Outcome == history.Unknown && ctx.Err() == nil; i++ {
		r = b.create(ctx, agent, short+"-create", history.Retry)
	}
	if !r.OK() {
		return fmt.Errorf("blackbox: create %s: %d %s %v", agent, r.Status, r.Raw, r.Err)
	}
	b.get(ctx, api+"/balance/"+agent)
	b.write(ctx, history.KindAdd, agent, "200", short+"-fund", history.Setup)
	key := func(n int) string { return fmt.Sprintf("%s-%03d", short, n) }
	n := 0
	for j := 0; j < cfg.Sequential && ctx.Err() == nil; j++ {
		kind := history.KindConsume
		switch p := rng.IntN(4); {
		case p == 2:
			kind = history.KindAdd
		case p == 3:
			kind = history.KindRefund
		}
		amount := bbAmounts[rng.IntN(len(bbAmounts))]
		if rng.IntN(3) == 0 {
			amount = randAmount(rng)
		}
		n++
		r := b.write(ctx, kind, agent, amount, key(n), history.Original)
		if r.OK() && rng.Float64() < cfg.RetryShare {
			b.write(ctx, kind, agent, amount, key(n), history.Retry)
		}
		if j%6 == 5 {
			b.get(ctx, api+"/balance/"+agent)
		}
	}
	// Above the balance (refused), then exactly the balance (to zero), then
	// fund again.
	n++
	b.write(ctx, history.KindConsume, agent, "100000", key(n), history.Original)
	if r := b.get(ctx, api+"/balance/"+agent); r.OK() && r.Op.HasRead && r.Op.ReadMilli > 0 {
		n++
		b.write(ctx, history.KindConsume, agent, money.FormatMilli(r.Op.ReadMilli), key(n), history.Original)
		b.get(ctx, api+"/balance/"+agent)
	}
	n++
	b.write(ctx, history.KindAdd, agent, "150.5", key(n), history.Original)
	// Re-registering an existing agent must not touch its balance.
	b.get(ctx, api+"/balance/"+agent)
	b.create(ctx, agent, short+"-recreate", history.Original)
	b.get(ctx, api+"/balance/"+agent)
	if hostile {
		kinds := []history.Kind{history.KindConsume, history.KindAdd, history.KindRefund}
		for i, amount := range bbHostile {
			k := ""
			if i%2 == 0 {
				k = fmt.Sprintf("%s-hostile-%02d", short, i)
			}
			b.write(ctx, kinds[i%len(kinds)], agent, amount, k, history.Original)
		}
		b.get(ctx, api+"/balance/"+agent)
	}
	// Concurrent writes; the first two also sent twice at once with one key.
	var wg sync.WaitGroup
	for j := 0; j < cfg.Concurrent; j++ {
		n++
		kind := history.KindAdd
		if j%2 == 1 {
			kind = history.KindConsume
		}
		amount, k := bbAmounts[rng.IntN(len(bbAmounts))], key(n)
		copies := 1
		if j < 2 {
			copies = 2
		}
		for c := 0; c < copies; c++ {
			role := history.Original
			if c > 0 {
				role = history.ConcurrentDuplicate
			}
			wg.Add(1)
			go func() { defer wg.Done(); b.write(ctx, kind, agent, amount, k, role) }()
		}
	}
	wg.Wait()
	b.get(ctx, api+"/balance/"+agent)
	return nil
}

// randAmount is 0.001–20.999 with one to three decimals.
func randAmount(rng *rand.Rand) string {
	whole := rng.IntN(21)
	switch rng.IntN(3) {
	case 0:
		return fmt.Sprintf("%d.%d", whole, 1+rng.IntN(9))
	case 1:
		return fmt.Sprintf("%d.%02d", whole, 1+rng.IntN(99))
	}
	return fmt.Sprintf("%d.%03d", whole, 1+rng.IntN(999))
}

// doRaw is Client.Do with a body sent verbatim (so NaN, Infinity or 1e309
// reach the backend as written, which json.Marshal refuses to produce),
// recording the body's hash (history.HashBody) and the amount as sent,
// through the same recording client.
func (c *Client) doRaw(ctx context.Context, call Call, raw []byte, amountSent string) Reply {
	return c.send(ctx, call, raw, history.Op{BodyHash: history.HashBody(raw), AmountSent: amountSent})
}

// BlackBoxLast sends one keyed add of 0.001 per agent of a first half,
// all at once, to be followed at once by a fault: the newest keys are the
// ones a backend that persists its keys lazily (an index written on the
// next command) loses. It returns their operations, to be judged with the
// first half's (BlackBoxAgain resends them with their keys).
func BlackBoxLast(ctx context.Context, c *Client, first BlackBoxRun) ([]history.Op, error) {
	b := &bbRecorder{c: c}
	var wg sync.WaitGroup
	for _, agent := range first.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.write(ctx, history.KindAdd, agent, "0.001", strings.TrimPrefix(agent, c.NS)+"-last", history.Original)
		}()
	}
	wg.Wait()
	return b.ops()
}

// BlackBoxAgain is the black-box workload's second half, for after a
// restart of the backend: every keyed write the first half (first)
// acknowledged is resent once with its key and body (each must replay: the
// same event_id, no money moved — keys survive restarts), then each agent
// gets new keyed writes (new event ids, balances moving on from where they
// were), then the snapshot again. The returned run holds this half's
// operations only; judge the two halves together (audit.BlackBox over
// first.Ops then these, with this snapshot).
func BlackBoxAgain(ctx context.Context, c *Client, rng *rand.Rand, first BlackBoxRun) (BlackBoxRun, error) {
	b := &bbRecorder{c: c}
	run := BlackBoxRun{Agents: first.Agents, Phantoms: first.Phantoms}
	start := time.Now()
	resent := map[string]bool{}
	for _, o := range first.Ops {
		writes := o.Kind == history.KindConsume || o.Kind == history.KindAdd || o.Kind == history.KindRefund
		if !writes || o.Key == "" || resent[o.Key] || !o.Outcome.Acked() || o.Status == 202 || o.Role == history.Conflicting {
			continue
		}
		if _, err := money.ParseMilli(strings.Trim(o.AmountSent, `"`)); err != nil || o.AmountSent == "" {
			continue // a hostile amount: not a write to replay
		}
		resent[o.Key] = true
		b.write(ctx, o.Kind, o.Agent, o.AmountSent, strings.TrimPrefix(o.Key, c.NS), history.Retry)
	}
	for _, agent := range first.Agents {
		short := strings.TrimPrefix(agent, c.NS)
		b.get(ctx, api+"/balance/"+agent)
		for j := 0; j < 4 && ctx.Err() == nil; j++ {
			kind := history.KindConsume
			if j == 3 {
				kind = history.KindAdd
			}
			b.write(ctx, kind, agent, bbAmounts[rng.IntN(len(bbAmounts))], fmt.Sprintf("%s-again-%02d", short, j), history.Original)
		}
		b.get(ctx, api+"/balance/"+agent)
	}
	run.Snapshot = b.snapshot(ctx, run.Agents, run.Phantoms)
	run.Elapsed = time.Since(start)
	ops, err := b.ops()
	run.Ops = ops
	if err != nil {
		return run, err
	}
	return run, ctx.Err()
}
