package explore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// Fault kinds, as recorded in Command.Fault.
const (
	FaultKill      = "kill -9"
	FaultRestart   = "clean restart"
	FaultPowerCut  = "power cut"
	FaultKarmaDown = "karma down"
	FaultKarmaSlow = "karma slow"
	FaultKarmaUp   = "karma up"
	// FaultBatchFails: the sync of the batch holding one agent's
	// concurrent debits fails (after a hold drawn from the seed), as does
	// every later one, and the power is then cut and the backend started
	// again: the debits the failed batch held never happened, whatever
	// was answered while the batch waited for its sync.
	FaultBatchFails = "batch sync fails"
)

// ErrUnavailable is wrapped by a Faults method the target cannot take (a
// url target cannot be killed, no power-loss layer, no KARMA stub): the
// explorer records the step skipped with the reason and draws that kind no
// more.
var ErrUnavailable = errors.New("fault unavailable on this target")

// KarmaMode is what a KARMA step switches the dependency to: "down"
// (connection refused), "slow" (answers after DelayMs) or "up" (healthy).
type KarmaMode struct {
	Kind    string `json:"kind"`
	DelayMs int    `json:"delay_ms,omitempty"`
}

// Faults injects faults into the target the explorer drives; gates/harness
// implements it from the target's capabilities (the explorer never imports
// the harness). Kill, Restart and PowerCut return once the backend serves
// again on the same data; an error wrapping ErrUnavailable means nothing
// was done. The explorer calls them from one goroutine, possibly while
// requests of a concurrent step are in flight (their outcome is then
// unknown, and the explorer resolves it with a keyed retry).
type Faults interface {
	Kill(ctx context.Context) error     // kill -9, then start again
	Restart(ctx context.Context) error  // SIGTERM, wait, start again
	PowerCut(ctx context.Context) error // drop what was not fsynced, kill, start again
	Karma(ctx context.Context, m KarmaMode) error
	// TrapBatch arms the next sync whose unsynced bytes hold marker: it
	// is held for hold and then, with fail, fails with every later sync.
	// caught is closed when that sync began its hold; end returns once the
	// trap is over: after the hold (or at once if it never sprang), or,
	// with fail, after a power cut and a start on the same data.
	TrapBatch(ctx context.Context, marker string, hold time.Duration, fail bool) (caught <-chan struct{}, end func(context.Context) error, err error)
}

// DefaultMaxFaults bounds the faults of one run (restarts cost time).
const DefaultMaxFaults = 6

// faultPlan is drawn from the seed on its own stream, so adding faults
// does not move the command draws: the positions (command counts) at
// which a fault is due, and whether each waits for the next refusal.
type faultPlan struct {
	r         *rand.Rand
	at        []int
	unavail   map[string]string
	armed     string // a disruptive fault waiting for the next refusal
	armedAt   int
	karma     string // the current KARMA mode kind ("" = up)
	karmaUpAt int
	injected  int
}

func newFaultPlan(cfg Config) *faultPlan {
	p := &faultPlan{r: rand.New(rand.NewPCG(cfg.Seed, 0x6661756c7473)), unavail: map[string]string{}}
	k := 3 + p.r.IntN(max(cfg.MaxFaults-2, 1))
	k = min(k, cfg.MaxFaults)
	span := max(cfg.Commands-80, 1)
	for i := 0; i < k; i++ {
		p.at = append(p.at, 30+p.r.IntN(span))
	}
	sort.Ints(p.at)
	return p
}

// disruptive reports whether a fault restarts the backend.
func disruptive(kind string) bool {
	return kind == FaultKill || kind == FaultRestart || kind == FaultPowerCut || kind == FaultBatchFails
}

// drawKind draws an available fault kind: restarts of three sorts and
// KARMA outages; after a refusal only the ones that lose unsynced state.
func (p *faultPlan) drawKind(afterRefusal bool) string {
	type w struct {
		kind string
		n    int
	}
	ws := []w{{FaultKill, 3}, {FaultPowerCut, 3}, {FaultRestart, 2}, {FaultKarmaDown, 1}, {FaultKarmaSlow, 1}}
	if afterRefusal {
		ws = []w{{FaultPowerCut, 5}, {FaultKill, 1}}
	}
	total := 0
	for _, x := range ws {
		if _, no := p.unavail[x.kind]; !no && !(p.karma != "" && !disruptive(x.kind)) {
			total += x.n
		}
	}
	if total == 0 {
		return ""
	}
	n := p.r.IntN(total)
	for _, x := range ws {
		if _, no := p.unavail[x.kind]; no || (p.karma != "" && !disruptive(x.kind)) {
			continue
		}
		if n < x.n {
			return x.kind
		}
		n -= x.n
	}
	return ""
}

// dueFaults runs before each step: a KARMA outage ends when due; a planned
// fault is injected now or armed to land right after the next refusal
// (the moment a refusal answered from state that is not yet durable would
// be caught); an armed one that met no refusal within 80 commands lands
// anyway.
func (x *explorer) dueFaults(ctx context.Context) {
	p := x.fp
	if p == nil {
		return
	}
	n := len(x.run.Commands)
	if p.karma != "" && n >= p.karmaUpAt {
		x.inject(ctx, FaultKarmaUp, "end of the KARMA outage")
	}
	if p.armed != "" && n-p.armedAt > 80 {
		kind := p.armed
		p.armed = ""
		x.inject(ctx, kind, "armed for a refusal, none came")
	}
	for len(p.at) > 0 && p.at[0] <= n && p.armed == "" {
		p.at = p.at[1:]
		if _, no := p.unavail[FaultBatchFails]; !no && p.karma == "" && p.r.IntN(2) == 0 {
			x.failBatch(ctx)
			continue
		}
		if p.r.IntN(5) < 4 {
			if kind := p.drawKind(true); kind != "" {
				p.armed, p.armedAt = kind, n
				continue
			}
		}
		if kind := p.drawKind(false); kind != "" {
			x.inject(ctx, kind, "planned")
		}
	}
}

// afterRefusal lands an armed fault right after a refusal; mid: other
// commands of its group are still in flight (the caller then resolves
// their outcome once they returned).
func (x *explorer) afterRefusal(ctx context.Context, c Command, mid bool) bool {
	p := x.fp
	if p == nil || p.armed == "" || !ruleRefusal(c) {
		return false
	}
	kind := p.armed
	p.armed = ""
	where := "right after the refusal of #%d"
	if mid {
		where += ", its group still in flight"
	}
	restarted := x.injectOnly(ctx, kind, fmt.Sprintf(where, c.N))
	if restarted && !mid {
		x.afterRestart(kind, nil)
	}
	return restarted
}

// failBatch races debits on one agent into a batch whose sync is held and
// then fails, cuts the power, starts the backend again and resolves every
// debit the failure left unknown with a keyed resend. Mostly (3 in 4) a holder goes
// first: an add on another agent whose sync is held 400 ms, so the debits
// queue behind it and are decided together, an accepted one beside the
// refusals it caused. Before the cut one failed debit is retried with its
// key while the backend still runs (a key the failed batch left behind
// must not replay), and reads of the agent go out while the batch waits.
// Traps are marked by the agent's quoted id, which every
// journal line of its commands holds. The fault step spans all of it: the
// judge takes each command without a definite answer as possibly executed
// or not, and a refusal, replay or balance answered on a debit that never
// became durable is explained by no order.
// maxGroup bounds a concurrent group's members: the judge explains a group
// by every order of its members, each unknown one applied or not.
const maxGroup = 5

// debits counts the writes of a group that are not retries.
func debits(preps []prepared) int {
	n := 0
	for _, p := range preps {
		if p.method == "POST" && !p.dup {
			n++
		}
	}
	return n
}

// dropLastDebit removes the group's last write that is not a retry.
func dropLastDebit(preps []prepared) []prepared {
	for i := len(preps) - 1; i >= 0; i-- {
		if preps[i].method == "POST" && !preps[i].dup {
			return append(preps[:i:i], preps[i+1:]...)
		}
	}
	return preps
}

// refusedBehindFirst keeps a refusal in the group that the first debit
// causes: when every debit left fits the balance together (the cap dropped
// the refused ones, or the balance is too small to split), the last one
// asks for what the first leaves plus 0.001 — it would fit alone, so its
// refusal is decided on the first debit, in the batch that fails.
func refusedBehindFirst(preps []prepared, balance int64) []prepared {
	last, sum := -1, int64(0)
	for i, p := range preps {
		if p.method != "POST" || p.dup {
			continue
		}
		m, ok := parseMilli(string(p.body["amount"].(json.Number)))
		if !ok {
			return preps
		}
		sum += m
		last = i
	}
	if last <= 0 || sum > balance {
		return preps
	}
	first, _ := parseMilli(string(preps[0].body["amount"].(json.Number)))
	body := maps.Clone(preps[last].body)
	body["amount"] = json.Number(credits(balance - first + 1))
	body["reason"] = "concurrent consume"
	preps[last].body, preps[last].path = body, api+"/consume"
	preps[last].note = "concurrent debits: what the first leaves + 0.001, refused only behind it"
	return preps
}

func (x *explorer) failBatch(ctx context.Context) {
	p := x.fp
	a, preps := x.agentDebits(true)
	if a == nil {
		return
	}
	var holder *agent
	if p.r.IntN(4) != 0 {
		for _, b := range x.agents {
			if b.id != a.id && (holder == nil || p.r.IntN(2) == 0) {
				holder = b
			}
		}
	}
	hold := []time.Duration{0, 5 * time.Millisecond, 30 * time.Millisecond, 150 * time.Millisecond}[p.r.IntN(4)]
	switch {
	case holder != nil:
		// Behind a holder, always: a retry of the first debit 15 ms after
		// it, well inside the holder's 400 ms hold, so it is decided in the
		// batch that fails, waiting on its original's key — it must not be
		// answered as executed when that batch fails. The other debits
		// queue 15 ms behind the retry, so a commit of three commands
		// (CREDITD_MAX_BATCH drawn small) still holds the first debit, its
		// retry and a refusal; a commit of two keeps the first two debits
		// together and the retry comes last.
		dupAt, restAt := 15*time.Millisecond, 30*time.Millisecond
		if m := x.cfg.Settings.Capacities["CREDITD_MAX_BATCH"]; m > 0 && m < 3 {
			dupAt, restAt = 30*time.Millisecond, 0
		}
		for i := 1; i < len(preps); i++ {
			preps[i].delay = restAt
		}
		preps = append(preps, prepared{dup: true, delay: dupAt, note: "a concurrent retry of the first debit, right behind it, in the batch that fails"})
	case p.r.IntN(3) != 0:
		// Without one, mostly: the retry goes out once the failing sync
		// has caught the first debit's batch (below), so it arrives while
		// that batch's outcome is open, whatever the machine's load; the
		// hold is then at least 30 ms.
		preps = append(preps, prepared{dup: true, delay: 5 * time.Millisecond, note: "a concurrent retry of the first debit, sent once the failing sync holds its batch"})
		hold = max(hold, 30*time.Millisecond)
	}
	// At most five members in the group: the judge tries every order of
	// them (and both outcomes of each unknown one) in every world. Reads
	// are kept before debits: at least two debits stay (one accepted, one
	// refused on it), the retry and up to two reads.
	n := p.r.IntN(3)
	for len(preps)+n > maxGroup && debits(preps) > 2 {
		preps = dropLastDebit(preps)
	}
	preps = refusedBehindFirst(preps, a.balance)
	for i := range min(n, maxGroup-len(preps)) {
		// Reads while the debits wait: behind a holder, inside its held
		// sync, so the committer decides the debits' batch the moment the
		// holder's commit returns and a read let through then must not
		// see it; without one, inside the failing sync. A balance is
		// shown only once durable.
		tok, _ := x.tok("reader", "operator", "admin")
		preps = append(preps, prepared{method: "GET", path: api + "/balance/" + a.id, token: tok,
			delay: time.Duration(10+60*i) * time.Millisecond, note: "a read while the debits wait for their sync"})
		hold = max(hold, 30*time.Millisecond)
	}
	f := Command{Fault: FaultBatchFails, RetryOf: -1,
		Note: fmt.Sprintf("the sync of the batch holding %s's debits is held %s and fails, then the power is cut", a.id, hold)}
	if holder != nil {
		f.Note += fmt.Sprintf("; they queue behind %s's add, whose sync is held 400ms", holder.id)
	}
	f.CallNs = time.Now().UnixNano()
	skip := func(err error) {
		f.ReturnNs = time.Now().UnixNano()
		f.N = len(x.run.Commands)
		if errors.Is(err, ErrUnavailable) {
			f.Skip = err.Error()
			p.unavail[FaultBatchFails] = f.Skip
		} else {
			f.Err = err.Error()
		}
		x.run.Commands = append(x.run.Commands, f)
	}
	var held <-chan struct{}
	release := func(context.Context) error { return nil }
	var err error
	if holder != nil {
		if held, release, err = x.cfg.Faults.TrapBatch(ctx, strconv.Quote(holder.id), 400*time.Millisecond, false); err != nil {
			skip(err)
			return
		}
	}
	caught, cut, err := x.cfg.Faults.TrapBatch(ctx, strconv.Quote(a.id), hold, true)
	if err != nil {
		_ = release(ctx)
		skip(err)
		return
	}
	for i := range preps {
		if preps[i].dup && holder == nil {
			preps[i].after = caught
		}
	}
	var holderDone chan struct{}
	if holder != nil {
		tok, _ := x.tok("operator", "service", "admin")
		hc, call := x.prepare("POST", api+"/add", map[string]any{"agent_id": holder.id, "amount": json.Number("0.001"), "reason": "holds the sync"},
			x.groupKey(), tok, "its sync is held: the debits on "+a.id+" queue behind it", -1, false)
		hc.N = len(x.run.Commands)
		x.run.Commands = append(x.run.Commands, hc)
		holderDone = make(chan struct{})
		go func() {
			defer close(holderDone)
			hc = x.do(hc, call)
		}()
		select {
		case <-held:
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		cmds := x.sendGroup(ctx, preps)
		<-holderDone
		x.run.Commands[hc.N] = hc
		x.noteAcked(hc, hc.Key)
		x.afterFailedBatch(ctx, f, a, preps, cmds, release, cut)
		return
	}
	cmds := x.sendGroup(ctx, preps)
	x.afterFailedBatch(ctx, f, a, preps, cmds, release, cut)
}

// afterFailedBatch retries one failed debit before the cut, ends the
// traps, records the fault step and resolves what it left unknown.
func (x *explorer) afterFailedBatch(ctx context.Context, f Command, a *agent, preps []prepared, cmds []Command, release, cut func(context.Context) error) {
	unknown := unanswered(cmds)
	if len(unknown) > 0 {
		x.resend(unknown[x.fp.r.IntN(len(unknown))], "retried while the batch that held it has failed")
	}
	err := errors.Join(release(ctx), cut(ctx))
	f.ReturnNs = time.Now().UnixNano()
	f.N = len(x.run.Commands)
	if err != nil {
		f.Err = err.Error()
	}
	x.run.Commands = append(x.run.Commands, f)
	x.fp.injected++
	if err != nil {
		return
	}
	x.afterRestart(FaultBatchFails, unknown)
	x.readBalance(a, preps[0].token, "after the failed batch")
}

// unanswered are the writes a fault left without a definite answer (none,
// or a 5xx): their outcome is resolved by a keyed resend after the restart.
func unanswered(cmds []Command) []Command {
	var out []Command
	for _, c := range cmds {
		if c.Method != "GET" && (c.Status == 0 || c.Status >= 500) {
			out = append(out, c)
		}
	}
	return out
}

func ruleRefusal(c Command) bool {
	return c.Status == http.StatusConflict || c.Status == http.StatusUnprocessableEntity
}

// inject records one fault step with its call and return times; after a
// restart it resolves the outcome of the commands the fault interrupted
// (a keyed retry replays or executes them) and retries keys acknowledged
// before it (each must replay its original answer).
func (x *explorer) inject(ctx context.Context, kind, note string) {
	if x.injectOnly(ctx, kind, note) {
		x.afterRestart(kind, nil)
	}
}

// injectOnly injects and records one fault; true when the backend was
// restarted.
func (x *explorer) injectOnly(ctx context.Context, kind, note string) bool {
	p := x.fp
	cmd := Command{N: len(x.run.Commands), Fault: kind, RetryOf: -1, Note: note}
	cmd.CallNs = time.Now().UnixNano()
	var err error
	switch kind {
	case FaultKill:
		err = x.cfg.Faults.Kill(ctx)
	case FaultRestart:
		err = x.cfg.Faults.Restart(ctx)
	case FaultPowerCut:
		err = x.cfg.Faults.PowerCut(ctx)
	case FaultKarmaDown:
		err = x.cfg.Faults.Karma(ctx, KarmaMode{Kind: "down"})
	case FaultKarmaSlow:
		m := KarmaMode{Kind: "slow", DelayMs: 20 + p.r.IntN(300)}
		cmd.Note += fmt.Sprintf(", %d ms", m.DelayMs)
		err = x.cfg.Faults.Karma(ctx, m)
	case FaultKarmaUp:
		err = x.cfg.Faults.Karma(ctx, KarmaMode{Kind: "up"})
	}
	cmd.ReturnNs = time.Now().UnixNano()
	switch {
	case errors.Is(err, ErrUnavailable):
		cmd.Skip = err.Error()
		p.unavail[kind] = cmd.Skip
	case err != nil:
		cmd.Err = err.Error()
	}
	x.run.Commands = append(x.run.Commands, cmd)
	if cmd.Skip != "" {
		return false
	}
	if kind != FaultKarmaUp {
		p.injected++
	}
	switch kind {
	case FaultKarmaDown, FaultKarmaSlow:
		p.karma, p.karmaUpAt = kind, len(x.run.Commands)+5+p.r.IntN(40)
	case FaultKarmaUp:
		p.karma = ""
	}
	return disruptive(kind) && err == nil
}

// afterRestart resends the commands whose outcome the restart left
// unknown (until one answers) and 1–2 keys acknowledged before it.
func (x *explorer) afterRestart(kind string, unknown []Command) {
	p := x.fp
	// The killed backend's pooled connections are dead.
	if t, ok := x.c.HTTP.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	for _, orig := range unknown {
		for try := 0; try < 3; try++ {
			c := x.resend(orig, "resolves the unknown outcome of #"+fmt.Sprint(orig.N)+" after the "+kind)
			if c.Status != 0 && c.Status < 500 {
				break
			}
		}
	}
	if len(x.acked) > 0 {
		for i := 0; i < 1+p.r.IntN(2); i++ {
			orig := x.run.Commands[x.acked[p.r.IntN(len(x.acked))]]
			x.resend(orig, "retry across the "+kind)
		}
	}
}

// resend sends a command again with its key, token and body.
func (x *explorer) resend(orig Command, note string) Command {
	body := decodeMap(orig.Body)
	return x.send(orig.Method, orig.Path, body, x.sentKey(orig), orig.Token, note, orig.N, false)
}

// prepared is one command of a concurrent group before it is sent.
type prepared struct {
	method, path, key, token, note string
	body                           map[string]any
	// dup: this member resends member 0 (its key, body and token) after
	// delay, while member 0 is still in flight: a concurrent retry.
	dup   bool
	delay time.Duration
	// after, when set, holds the member back (after its delay) until it
	// is closed — at most 2 s: a retry sent once the failing sync has
	// caught its original's batch cannot join that batch, however loaded
	// the machine is.
	after <-chan struct{}
}

// concurrent sends 2–4 commands at once on one agent, approval or pool:
// debits near the balance (some must be refused), decisions on one pending
// request (exactly one may win) or pool consumes near the pool's balance.
// The judge accepts any serial order consistent with the answers. An armed
// fault lands as soon as the first refusal arrives, while the rest are in
// flight.
func (x *explorer) concurrent(ctx context.Context) {
	n := 2 + x.r.IntN(3)
	var preps []prepared
	var onAgent *agent
	var onPool *pool
	var onAppr *approval
	switch k := x.r.IntN(5); {
	case k == 3:
		var pend []*approval
		for _, a := range x.appr {
			if a.status == "pending" && (a.expires.IsZero() || time.Until(a.expires) > time.Second) {
				pend = append(pend, a)
			}
		}
		if len(pend) > 0 {
			onAppr = pend[x.r.IntN(len(pend))]
			var deciders []Principal
			for _, p := range x.cfg.Principals {
				if (p.Role == "approver" || p.Role == "admin") && p.Name != onAppr.requester {
					deciders = append(deciders, p)
				}
			}
			x.r.Shuffle(len(deciders), func(i, j int) { deciders[i], deciders[j] = deciders[j], deciders[i] })
			for i := 0; i < n && i < len(deciders); i++ {
				op := "approve"
				if x.r.IntN(3) == 0 {
					op = "reject"
				}
				preps = append(preps, prepared{method: "POST", path: api + "/approvals/" + onAppr.id + "/" + op,
					body: map[string]any{"justification": "concurrent"}, key: x.groupKey(), token: deciders[i].Token,
					note: "concurrent decisions"})
			}
		}
	case k == 4:
		var cands []*pool
		for _, p := range x.pools {
			if !p.closed && p.balance > 0 && len(p.members) > 0 {
				cands = append(cands, p)
			}
		}
		if len(cands) > 0 {
			onPool = cands[x.r.IntN(len(cands))]
			var members []string
			for m := range onPool.members {
				members = append(members, m)
			}
			sort.Strings(members)
			fit := 1 + x.r.IntN(n-1)
			for i := 0; i < n; i++ {
				amt, how := x.amount(max(onPool.balance/int64(fit), 1))
				tok, _ := x.tok("operator", "service", "admin")
				preps = append(preps, prepared{method: "POST", path: api + "/pools/" + onPool.id + "/consume",
					body: map[string]any{"agent_id": members[x.r.IntN(len(members))], "amount": json.Number(credits(amt)), "reason": "concurrent"},
					key:  x.groupKey(), token: tok, note: fmt.Sprintf("concurrent pool consumes, %d fit, %s", fit, how)})
			}
		}
	}
	preps = slices.DeleteFunc(preps, func(p prepared) bool { return !x.serves(p.method, p.path) })
	if len(preps) == 0 {
		if onAgent, preps = x.agentDebits(x.fp != nil && x.fp.armed != ""); onAgent == nil {
			x.credit("add")
			return
		}
	}
	cmds := x.sendGroup(ctx, preps)
	for _, c := range cmds {
		m := resp(c)
		switch {
		case onAppr != nil && ok2xx(c):
			onAppr.status = fmt.Sprint(m["status"])
			onAppr.version++
			if ex, ok := m["executed"].(map[string]any); ok {
				x.afterBalance(onAppr.agent, ex)
			}
		case onPool != nil && ok2xx(c):
			p, _ := m["payload"].(map[string]any)
			if v, ok := intOf(p["balance_after_milli"]); ok {
				onPool.balance = min(onPool.balance, v)
			}
		}
	}
	if onAgent != nil {
		x.readBalance(onAgent, cmds[0].Token, "after the concurrent debits")
	}
}

// readBalance reads an agent's balance into the explorer's picture.
func (x *explorer) readBalance(a *agent, token, note string) {
	c := x.send("GET", api+"/balance/"+a.id, nil, "", token, note, -1, false)
	if ok2xx(c) {
		if b, ok := milliOf(resp(c)["balance"]); ok {
			a.balance = b
		}
	}
}

// agentDebits prepares 3–4 debits on one agent with credits: mostly equal
// ones of which 2..n-1 fit, so an accepted one and a refused one can share
// a commit batch; else drawn near the balance's share (same: always
// equal). nil when no agent has credits.
func (x *explorer) agentDebits(same bool) (*agent, []prepared) {
	var cands []*agent
	for _, a := range x.agents {
		if a.balance > 0 {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	onAgent := cands[x.r.IntN(len(cands))]
	n := 3 + x.r.IntN(2)
	fit := 2 + x.r.IntN(n-2)
	same = x.r.IntN(4) != 0 || same
	var preps []prepared
	for i := 0; i < n; i++ {
		op := "consume"
		if x.r.IntN(3) == 0 {
			op = "withdraw"
		}
		amt, how := max(onAgent.balance/int64(fit), 1), "=balance/fit"
		if !same {
			amt, how = x.amount(max(onAgent.balance/int64(fit), 1))
		}
		if op == "withdraw" && (amt >= x.cfg.Settings.ThresholdMilli || !x.serves("POST", api+"/withdraw")) {
			op = "consume" // a gated withdrawal would not race for the balance
		}
		tok, _ := x.tok("operator", "service", "admin")
		preps = append(preps, prepared{method: "POST", path: api + "/" + op,
			body: map[string]any{"agent_id": onAgent.id, "amount": json.Number(credits(amt)), "reason": "concurrent " + op},
			key:  x.groupKey(), token: tok, note: fmt.Sprintf("concurrent debits, %d fit the balance, %s", fit, how)})
	}
	return onAgent, preps
}

// groupKey is always a client key: an outcome the fault left unknown is
// resolved by resending it.
func (x *explorer) groupKey() string {
	x.n++
	return fmt.Sprintf("%sk%d", x.cfg.Prefix, x.n)
}

// sendGroup sends the commands at once; they take consecutive numbers and
// one group id. An armed fault lands at the first refusal.
func (x *explorer) sendGroup(ctx context.Context, preps []prepared) []Command {
	x.groups++
	base := len(x.run.Commands)
	out := make([]Command, len(preps))
	calls := make([]scenarios.Call, len(preps))
	for i, p := range preps {
		if p.dup && i > 0 {
			out[i], calls[i] = out[0], calls[0]
			out[i].RetryOf, out[i].Note = base, p.note
			calls[i].Role = history.Retry
		} else {
			out[i], calls[i] = x.prepare(p.method, p.path, p.body, p.key, p.token, p.note, -1, false)
		}
		out[i].N, out[i].Group = base+i, x.groups
	}
	x.run.Commands = append(x.run.Commands, out...)
	answered := make(chan Command, len(preps))
	var wg sync.WaitGroup
	for i := range preps {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(preps[i].delay)
			if preps[i].after != nil {
				select {
				case <-preps[i].after:
				case <-time.After(2 * time.Second):
				case <-ctx.Done():
				}
			}
			c := x.do(out[i], calls[i])
			out[i] = c
			answered <- c
		}(i)
	}
	landed, kind := false, ""
	if x.fp != nil && x.fp.armed != "" {
		kind = x.fp.armed
		for i := range preps {
			// Only while others are in flight: their batch may hold the
			// refusal's cause. The fault is recorded after the group; the
			// judge reads the in-flight members' windows against its own.
			if c := <-answered; !landed && ruleRefusal(c) && i < len(preps)-1 {
				landed = x.afterRefusal(ctx, c, true)
			}
		}
	}
	wg.Wait()
	copy(x.run.Commands[base:], out)
	for _, c := range out {
		x.noteAcked(c, c.Key)
	}
	if landed {
		x.afterRestart(kind, unanswered(out))
	}
	return out
}
