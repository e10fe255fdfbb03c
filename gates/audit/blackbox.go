package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// The black-box judge: properties judged from the client history (the
// acknowledged requests and their answers) and what the API shows at the
// end (history.Snapshot), for a backend whose journal the harness cannot
// read — e.g. one serving only the original's routes. Every check counts
// what it judged in Finding.Samples; 0 means NOT MEASURED, never a pass.
//
// The fold: per agent created in the history, start = the create answer's
// balance (else the first balance read after the create, before any write);
// each write is a unit (all ops sharing one idempotency key and body, or one
// keyless op) that is applied when any of its ops was acknowledged (2xx
// except 202), unknown when none was but one had no answer, a timeout, a
// 5xx or a 202 (pending approval), and absent when all were refused.
// Consumes and withdrawals subtract, refunds and adds add; a
// re-registration of an existing agent changes nothing; hostile amounts
// (AmountSent not a positive amount of at most 3 decimals within
// BlackBoxMaxAmountMilli) are not units — they must be refused. A balance
// read at a quiescent point (no write of its agent in flight) must equal
// the fold of the units before it with any subset of the unknown ones
// applied.

// BlackBoxMaxAmountMilli is the largest amount a backend must accept (the
// spec's default maximum, 1,000,000,000 credits); above it is absurd.
const BlackBoxMaxAmountMilli = 1_000_000_000_000

// maxSubset bounds the subset enumeration over unknown units (which names
// the subset); beyond it the reachable sums are tracked (reach).
const maxSubset = 12

// maxSums bounds the distinct sums tracked beyond maxSubset unknown units.
const maxSums = 1 << 16

// Check names of the black-box judge.
const (
	CheckA11 = "A11 a keyed retry answered 2xx never moved money again"
	CheckA12 = "A12 a write answered 5xx changed no state"
	CheckA13 = "A13 non-finite, negative and absurd amounts are refused and change nothing"
	CheckA30 = "A30 a keyed retry answered 2xx returns the original result: the original's balance_after"
	CheckB13 = "B13 balances equal the fold of acknowledged writes"
	CheckB14 = "B14 money is exact"
	CheckB15 = "B15 re-registering an agent does not change its balance"
	CheckB16 = "B16 unknown agents are not silently given balances"
	CheckB17 = "B17 histories equal the fold of acknowledged writes"
)

// unitState is what the client knows of a write's effect.
type unitState uint8

const (
	unitNone     unitState = iota // every copy refused
	unitApplied                   // a copy acknowledged
	unitMaybe                     // no answer, a timeout or 202: allowed either way
	unitMaybe5xx                  // every unanswered copy got a 5xx: must not apply (A12), B13 allows either way
)

// bbUnit is one write: its copies (same key and body) and its effect.
type bbUnit struct {
	name       string // "key K" or "op N"
	agent      string
	delta      int64
	ops        []Op // every copy, in call order
	state      unitState
	start, end int64 // first call, last return
	ba         int64 // the first acknowledged copy's balance_after
	hasBA      bool
}

func (u *bbUnit) overlaps(call, ret int64) bool { return u.start <= ret && u.end >= call }

// executed is the acknowledged copy that executed: the first answered
// without Idempotent-Replayed, else the first acknowledged one.
func (u *bbUnit) executed() (Op, bool) {
	var first Op
	found := false
	for _, o := range u.ops {
		if acked(o) {
			if o.Outcome == history.OK {
				return o, true
			}
			if !found {
				first, found = o, true
			}
		}
	}
	return first, found
}

// copies are the acknowledged copies but the executed one: each would be a
// second effect if the backend executed it.
func (u *bbUnit) copies() []Op {
	first, ok := u.executed()
	if !ok {
		return nil
	}
	var out []Op
	for _, o := range u.ops {
		if acked(o) && o.ID != first.ID {
			out = append(out, o)
		}
	}
	return out
}

// bbRead is one balance value the API showed.
type bbRead struct {
	op    Op // zero ID for the snapshot's /balances
	what  string
	call  int64
	ret   int64
	value int64
}

type bbAgent struct {
	id       string
	created  bool  // a create op of it was acknowledged or unknown
	createAt int64 // when the first such create returned
	start    int64
	hasStart bool
	startSrc string
	units    []*bbUnit
	reregs   []Op // creates after the first acknowledged one
	reads    []bbRead
	hostile  []Op
	other    []Op // writes of kinds the judge does not fold
}

// acked reports an acknowledgement that executed: a 2xx but a 202 (which
// only opened an approval request).
func acked(o Op) bool { return o.Outcome.Acked() && o.Status != 202 }

func signedDelta(o Op) (int64, bool) {
	switch o.Kind {
	case history.KindConsume, history.KindWithdraw:
		return -o.AmountMilli, true
	case history.KindRefund, history.KindAdd:
		return o.AmountMilli, true
	}
	return 0, false
}

// hostileAmount reports an amount a backend must refuse: not a number
// (NaN, Infinity, 1e309, "abc", null), not positive, above the maximum, or
// finer than a milli-credit. A valid amount in quotes ("12") is not hostile:
// it is exact, and the original (lax number parsing) takes it as 12.
func hostileAmount(o Op) bool {
	if o.AmountSent == "" {
		return false
	}
	lit := o.AmountSent
	if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' {
		lit = lit[1 : len(lit)-1]
	}
	m, err := money.ParseMilli(lit)
	return err != nil || m <= 0 || m > BlackBoxMaxAmountMilli
}

// exactMoney parses a money value the API returned: a JSON number with at
// most 3 decimals.
func exactMoney(raw string) (int64, bool) {
	if raw == "" || strings.ContainsAny(raw, `"nN`) || strings.HasPrefix(raw, "I") {
		return 0, false
	}
	m, err := money.ParseMilli(raw)
	return m, err == nil
}

type blackBox struct {
	ops     []Op
	snap    history.Snapshot
	agents  map[string]*bbAgent
	order   []string
	phantom map[string]bool
	endNs   int64
	matched []*bbHistory // historyMatches, once computed
}

// BlackBox judges a client history and the final snapshot the way a user's
// backend shows them over HTTP: A11, A12, A13, B13, B14, B15, B16, B17, in
// that order. ops must be the whole history of the workload (Recorder.Ops
// with Dropped 0); snap is read after every op returned.
func BlackBox(ops []Op, snap history.Snapshot) []Finding {
	b := newBlackBox(ops, snap)
	return []Finding{b.a11(), b.a12(), b.a13(), b.a30(), b.b13(), b.b14(), b.b15(), b.b16(), b.b17()}
}

func newBlackBox(ops []Op, snap history.Snapshot) *blackBox {
	b := &blackBox{ops: slices.Clone(ops), snap: snap, agents: map[string]*bbAgent{}, phantom: map[string]bool{}}
	sort.SliceStable(b.ops, func(i, j int) bool { return b.ops[i].CallNs < b.ops[j].CallNs })
	for _, p := range snap.Phantoms {
		b.phantom[p] = true
	}
	agent := func(id string) *bbAgent {
		a, ok := b.agents[id]
		if !ok {
			a = &bbAgent{id: id}
			b.agents[id] = a
			b.order = append(b.order, id)
		}
		return a
	}
	units := map[string]*bbUnit{}
	for _, o := range b.ops {
		b.endNs = max(b.endNs, o.ReturnNs, o.CallNs)
		if o.Agent == "" || b.phantom[o.Agent] {
			continue
		}
		a := agent(o.Agent)
		switch {
		case o.Kind == history.KindCreateAgent:
			if a.created && o.CallNs > a.createAt {
				a.reregs = append(a.reregs, o)
				continue
			}
			if acked(o) || o.Outcome == history.Unknown {
				a.created, a.createAt = true, max(a.createAt, o.ReturnNs)
				if m, ok := exactMoney(o.BalanceAfter); ok && acked(o) && !a.hasStart {
					a.start, a.hasStart, a.startSrc = m, true, fmt.Sprintf("create op %d answered balance %s", o.ID, o.BalanceAfter)
				}
			}
		case o.Kind == history.KindReadBalance:
			if o.Outcome == history.OK {
				if m, ok := exactMoney(o.ReadRaw); ok {
					a.reads = append(a.reads, bbRead{op: o, what: fmt.Sprintf("read op %d", o.ID), call: o.CallNs, ret: o.ReturnNs, value: m})
				}
			}
		case o.Kind.Mutation():
			d, ok := signedDelta(o)
			switch {
			case !ok:
				a.other = append(a.other, o)
			case hostileAmount(o):
				a.hostile = append(a.hostile, o)
			case o.Role == history.Conflicting:
				// refused by contract; a unit of its own would blur the key's
			default:
				name, group := fmt.Sprintf("op %d", o.ID), ""
				if o.Key != "" {
					name = "key " + o.Key
					group = o.Agent + "\x00" + o.Key + "\x00" + o.BodyHash + "\x00" + o.Kind.String()
				}
				u, ok := units[group]
				if !ok || group == "" {
					u = &bbUnit{name: name, agent: o.Agent, delta: d, start: o.CallNs, end: o.ReturnNs}
					units[group] = u
					a.units = append(a.units, u)
				}
				u.ops = append(u.ops, o)
				u.start, u.end = min(u.start, o.CallNs), max(u.end, o.ReturnNs)
			}
		}
	}
	// The snapshot's /balances is one more read per agent, after everything.
	if snap.BalancesStatus >= 200 && snap.BalancesStatus < 300 {
		for id, raw := range snap.Balances {
			if a, ok := b.agents[id]; ok {
				if m, ok := exactMoney(raw); ok {
					a.reads = append(a.reads, bbRead{what: "GET /balances", call: b.endNs + 1, ret: b.endNs + 1, value: m})
				}
			}
		}
	}
	for _, a := range b.agents {
		for _, u := range a.units {
			u.state = unitNone
			all5xx, anyUnknown := true, false
			for _, o := range u.ops {
				switch {
				case acked(o):
					if u.state != unitApplied {
						u.state = unitApplied
						if m, ok := exactMoney(o.BalanceAfter); ok {
							u.ba, u.hasBA = m, true
						}
					}
				case o.Outcome.Acked() || o.Outcome == history.Unknown: // 202 or no answer
					anyUnknown = true
					if o.Status < 500 { // no answer (status 0) or a 202
						all5xx = false
					}
				}
			}
			if u.state != unitApplied && anyUnknown {
				u.state = unitMaybe
				if all5xx {
					u.state = unitMaybe5xx
				}
			}
		}
		// Without a start from the create's answer, the first read after
		// the create and before any write gives it.
		if a.created && !a.hasStart {
			for i, r := range a.reads {
				if r.call > a.createAt && !a.busy(r.call, r.ret, false) && a.unitsBefore(r.call) == 0 {
					a.start, a.hasStart, a.startSrc = r.value, true, r.what+" after the create"
					a.reads = slices.Delete(a.reads, i, i+1)
					break
				}
			}
		}
	}
	return b
}

// busy reports a write of the agent in flight during [call, ret] (hostile
// ones too when withHostile).
func (a *bbAgent) busy(call, ret int64, withHostile bool) bool {
	for _, u := range a.units {
		if u.overlaps(call, ret) {
			return true
		}
	}
	for _, o := range a.reregs {
		if o.CallNs <= ret && o.ReturnNs >= call {
			return true
		}
	}
	for _, o := range a.other {
		if o.CallNs <= ret && o.ReturnNs >= call {
			return true
		}
	}
	if withHostile {
		for _, o := range a.hostile {
			if o.CallNs <= ret && o.ReturnNs >= call {
				return true
			}
		}
	}
	return false
}

func (a *bbAgent) unitsBefore(t int64) int {
	n := 0
	for _, u := range a.units {
		if u.start < t {
			n++
		}
	}
	return n
}

// foldable: the judge knows the agent's start and every write it saw.
func (a *bbAgent) foldable() bool { return a.hasStart && len(a.other) == 0 }

// foldBefore is the fold of the units that returned before t: the applied
// sum, and the deltas of unknown units (timeouts and 202s; 5xx apart).
func (a *bbAgent) foldBefore(t int64) (base int64, maybe, maybe5xx []*bbUnit) {
	base = a.start
	for _, u := range a.units {
		if u.end >= t {
			continue
		}
		switch u.state {
		case unitApplied:
			base += u.delta
		case unitMaybe:
			maybe = append(maybe, u)
		case unitMaybe5xx:
			maybe5xx = append(maybe5xx, u)
		}
	}
	return base, maybe, maybe5xx
}

// quiescent reports whether read r can be judged: after the create, no
// write of the agent in flight.
func (a *bbAgent) quiescent(r bbRead) bool {
	return r.call > a.createAt && !a.busy(r.call, r.ret, false)
}

// reach reports whether base plus some subset of opts equals target, and
// that subset. Beyond maxSubset options it finds no subset: it tracks the
// distinct reachable sums while they stay few (maxSums), else judges
// against the interval the options span.
func reach(base int64, opts []int64, target int64) (bool, []int) {
	if len(opts) > maxSubset {
		sums := map[int64]bool{base: true}
		for _, d := range opts {
			next := make(map[int64]bool, 2*len(sums))
			for s := range sums {
				next[s], next[s+d] = true, true
			}
			if sums = next; len(sums) > maxSums {
				sums = nil
				break
			}
		}
		if sums != nil {
			return sums[target], nil
		}
		lo, hi := base, base
		for _, d := range opts {
			if d < 0 {
				lo += d
			} else {
				hi += d
			}
		}
		return target >= lo && target <= hi, nil
	}
	return subsetReaching(base, opts, target, 0)
}

// subsetReaching searches the subsets of opts (by bit mask, from mask
// from: 0 includes the empty subset, 1 does not) for one whose sum added to
// base is target, and returns its indexes.
func subsetReaching(base int64, opts []int64, target int64, from int) (bool, []int) {
	for mask := from; mask < 1<<len(opts); mask++ {
		s := base
		for i, d := range opts {
			if mask&(1<<i) != 0 {
				s += d
			}
		}
		if s == target {
			var idx []int
			for i := range opts {
				if mask&(1<<i) != 0 {
					idx = append(idx, i)
				}
			}
			return true, idx
		}
	}
	return false, nil
}

func deltas(us []*bbUnit) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.delta
	}
	return out
}

// readOK judges one read against the fold (5xx units allowed either way).
func (a *bbAgent) readOK(r bbRead) (ok bool, base int64, maybe, maybe5xx []*bbUnit) {
	base, maybe, maybe5xx = a.foldBefore(r.call)
	ok, _ = reach(base, deltas(append(slices.Clone(maybe), maybe5xx...)), r.value)
	return ok, base, maybe, maybe5xx
}

func (b *blackBox) foldAgents() []*bbAgent {
	var out []*bbAgent
	for _, id := range b.order {
		if a := b.agents[id]; a.foldable() {
			out = append(out, a)
		}
	}
	return out
}

// finalRead is the agent's last quiescent read.
func (a *bbAgent) finalRead() (bbRead, bool) {
	for i := len(a.reads) - 1; i >= 0; i-- {
		if a.quiescent(a.reads[i]) {
			return a.reads[i], true
		}
	}
	return bbRead{}, false
}

// ---------------------------------------------------------------- A11

// keyedRetries calls f for every copy (a retry, a concurrent duplicate)
// of every keyed write, with the execution it replays.
func (b *blackBox) keyedRetries(f func(a *bbAgent, u *bbUnit, first, c Op)) {
	for _, id := range b.order {
		a := b.agents[id]
		for _, u := range a.units {
			if !strings.HasPrefix(u.name, "key ") {
				continue
			}
			first, _ := u.executed()
			for _, c := range u.copies() {
				f(a, u, first, c)
			}
		}
	}
}

func (b *blackBox) a11() Finding {
	var v violations
	judged, inconclusive, noHeader := 0, 0, 0
	b.keyedRetries(func(a *bbAgent, u *bbUnit, first, c Op) {
		judged++
		if c.Outcome != history.Replayed {
			noHeader++
		}
		fba, fok := exactMoney(first.BalanceAfter)
		cba, cok := exactMoney(c.BalanceAfter)
		if !fok || !cok || cba == fba {
			return
		}
		clean := !a.busyExcept(u, min(first.CallNs, c.CallNs), max(first.ReturnNs, c.ReturnNs), 0)
		switch {
		case clean || cba-fba == u.delta:
			v.add("%s (agent %s, %s %s): op %d answered balance_after %s, its retry op %d (%s, %s) answered %s — %s again; nothing else of the agent was in flight: %t",
				u.name, a.id, first.Kind, money.FormatMilli(absMilli(u.delta)), first.ID, first.BalanceAfter, c.ID, c.Role, replayWord(c),
				c.BalanceAfter, signed(cba-fba), clean)
		default:
			inconclusive++
		}
	})
	for _, id := range b.order {
		a := b.agents[id]
		// The final balance: does counting retries as new effects explain it?
		if !a.foldable() {
			continue
		}
		r, ok := a.finalRead()
		if !ok || func() bool { ok, _, _, _ := a.readOK(r); return ok }() {
			continue
		}
		base, maybe, maybe5xx := a.foldBefore(r.call)
		var extra []Op
		var extraDelta []int64
		for _, u := range a.units {
			if u.end < r.call && u.state == unitApplied {
				for _, c := range u.copies() {
					extra, extraDelta = append(extra, c), append(extraDelta, u.delta)
				}
			}
		}
		if len(extra) == 0 {
			continue
		}
		unknown := deltas(append(slices.Clone(maybe), maybe5xx...))
		opts := append(slices.Clone(extraDelta), unknown...)
		if len(opts) > 16 { // exact explanations only
			opts = extraDelta
			if len(opts) > 16 {
				continue
			}
		}
		if ok, idx := reachAll(base, opts, r.value); ok {
			var keys []string
			for _, i := range idx {
				if i < len(extra) {
					keys = append(keys, fmt.Sprintf("%s (op %d)", extra[i].Key, extra[i].ID))
				}
			}
			if len(keys) > 0 {
				v.add("agent %s: %s shows %s; the fold counting each key once gives %s, counting these keyed retries as new effects gives exactly %s: %s",
					a.id, r.what, money.FormatMilli(r.value), money.FormatMilli(base), money.FormatMilli(r.value), strings.Join(keys, ", "))
			}
		}
	}
	// A history entry that repeats a key: its amount, and the balance_after
	// a retry of that key answered.
	for _, m := range b.historyMatches() {
		if len(m.unmatched) == 0 {
			continue
		}
		type copyOf struct {
			u *bbUnit
			c Op
		}
		copies := map[[2]int64][]copyOf{} // (amount, balance_after) → retries
		for _, u := range b.agents[m.agent].units {
			for _, c := range u.copies() {
				if cba, ok := exactMoney(c.BalanceAfter); ok {
					copies[[2]int64{u.delta, cba}] = append(copies[[2]int64{u.delta, cba}], copyOf{u, c})
				}
			}
		}
		for _, e := range m.unmatched {
			for _, x := range copies[[2]int64{e.amount, e.balance}] {
				v.add("agent %s: history entry %s (amount %s, balance_after %s) is a second effect of %s: retry op %d answered that balance_after",
					m.agent, e.entry.EventID, e.entry.Amount, e.entry.BalanceAfter, x.u.name, x.c.ID)
			}
		}
	}
	f := v.finding(CheckA11, countMeasured(&v, judged, "keyed retries answered 2xx"),
		"0: a retry answers the original's balance_after and the final balance counts each key once",
		fmt.Sprintf("%d retries lacked Idempotent-Replayed; %d had other writes in flight and a difference that is not the amount (inconclusive)", noHeader, inconclusive))
	f.Samples = judged
	return f
}

// reachAll is reach without the interval fallback (opts ≤ 16), over
// non-empty subsets only.
func reachAll(base int64, opts []int64, target int64) (bool, []int) {
	return subsetReaching(base, opts, target, 1)
}

// busyExcept reports a write of the agent other than u and op skip in
// flight in [call, ret].
func (a *bbAgent) busyExcept(u *bbUnit, call, ret int64, skip uint64) bool {
	for _, w := range a.units {
		if w != u && w.overlaps(call, ret) {
			return true
		}
	}
	for _, o := range append(append(slices.Clone(a.reregs), a.other...), a.hostile...) {
		if o.ID != skip && o.CallNs <= ret && o.ReturnNs >= call {
			return true
		}
	}
	return false
}

func replayWord(o Op) string {
	if o.Outcome == history.Replayed {
		return "Idempotent-Replayed"
	}
	return "no Idempotent-Replayed"
}

func absMilli(m int64) int64 {
	if m < 0 {
		return -m
	}
	return m
}

func signed(m int64) string {
	if m > 0 {
		return "+" + money.FormatMilli(m)
	}
	return money.FormatMilli(m)
}

// ---------------------------------------------------------------- A12

func (b *blackBox) a12() Finding {
	var v violations
	// A write answered 5xx counts as judged only once an exact read after
	// it could show it (float noise or no read leaves it unjudged: NOT
	// MEASURED, never PASS).
	judgedUnits := map[*bbUnit]bool{}
	for _, a := range b.foldAgents() {
		reported := map[*bbUnit]bool{}
		for _, r := range a.reads {
			if !a.quiescent(r) {
				continue
			}
			base, maybe, maybe5xx := a.foldBefore(r.call)
			if len(maybe5xx) == 0 {
				continue
			}
			all := append(slices.Clone(maybe), maybe5xx...)
			if len(all) > maxSubset {
				continue
			}
			for _, u := range maybe5xx {
				judgedUnits[u] = true
			}
			if ok, _ := reach(base, deltas(maybe), r.value); ok {
				continue
			}
			if ok, idx := reach(base, deltas(all), r.value); ok {
				var names []string
				fresh := false
				for _, i := range idx {
					if all[i].state == unitMaybe5xx {
						names = append(names, fmt.Sprintf("%s (%s, ops %s answered %s)", all[i].name, signed(all[i].delta), opIDs(all[i].ops), statuses(all[i].ops)))
						fresh = fresh || !reported[all[i]]
						reported[all[i]] = true
					}
				}
				if !fresh {
					continue
				}
				v.add("agent %s: %s shows %s = the fold %s plus writes answered 5xx: %s",
					a.id, r.what, money.FormatMilli(r.value), money.FormatMilli(base), strings.Join(names, ", "))
			}
		}
	}
	// A 5xx write that shows as a history entry (B17's matching).
	for _, m := range b.historyMatches() {
		for _, e := range m.fromMaybe5xx {
			v.add("agent %s: history entry %s (amount %s, balance_after %s) is the write %s answered %s",
				m.agent, e.entry.EventID, e.entry.Amount, e.entry.BalanceAfter, e.unit.name, statuses(e.unit.ops))
		}
	}
	for _, m := range b.historyMatches() {
		for _, e := range m.fromMaybe5xx {
			judgedUnits[e.unit] = true
		}
	}
	judged := len(judgedUnits)
	f := v.finding(CheckA12, countMeasured(&v, judged, "writes answered 5xx and read back exactly"),
		"0: no later balance or history shows a write answered 5xx (timeouts may go either way)", "")
	f.Samples = judged
	return f
}

func opIDs(ops []Op) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = itoa(int(o.ID))
	}
	return strings.Join(s, ",")
}

func statuses(ops []Op) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = itoa(o.Status)
	}
	return strings.Join(s, ",")
}

// ---------------------------------------------------------------- A13

func (b *blackBox) a13() Finding {
	var v violations
	judged := 0
	for _, id := range b.order {
		a := b.agents[id]
		for _, o := range a.hostile {
			judged++
			if o.Status < 400 || o.Status >= 500 {
				v.add("op %d: %s of amount %s for agent %s answered %s, want a 4xx%s", o.ID, o.Kind, o.AmountSent, a.id,
					answer(o), moneyOf(o))
			}
		}
		if len(a.hostile) == 0 {
			continue
		}
		// Balances around hostile requests must not move: consecutive
		// quiescent reads with only hostile requests between them.
		for i := 1; i < len(a.reads); i++ {
			r1, r2 := a.reads[i-1], a.reads[i]
			if r1.ret >= r2.call || a.busy(r1.call, r2.ret, false) || r1.value == r2.value {
				continue
			}
			var between []string
			for _, o := range a.hostile {
				if o.CallNs > r1.call && o.ReturnNs < r2.ret {
					between = append(between, fmt.Sprintf("op %d (%s)", o.ID, o.AmountSent))
				}
			}
			if len(between) > 0 {
				v.add("agent %s: %s showed %s, %s showed %s; only hostile requests came between: %s",
					a.id, r1.what, money.FormatMilli(r1.value), r2.what, money.FormatMilli(r2.value), strings.Join(between, ", "))
			}
		}
	}
	f := v.finding(CheckA13, countMeasured(&v, judged, "hostile amounts"),
		"0: every NaN, Infinity, 1e309, negative, zero, over-maximum, sub-milli or non-number amount answered 4xx and no balance moved", "")
	f.Samples = judged
	return f
}

func answer(o Op) string {
	if o.Err != "" && o.Status == 0 {
		return "no answer (" + o.Err + ")"
	}
	return itoa(o.Status)
}

func moneyOf(o Op) string {
	if o.BalanceAfter == "" {
		return ""
	}
	return " (balance_after " + o.BalanceAfter + ")"
}

// ---------------------------------------------------------------- A30

// a30: SPEC §3 — a retry with the same key and request returns the
// original result. Where A11 asks whether money moved again (and leaves a
// difference other writes in flight could explain undecided), A30 asks
// only whether the answer is the original's: a retry answered 2xx with
// another balance_after than the execution it replays is not, whatever
// else was in flight (a backend that rebuilds its stored answers from the
// current state after a restart answers so).
func (b *blackBox) a30() Finding {
	var v violations
	judged := 0
	b.keyedRetries(func(a *bbAgent, u *bbUnit, first, c Op) {
		fba, fok := exactMoney(first.BalanceAfter)
		cba, cok := exactMoney(c.BalanceAfter)
		if !fok || !cok {
			return
		}
		judged++
		if cba != fba {
			v.add("%s (agent %s, %s %s): op %d answered balance_after %s, its retry op %d (%s, %s) answered %s",
				u.name, a.id, first.Kind, money.FormatMilli(absMilli(u.delta)), first.ID, first.BalanceAfter, c.ID, c.Role, replayWord(c), c.BalanceAfter)
		}
	})
	f := v.finding(CheckA30, countMeasured(&v, judged, "keyed retries answered 2xx with a balance_after"),
		"0: every retry answers its original's balance_after", "")
	f.Samples = judged
	return f
}

// ---------------------------------------------------------------- B13

func (b *blackBox) b13() Finding {
	var v violations
	judged, agents, skipped := 0, 0, []string{}
	for _, id := range b.order {
		a := b.agents[id]
		switch {
		case !a.created:
			continue
		case !a.hasStart:
			skipped = append(skipped, a.id+" (start unknown)")
			continue
		case len(a.other) > 0:
			skipped = append(skipped, fmt.Sprintf("%s (%d writes of other kinds)", a.id, len(a.other)))
			continue
		}
		agents++
		for _, r := range a.reads {
			if !a.quiescent(r) {
				continue
			}
			judged++
			ok, base, maybe, maybe5xx := a.readOK(r)
			if ok {
				continue
			}
			var unk string
			if n := len(maybe) + len(maybe5xx); n > 0 {
				unk = fmt.Sprintf(" with any of %d unknown writes", n)
			}
			v.add("agent %s: %s shows %s, the fold of the writes acknowledged before it is %s%s (start %s: %s)",
				a.id, r.what, money.FormatMilli(r.value), money.FormatMilli(base), unk, money.FormatMilli(a.start), a.startSrc)
		}
	}
	// GET /balances lists every agent (SPEC §6: balances {id: number}):
	// one the run read a balance of, 0 included, may not be missing.
	listed := 0
	if b.snap.BalancesStatus >= 200 && b.snap.BalancesStatus < 300 {
		for _, id := range b.order {
			a := b.agents[id]
			if !a.created || !a.hasStart || len(a.reads) == 0 {
				continue
			}
			judged++
			listed++
			if _, ok := b.snap.Balances[id]; !ok {
				last := a.reads[len(a.reads)-1]
				v.add("agent %s: GET /balances does not list it, while %s answers %s (a registered agent has a balance, 0 included)",
					a.id, last.what, money.FormatMilli(last.value))
			}
		}
	}
	detail := fmt.Sprintf("%d agents folded; %d looked up in GET /balances", agents, listed)
	if len(skipped) > 0 {
		detail += "; not folded: " + strings.Join(skipped, ", ")
	}
	f := v.finding(CheckB13, countMeasured(&v, judged, "balance reads at quiescent points"),
		"0: every balance equals start + Σ acknowledged writes exactly (unknown outcomes either way)", detail)
	f.Samples = judged
	return f
}

// ---------------------------------------------------------------- B14

func (b *blackBox) b14() Finding {
	var v violations
	judged := 0
	check := func(where, raw string) {
		if raw == "" {
			return
		}
		judged++
		if _, ok := exactMoney(raw); !ok {
			v.add("%s: %s", where, raw)
		}
	}
	for _, o := range b.ops {
		check(fmt.Sprintf("op %d %s amount", o.ID, o.Kind), o.AnswerAmount)
		check(fmt.Sprintf("op %d %s balance_after", o.ID, o.Kind), o.BalanceAfter)
		check(fmt.Sprintf("op %d balance of %s", o.ID, o.Agent), o.ReadRaw)
	}
	for _, id := range sortedKeys(b.snap.Balances) {
		check("GET /balances "+id, b.snap.Balances[id])
	}
	for _, id := range sortedKeys(b.snap.History) {
		for _, e := range b.snap.History[id].Entries {
			check(fmt.Sprintf("history %s entry %s amount", id, e.EventID), e.Amount)
			check(fmt.Sprintf("history %s entry %s balance_after", id, e.EventID), e.BalanceAfter)
		}
	}
	f := v.finding(CheckB14, countMeasured(&v, judged, "money values the API returned"),
		"0: every amount, balance and balance_after is a JSON number with at most 3 decimals (no float noise)", "")
	f.Samples = judged
	return f
}

// ---------------------------------------------------------------- B15

func (b *blackBox) b15() Finding {
	var v violations
	judged := 0
	for _, id := range b.order {
		a := b.agents[id]
		for _, re := range a.reregs {
			// The reads just before and just after the re-registration, with
			// no other write of the agent between them, must agree.
			var before, after *bbRead
			for k := range a.reads {
				r := &a.reads[k]
				if r.ret < re.CallNs && r.call > a.createAt {
					before = r
				}
				if r.call > re.ReturnNs {
					after = r
					break
				}
			}
			if after == nil {
				continue
			}
			if before != nil && !a.busyExcept(nil, before.call, after.ret, re.ID) {
				judged++
				if before.value != after.value {
					v.add("agent %s: %s showed %s, re-registration op %d answered %d%s, %s then showed %s%s",
						a.id, before.what, money.FormatMilli(before.value), re.ID, re.Status, moneyOfCreate(re), after.what, money.FormatMilli(after.value), resetWhy(a, re, after.value))
				}
				continue
			}
			// No read just before: the fold must explain the read after.
			if !a.foldable() || !a.quiescent(*after) {
				continue
			}
			judged++
			if ok, base, _, _ := a.readOK(*after); !ok {
				v.add("agent %s: re-registration op %d answered %d%s; %s then shows %s%s, the fold (re-registration changes nothing) is %s",
					a.id, re.ID, re.Status, moneyOfCreate(re), after.what, money.FormatMilli(after.value), resetWhy(a, re, after.value), money.FormatMilli(base))
			}
		}
	}
	f := v.finding(CheckB15, countMeasured(&v, judged, "re-registrations followed by a balance read"),
		"0: the balance after re-registering an existing agent is the balance before it", "")
	f.Samples = judged
	return f
}

func resetWhy(a *bbAgent, re Op, got int64) string {
	if m, ok := exactMoney(re.BalanceAfter); ok && m == got {
		return " = the balance the re-registration answered"
	}
	if a.hasStart && got == a.start {
		return " = the agent's initial balance"
	}
	return ""
}

func moneyOfCreate(o Op) string {
	if o.BalanceAfter == "" {
		return ""
	}
	return " with balance " + o.BalanceAfter
}

// ---------------------------------------------------------------- B16

func (b *blackBox) b16() Finding {
	var v violations
	judged := 0
	for _, o := range b.ops {
		if !b.phantom[o.Agent] {
			continue
		}
		switch {
		case o.Kind == history.KindReadHistory:
			judged++
			if o.Outcome == history.OK && o.ReadNewest != "" {
				v.add("op %d: GET /history/%s of a never-created agent answered %d with entries (newest %s)", o.ID, o.Agent, o.Status, o.ReadNewest)
			}
		case o.Kind == history.KindReadBalance || o.Kind.Mutation():
			judged++
			if o.Outcome.Acked() {
				v.add("op %d: %s for never-created agent %s answered %d%s%s, want 404", o.ID, o.Kind, o.Agent, o.Status, moneyOf(o), readOf(o))
			}
		}
	}
	if b.snap.BalancesStatus >= 200 && b.snap.BalancesStatus < 300 {
		for _, p := range b.snap.Phantoms {
			judged++
			if raw, ok := b.snap.Balances[p]; ok {
				v.add("GET /balances lists never-created agent %s with balance %s", p, raw)
			}
		}
	}
	for _, p := range b.snap.Phantoms {
		if h, ok := b.snap.History[p]; ok && h.Status >= 200 && h.Status < 300 && len(h.Entries) > 0 {
			v.add("GET /history/%s of a never-created agent answered %d entries", p, len(h.Entries))
		}
	}
	f := v.finding(CheckB16, countMeasured(&v, judged, "requests and listings naming never-created agents"),
		"0: reads and writes of never-created agents answer 4xx, and /balances never lists them", "")
	f.Samples = judged
	return f
}

func readOf(o Op) string {
	if o.ReadRaw == "" {
		return ""
	}
	return " (balance " + o.ReadRaw + ")"
}

// ---------------------------------------------------------------- B17

// bbEntry is a parsed history entry.
type bbEntry struct {
	entry   history.HistoryEntry
	amount  int64
	balance int64
	unit    *bbUnit
}

// bbHistory is one agent's history matched to its units.
type bbHistory struct {
	agent        string
	entries      []*bbEntry // oldest first
	problems     []string
	fromMaybe5xx []*bbEntry
	unmatched    []*bbEntry // entries no write accounts for
	writes       int        // acknowledged writes compared
	judged       bool
	skip         string
}

// historyMatches matches each folded agent's snapshot history with its
// writes (computed once).
func (b *blackBox) historyMatches() []*bbHistory {
	if b.matched != nil {
		return b.matched
	}
	out := []*bbHistory{}
	defer func() { b.matched = out }()
	for _, a := range b.foldAgents() {
		h, ok := b.snap.History[a.id]
		if !ok {
			continue
		}
		out = append(out, matchHistory(a, h))
	}
	return out
}

func matchHistory(a *bbAgent, h history.HistoryRead) *bbHistory {
	m := &bbHistory{agent: a.id}
	switch {
	case h.Status < 200 || h.Status >= 300:
		m.skip = fmt.Sprintf("%s: GET /history answered %d", a.id, h.Status)
		return m
	case h.Total > len(h.Entries):
		m.skip = fmt.Sprintf("%s: %d of %d entries read", a.id, len(h.Entries), h.Total)
		return m
	}
	for i := len(h.Entries) - 1; i >= 0; i-- {
		e := h.Entries[i]
		if e.EventID == "" {
			e.EventID = "#" + itoa(i) // newest first, as the API listed it
		}
		am, ok1 := exactMoney(e.Amount)
		ba, ok2 := exactMoney(e.BalanceAfter)
		if !ok1 || !ok2 {
			m.skip = fmt.Sprintf("%s: entry %s not exact money (B14)", a.id, e.EventID)
			return m
		}
		m.entries = append(m.entries, &bbEntry{entry: e, amount: am, balance: ba})
	}
	m.judged = true
	entries := m.entries
	// The creation's allocation, when the backend records one, comes first.
	if len(entries) > 0 && a.start != 0 && entries[0].amount == a.start && entries[0].balance == a.start {
		entries = entries[1:]
	}
	// Running sum: each entry's balance_after is the previous one plus its amount.
	run := a.start
	for _, e := range entries {
		run += e.amount
		if e.balance != run {
			m.problems = append(m.problems, fmt.Sprintf("entry %s (amount %s) has balance_after %s, the running sum from %s is %s",
				e.entry.EventID, e.entry.Amount, e.entry.BalanceAfter, money.FormatMilli(a.start), money.FormatMilli(run)))
			run = e.balance
		}
	}
	used := make([]bool, len(entries))
	byAmount := map[int64][]int{} // entry indexes per amount, oldest first
	for i, e := range entries {
		byAmount[e.amount] = append(byAmount[e.amount], i)
	}
	take := func(u *bbUnit, withBA bool) int {
		for _, i := range byAmount[u.delta] {
			if e := entries[i]; !used[i] && (!withBA || e.balance == u.ba) {
				used[i], e.unit = true, u
				return i
			}
		}
		return -1
	}
	type placed struct {
		u   *bbUnit
		idx int
	}
	var applied []placed
	var missing []*bbUnit
	for _, u := range a.units {
		if u.state == unitApplied {
			m.writes++
		}
	}
	// Units with a balance_after first (exact), then the others by amount.
	for _, withBA := range []bool{true, false} {
		for _, u := range a.units {
			if u.state != unitApplied || u.hasBA != withBA {
				continue
			}
			if i := take(u, withBA); i >= 0 {
				applied = append(applied, placed{u, i})
			} else {
				missing = append(missing, u)
			}
		}
	}
	for _, u := range a.units {
		if u.state == unitMaybe || u.state == unitMaybe5xx {
			if i := take(u, false); i >= 0 && u.state == unitMaybe5xx {
				m.fromMaybe5xx = append(m.fromMaybe5xx, entries[i])
			}
		}
	}
	for _, u := range missing {
		ba := ""
		if u.hasBA {
			ba = ", balance_after " + money.FormatMilli(u.ba)
		}
		m.problems = append(m.problems, fmt.Sprintf("acknowledged write %s (ops %s, %s%s) has no history entry", u.name, opIDs(u.ops), signed(u.delta), ba))
	}
	for i, e := range entries {
		if !used[i] {
			m.unmatched = append(m.unmatched, e)
			m.problems = append(m.problems, fmt.Sprintf("entry %s (amount %s, balance_after %s) is no acknowledged write", e.entry.EventID, e.entry.Amount, e.entry.BalanceAfter))
		}
	}
	// Order: writes that did not overlap in time appear in their order.
	sort.Slice(applied, func(i, j int) bool { return applied[i].u.start < applied[j].u.start })
	for i := 1; i < len(applied); i++ {
		p, q := applied[i-1], applied[i]
		if p.u.end < q.u.start && p.idx > q.idx {
			m.problems = append(m.problems, fmt.Sprintf("%s (returned before %s was sent) comes after it in the history", p.u.name, q.u.name))
		}
	}
	return m
}

func (b *blackBox) b17() Finding {
	var v violations
	judged := 0
	var skipped []string
	for _, m := range b.historyMatches() {
		if !m.judged {
			skipped = append(skipped, m.skip)
			continue
		}
		judged += len(m.entries) + m.writes
		for _, p := range m.problems {
			v.add("agent %s: %s", m.agent, p)
		}
	}
	detail := ""
	if len(skipped) > 0 {
		detail = "not judged: " + strings.Join(skipped, "; ")
	}
	f := v.finding(CheckB17, countMeasured(&v, judged, "history entries and acknowledged writes compared"),
		"0: each agent's history holds exactly its acknowledged writes (amount, balance_after) in acknowledgement order, balance_after the running sum", detail)
	f.Samples = judged
	return f
}
