package explore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// Command is one request the explorer sent and the answer it saw. The JSON
// shape is the judge's input (gates/audit.ExploreCommand has the same).
type Command struct {
	N      int             `json:"n"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
	Key    string          `json:"key,omitempty"`
	// KeyInBody: the key was sent as the body's idempotency_key member
	// (Body shows it), not the header; a retry keeps the placement.
	KeyInBody bool `json:"key_in_body,omitempty"`
	// Token is the bearer token sent ("" = none).
	Token string `json:"token,omitempty"`
	// RetryOf is the N of the command whose key this one resends (-1 none);
	// Conflicting: with a different body.
	RetryOf     int    `json:"retry_of"`
	Conflicting bool   `json:"conflicting,omitempty"`
	Final       bool   `json:"final,omitempty"` // a read of the final state
	Note        string `json:"note,omitempty"`  // why it was drawn (the boundary)
	// Group numbers the commands sent at once (consecutive N, 0 = sent
	// alone): any serial order of them consistent with the answers is
	// correct.
	Group int `json:"group,omitempty"`
	// Fault names a fault step (FaultKill, …) instead of a request; Skip
	// says why it was not injected (Err: it was, and failed). Call and
	// return times bound it, so commands in flight during it have an
	// unknown outcome.
	Fault string `json:"fault,omitempty"`
	Skip  string `json:"skip,omitempty"`

	Status   int             `json:"status"`
	Resp     json.RawMessage `json:"resp,omitempty"`
	Replayed bool            `json:"replayed,omitempty"`
	Err      string          `json:"err,omitempty"`
	CallNs   int64           `json:"call_unix_ns"`
	ReturnNs int64           `json:"return_unix_ns"`
}

// Run is what one exploration sent and saw.
type Run struct {
	Seed       uint64      `json:"seed"`
	Settings   Settings    `json:"settings"`
	Principals []Principal `json:"principals"`
	Commands   []Command   `json:"commands"`
}

// Config bounds one exploration.
type Config struct {
	Seed       uint64
	Commands   int           // commands to draw (final reads come on top); default 900
	Budget     time.Duration // wall-clock bound; default 30 s
	Prefix     string        // prefix of every id and key
	Settings   Settings
	Principals []Principal
	// Faults, when set, lands faults drawn from the seed among the
	// commands (at most MaxFaults, default DefaultMaxFaults).
	Faults    Faults
	MaxFaults int
	// Serves reports whether the backend serves the route of a request
	// (method and concrete path); nil: every route. A request on a route
	// it does not serve is not sent (and not recorded): the explorer's
	// later steps see it unanswered, the judge never sees it.
	Serves func(method, path string) bool
	// HeaderKeysOnly sends every key as the Idempotency-Key header: the
	// backend refuses the body's idempotency_key member (gate A's A16
	// judges that; the explorer still judges the keys it can send).
	HeaderKeysOnly bool
	// OneToken sends every command with the same token, whatever
	// principal and token were drawn: a backend whose tokens the harness
	// cannot choose (a url target, one that ignores CREDITD_TOKENS) takes
	// the one it was given, and the run is judged without roles. The
	// draws are the same either way.
	OneToken bool
	Token    string // the token OneToken sends ("" sends none)
}

const api = "/api/credits"

// bodyKeyShare: one keyed command in bodyKeyShare sends its key in the body.
const bodyKeyShare = 4

// agent is what the explorer believes of an agent (from the answers).
type agent struct {
	id      string
	balance int64
}

type approval struct {
	id, agent, action, requester string
	amount                       int64
	status                       string
	expires                      time.Time
	voters                       []string
	version                      int
}

type mission struct {
	id, agent          string
	kind, complexity   string
	consumed, refunded int64
	status             string
}

type pool struct {
	id                 string
	balance            int64
	consumed, refunded int64
	members            map[string]bool
	closed             bool
}

type explorer struct {
	c        *scenarios.Client
	r        *rand.Rand
	cfg      Config
	run      *Run
	agents   []*agent
	byAgent  map[string]*agent
	appr     []*approval
	missions []*mission
	pools    []*pool
	acked    []int // N of acknowledged keyed commands (retry candidates)
	collabs  []string
	granted  map[string]int64   // synergie paid per "team/agent", from the answers
	karma    map[string]float64 // the last KARMA score an answer reported per agent
	n        int
	sleeps   int
	groups   int
	fp       *faultPlan // nil without Config.Faults
}

// Explore draws and sends cfg.Commands commands, then reads the final state
// of every entity it touched. An error means the target could not be
// driven at all (the run up to then is returned).
func Explore(ctx context.Context, c *scenarios.Client, cfg Config) (*Run, error) {
	if cfg.Commands <= 0 {
		cfg.Commands = 900
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 30 * time.Second
	}
	if len(cfg.Principals) == 0 {
		return nil, fmt.Errorf("explore: no principals")
	}
	x := &explorer{c: c, r: rand.New(rand.NewPCG(cfg.Seed, 0x6578706c6f7265)), cfg: cfg, byAgent: map[string]*agent{},
		granted: map[string]int64{}, karma: map[string]float64{},
		run: &Run{Seed: cfg.Seed, Settings: cfg.Settings, Principals: cfg.Principals}}
	if cfg.Faults != nil {
		if cfg.MaxFaults <= 0 {
			x.cfg.MaxFaults = DefaultMaxFaults
		}
		x.fp = newFaultPlan(x.cfg)
	}
	deadline := time.Now().Add(cfg.Budget)
	for i := 0; i < 4; i++ {
		x.createAgent()
	}
	for len(x.run.Commands) < cfg.Commands && time.Now().Before(deadline) && ctx.Err() == nil {
		x.dueFaults(ctx)
		x.step(ctx)
	}
	if ctx.Err() == nil {
		walked := len(x.run.Commands)
		x.epilogue()
		x.refusedDeciders()
		x.boundarySweep()
		x.missionEndSweep(x.missionSweep())
		x.poolSweep()
		x.decisionSweep()         // left out on Config.OneToken
		x.refusedMutators(walked) // last: left out on Config.OneToken
	}
	if x.fp != nil && x.fp.karma != "" {
		x.inject(ctx, FaultKarmaUp, "before the final reads")
	}
	x.final(ctx)
	if len(x.run.Commands) > 0 && x.run.Commands[0].Err != "" && x.run.Commands[0].Status == 0 {
		return x.run, fmt.Errorf("explore: the target does not answer: %s", x.run.Commands[0].Err)
	}
	return x.run, ctx.Err()
}

// epilogue sends, after the drawn commands, the boundary sequences the
// walk reaches only by chance: for each way of ending a mission, a fresh
// agent starts one (general, medium), refunds part of it against the
// mission, ends it and reads its balance. A fail then refunds its share
// of what the mission consumed, capped by what the refund left (SPEC §5),
// which a share below 1 tells apart from a share of what is left. It
// draws nothing from the seed's stream, so the walk before it is the same
// with or without it.
func (x *explorer) epilogue() {
	tok := TokenOf(x.cfg.Principals, "operator")
	for i, end := range []string{"fail", "complete", "cancel"} {
		a := &agent{id: fmt.Sprintf("%sae%d", x.cfg.Prefix, i)}
		if !x.freshAgent(a, "1", "epilogue: a fresh agent for a mission ended after a partial refund") {
			continue
		}
		m := &mission{id: fmt.Sprintf("%sme%d", x.cfg.Prefix, i), agent: a.id, kind: "general", complexity: "medium", status: "running"}
		c := x.send("POST", api+"/missions", map[string]any{"mission_id": m.id, "agent_id": a.id, "mission_type": m.kind, "complexity": m.complexity},
			x.groupKey(), tok, "epilogue: start", -1, false)
		if !ok2xx(c) {
			continue
		}
		x.missions = append(x.missions, m)
		x.send("POST", api+"/refund", map[string]any{"agent_id": a.id, "amount": json.Number("1.5"), "mission_id": m.id, "reason": "epilogue: part of the mission"},
			x.groupKey(), tok, "epilogue: a partial refund of a running mission", -1, false)
		body := map[string]any{}
		if end == "complete" {
			body["actual_cost"] = json.Number("2")
		}
		x.send("POST", api+"/missions/"+m.id+"/"+end, body, x.groupKey(), tok, "epilogue: "+end+" after a partial refund", -1, false)
		x.send("GET", api+"/balance/"+a.id, nil, "", tok, "epilogue: the balance after the end", -1, false)
	}
}

// refusedDeciders sends, after the drawn commands, a decision on each
// route by every token that may not decide (operator, service, reader,
// none, an unknown one) on one pending request, which an approver then
// rejects. The walk draws such a token for about one decision in a
// hundred, so a run met a service role admitted to decide or not as the
// seed and the timing fell (CI once got GO on a backend a run alone
// fails). It comes after the walk, which is the same with or without it.
// A backend that takes one token for all gets the same commands with it
// (Config.OneToken).
func (x *explorer) refusedDeciders() {
	s := x.cfg.Settings
	level := func(m int64) time.Duration {
		switch {
		case m >= s.CriticalMilli:
			return s.TimeoutCritical
		case m >= s.HighMilli:
			return s.TimeoutHigh
		}
		return s.TimeoutMedium
	}
	amount := s.ThresholdMilli // the level whose request lives longest
	for _, m := range []int64{s.HighMilli, s.CriticalMilli} {
		if level(m) > level(amount) {
			amount = m
		}
	}
	tok := TokenOf(x.cfg.Principals, "operator")
	id := x.cfg.Prefix + "rd"
	if !x.freshAgent(&agent{id: id}, "1", "refused deciders: a fresh agent") {
		return
	}
	c := x.send("POST", api+"/approvals", map[string]any{"action_type": "add", "agent_id": id, "amount": json.Number(credits(amount)),
		"reason": "refused deciders", "justification": "a request only refused deciders see"}, x.groupKey(), tok,
		"refused deciders: a gated request", -1, false)
	if c.Status != http.StatusAccepted {
		return
	}
	x.noteApproval(c, resp(c))
	ap := x.appr[len(x.appr)-1]
	for _, verb := range []string{"approve", "reject"} {
		for _, t := range x.refusedTokens("operator", "service", "reader") {
			x.send("POST", api+"/approvals/"+ap.id+"/"+verb, map[string]any{"justification": "reviewed"}, x.groupKey(), t.tok,
				"refused deciders: "+verb+" by "+t.who, -1, false)
		}
	}
	c = x.send("POST", api+"/approvals/"+ap.id+"/reject", map[string]any{"justification": "closing"}, x.groupKey(),
		TokenOf(x.cfg.Principals, "approver"), "refused deciders: an approver closes the request", -1, false)
	if ok2xx(c) {
		x.noteDecided(ap, c, "")
	}
}

// refusedMutators sends, after the drawn commands, each kind of
// mutation the walk saw accepted (one per method and route, ids aside)
// again with every token that may not mutate: a reader's, an approver's,
// none and an unknown one. Its body is the accepted one's (without a key
// member), its key a fresh one. The walk draws such a token for about one
// mutation in thirty, so a route drawn a dozen times a run (a rating, a
// pool's close) met it in few runs. It comes after the walk, which is the
// same with or without it. Not on a backend that takes one token for all:
// there every token acts (Config.OneToken), and each resend would run
// again.
func (x *explorer) refusedMutators(walked int) {
	if x.cfg.OneToken {
		return
	}
	seen := map[string]bool{}
	var kinds []Command
	for _, c := range x.run.Commands[:min(walked, len(x.run.Commands))] {
		if c.Method == "GET" || c.Fault != "" || !ok2xx(c) || !strings.HasPrefix(c.Path, api+"/") {
			continue
		}
		route := c.Method + " " + routeOf(c.Path)
		if route == "POST approvals/{id}/approve" || route == "POST approvals/{id}/reject" {
			continue // refusedDeciders
		}
		if !seen[route] {
			seen[route] = true
			kinds = append(kinds, c)
		}
	}
	for _, c := range kinds {
		body := decodeMap(c.Body)
		delete(body, "idempotency_key")
		for _, t := range x.refusedTokens("reader", "approver") {
			// Keys of their own (a key counter of the run's would move the
			// keys after them where this step is left out: Config.OneToken).
			key := fmt.Sprintf("%srm%d", x.cfg.Prefix, len(x.run.Commands))
			x.send(c.Method, c.Path, body, key, t.tok, "refused mutators: "+c.Method+" "+c.Path+" by "+t.who, -1, false)
		}
	}
}

// boundarySweep sends, after the drawn commands, every money route at
// every boundary of the settings: just below and at the gating threshold,
// HIGH and CRITICAL, and at and just above the maximum amount, on the
// agent the walk believes richest (so a debit meets the rule more often
// than the balance). The walk draws an amount at a bound for most money
// commands, but the maximum for one in sixty: a route refusing its own
// maximum met it in some runs only. It comes after the walk, which is
// the same with or without it.
func (x *explorer) boundarySweep() {
	s := x.cfg.Settings
	tok := TokenOf(x.cfg.Principals, "operator")
	rich := &agent{id: x.cfg.Prefix + "bd"}
	for _, a := range x.agents {
		if a.balance > rich.balance {
			rich = a
		}
	}
	if x.byAgent[rich.id] == nil && !x.freshAgent(rich, "1", "boundary sweep: a fresh agent") { // the walk created none
		return
	}
	type bound struct {
		milli int64
		name  string
	}
	var bounds []bound
	seen := map[int64]bool{}
	for _, b := range []bound{{s.ThresholdMilli - 1, "threshold-0.001"}, {s.ThresholdMilli, "=threshold"},
		{s.HighMilli - 1, "high-0.001"}, {s.HighMilli, "=high"}, {s.CriticalMilli - 1, "critical-0.001"}, {s.CriticalMilli, "=critical"},
		{s.MaxAmountMilli, "=max"}, {s.MaxAmountMilli + 1, "max+0.001"}} {
		if b.milli > 0 && !seen[b.milli] {
			seen[b.milli] = true
			bounds = append(bounds, b)
		}
	}
	for _, op := range []string{"add", "withdraw", "consume", "refund", "approvals add", "approvals withdraw"} {
		for _, b := range bounds {
			body := map[string]any{"agent_id": rich.id, "amount": json.Number(credits(b.milli)), "reason": "boundary sweep"}
			path := api + "/" + op
			if action, ok := strings.CutPrefix(op, "approvals "); ok {
				path, body["action_type"], body["justification"] = api+"/approvals", action, "boundary sweep"
			}
			c := x.send("POST", path, body, x.groupKey(), tok, "boundary sweep: "+op+" "+b.name, -1, false)
			m := resp(c)
			switch {
			case c.Status == http.StatusAccepted:
				x.noteApproval(c, m)
			case ok2xx(c):
				if ex, ok := m["executed"].(map[string]any); ok {
					m = ex
				}
				x.afterBalance(rich.id, m)
			}
		}
	}
}

// missionTypes and missionComplexities are what a mission start draws
// from: SPEC §5's types and complexities, an unknown type and none.
var (
	missionTypes        = []string{"general", "code_review", "deployment", "research", "architecture", "unknown_kind"}
	missionComplexities = []string{"low", "medium", "high", ""}
)

// missionSweep starts, after the drawn commands, one mission of every type
// and complexity (each on a fresh agent, so its balance is the initial
// one): the walk starts some thirty missions over 24 cells, so an estimate
// wrong in one cell met it in three runs out of four. It comes after the
// walk, which is the same with or without it. It returns the missions it
// started.
func (x *explorer) missionSweep() []*mission {
	tok := TokenOf(x.cfg.Principals, "operator")
	var started []*mission
	i := 0
	for _, kind := range missionTypes {
		for _, cx := range missionComplexities {
			a := &agent{id: fmt.Sprintf("%sms%d", x.cfg.Prefix, i)}
			m := &mission{id: fmt.Sprintf("%smsm%d", x.cfg.Prefix, i), agent: a.id, kind: kind, complexity: cx, status: "running"}
			i++
			if !x.freshAgent(a, "0.5", "mission sweep: a fresh agent") {
				continue
			}
			c := x.send("POST", api+"/missions", map[string]any{"mission_id": m.id, "agent_id": a.id, "mission_type": kind, "complexity": cx},
				x.groupKey(), tok, "mission sweep: "+kind+" "+cmp.Or(cx, "(no complexity)"), -1, false)
			if ok2xx(c) {
				p, _ := resp(c)["payload"].(map[string]any)
				m.consumed, _ = intOf(p["estimate_milli"])
				x.missions = append(x.missions, m)
				started = append(started, m)
			}
		}
	}
	return started
}

// missionEndSweep ends the missions the mission sweep started, each at a
// bound of its rule (SPEC §5): a complete at the estimate − 0.001, at the
// estimate, at the estimate + 0.001 and at 0, a fail and a cancel; then
// one more end of three ended ones (a finished mission stays finished).
// The walk ends some thirty missions at costs drawn below twice the
// estimate, so a refund off by one at the estimate itself met it by
// chance. It comes after the walk, which is the same with or without it.
func (x *explorer) missionEndSweep(started []*mission) {
	tok := TokenOf(x.cfg.Principals, "operator")
	type end struct {
		verb  string
		atEst bool  // complete: the actual cost is the estimate + off, else off
		off   int64 // milli
		note  string
	}
	ends := []end{{"complete", true, -1, "complete at the estimate-0.001"}, {"complete", true, 0, "complete at the estimate"},
		{"complete", true, 1, "complete at the estimate+0.001"}, {"complete", false, 0, "complete at 0"}, {verb: "fail", note: "fail"},
		{verb: "cancel", note: "cancel"}}
	finish := func(m *mission, e end) {
		body := map[string]any{}
		if e.verb == "complete" {
			cost := e.off
			if e.atEst {
				cost += m.consumed
			}
			if cost < 0 {
				return
			}
			body["actual_cost"] = json.Number(credits(cost))
		}
		c := x.send("POST", api+"/missions/"+m.id+"/"+e.verb, body, x.groupKey(), tok, "mission end sweep: "+e.note+" of a "+m.status+" mission", -1, false)
		if ok2xx(c) && m.status == "running" {
			p, _ := resp(c)["payload"].(map[string]any)
			r, _ := intOf(p["refund_milli"])
			m.refunded += r
			m.status = e.verb
		}
	}
	for i, e := range ends[:min(len(ends), len(started))] {
		finish(started[i], e)
	}
	if len(started) < len(ends) {
		return
	}
	for _, again := range []struct {
		m *mission
		e end
	}{{started[0], ends[5]}, {started[4], ends[3]}, {started[5], ends[4]}} {
		finish(again.m, again.e)
	}
}

// decisionSweep takes, after the drawn commands, a CRITICAL request
// through the votes the walk reaches rarely (SPEC §5: two distinct
// approvers, the requester never one, a justification, optimistic
// versions): an admin requests, approves its own request, an approver
// approves and approves again, a second approves without a justification,
// then on the version before the first vote, then on
// the current one (the action runs), and a third rejects the decided
// request. A CRITICAL withdrawal then gets one approval and a rejection
// from a second approver, and a late approval. The walk decides about a
// hundred requests a run over every level, so a second vote met a
// CRITICAL request in some runs only. It comes after the walk, which is
// the same with or without it. Not where one token serves all (no
// principals to tell apart).
func (x *explorer) decisionSweep() {
	s := x.cfg.Settings
	if x.cfg.OneToken || s.CriticalMilli <= 0 {
		return
	}
	byRole := map[string][]Principal{}
	for _, p := range x.cfg.Principals {
		byRole[p.Role] = append(byRole[p.Role], p)
	}
	approvers := byRole["approver"]
	if len(approvers) < 3 || len(byRole["admin"]) == 0 {
		return
	}
	admin := byRole["admin"][0]
	a := &agent{id: x.cfg.Prefix + "dc"}
	if !x.freshAgent(a, "1", "decision sweep: a fresh agent") {
		return
	}
	request := func(action, tok string) *approval {
		c := x.send("POST", api+"/approvals", map[string]any{"action_type": action, "agent_id": a.id, "amount": json.Number(credits(s.CriticalMilli)),
			"reason": "decision sweep", "justification": "a CRITICAL request through its votes"}, x.groupKey(), tok,
			"decision sweep: a CRITICAL "+action, -1, false)
		if c.Status != http.StatusAccepted {
			return nil
		}
		x.noteApproval(c, resp(c))
		return x.appr[len(x.appr)-1]
	}
	vote := func(ap *approval, verb string, p Principal, version int, just, note string) {
		body := map[string]any{}
		if just != "" {
			body["justification"] = just
		}
		if version > 0 {
			body["expected_version"] = version
		}
		if c := x.send("POST", api+"/approvals/"+ap.id+"/"+verb, body, x.groupKey(), p.Token, "decision sweep: "+note, -1, false); ok2xx(c) {
			x.noteDecided(ap, c, p.Name)
		}
	}
	if ap := request("add", admin.Token); ap != nil {
		vote(ap, "approve", admin, 0, "reviewed", "the requester approves its own")
		vote(ap, "approve", approvers[0], 0, "reviewed", "a first approval")
		vote(ap, "approve", approvers[0], 0, "reviewed", "the same approver again")
		vote(ap, "approve", approvers[1], 0, "", "a second approver without a justification")
		vote(ap, "approve", approvers[1], 1, "reviewed", "a second approver on the version before the first vote")
		vote(ap, "approve", approvers[1], ap.version, "reviewed", "a second approver on the current version")
		vote(ap, "reject", approvers[2], 0, "reviewed", "a third rejects the decided request")
	}
	if ap := request("withdraw", TokenOf(x.cfg.Principals, "operator")); ap != nil {
		vote(ap, "approve", approvers[1], 0, "reviewed", "a first approval of a withdrawal")
		vote(ap, "reject", approvers[2], 0, "reviewed", "a second approver rejects it")
		vote(ap, "approve", approvers[0], 0, "reviewed", "a late approval")
	}
}

// poolSweep runs, after the drawn commands, one pool's life through the
// states the walk reaches rarely (seed 42 removed no member, and moved
// one transfer): two fresh pools, an allocation just below the threshold,
// a consume by a member who is then removed and consumes again, a consume
// by an outsider, a refund and one beyond what is left, a transfer of the
// whole balance plus 0.001 and then of the whole balance, both closed,
// and a consume on a closed pool. It comes after the walk, which is the
// same with or without it.
func (x *explorer) poolSweep() {
	tok := TokenOf(x.cfg.Principals, "operator")
	pre := x.cfg.Prefix + "ps"
	var ags []string
	for _, n := range []string{"a", "b", "c"} { // members a and b; c an outsider
		if !x.freshAgent(&agent{id: pre + n}, "1", "pool sweep: a fresh agent") {
			return
		}
		ags = append(ags, pre+n)
	}
	a, b, outsider := ags[0], ags[1], ags[2]
	one, two := &pool{id: pre + "p1", members: map[string]bool{a: true, b: true}}, &pool{id: pre + "p2", members: map[string]bool{a: true}}
	for _, p := range []*pool{one, two} {
		var members []string
		for m := range p.members {
			members = append(members, m)
		}
		sort.Strings(members)
		c := x.send("POST", api+"/pools", map[string]any{"pool_id": p.id, "name": "pool " + p.id, "members": members}, x.groupKey(), tok,
			"pool sweep: a fresh pool", -1, false)
		if !ok2xx(c) {
			return
		}
		x.pools = append(x.pools, p)
	}
	move := func(p *pool, op string, body map[string]any, amt int64, note string) bool {
		body["amount"], body["reason"] = json.Number(credits(amt)), "pool sweep"
		c := x.send("POST", api+"/pools/"+p.id+"/"+op, body, x.groupKey(), tok, "pool sweep: "+note, -1, false)
		return ok2xx(c)
	}
	alloc := x.cfg.Settings.ThresholdMilli - 1
	if !move(one, "allocate", map[string]any{}, alloc, "allocate threshold-0.001") {
		return
	}
	one.balance = alloc
	if move(one, "consume", map[string]any{"agent_id": b}, 1000, "a member consumes") {
		one.balance, one.consumed = one.balance-1000, one.consumed+1000
	}
	if c := x.send("DELETE", api+"/pools/"+one.id+"/members/"+b, map[string]any{}, x.groupKey(), tok, "pool sweep: remove that member", -1, false); ok2xx(c) {
		delete(one.members, b)
	}
	for _, who := range []string{b, outsider} {
		if move(one, "consume", map[string]any{"agent_id": who}, 1000, "a consume by a non-member") {
			one.balance, one.consumed = one.balance-1000, one.consumed+1000
		}
	}
	if left := one.consumed - one.refunded; left > 0 {
		for _, amt := range []int64{left/2 + 1, left/2 + 1} { // the second goes beyond what is left
			if move(one, "refund", map[string]any{}, amt, "a refund to the pool") {
				one.balance, one.refunded = one.balance+amt, one.refunded+amt
			}
		}
	}
	all := one.balance
	for _, t := range []struct {
		amt  int64
		note string
	}{{all + 1, "a transfer of the balance+0.001"}, {all, "a transfer of the balance"}} {
		if move(one, "transfer", map[string]any{"to_pool_id": two.id}, t.amt, t.note) {
			one.balance, two.balance = one.balance-t.amt, two.balance+t.amt
		}
	}
	for _, p := range []*pool{two, one} {
		if c := x.send("POST", api+"/pools/"+p.id+"/close", map[string]any{"refund_to": a}, x.groupKey(), tok, "pool sweep: close", -1, false); ok2xx(c) {
			p.closed = true
		}
	}
	move(two, "consume", map[string]any{"agent_id": a}, 1000, "a consume on a closed pool")
}

// freshAgent registers a (skill given as its literal) with the operator's
// token, noted note; false when the backend refused it.
func (x *explorer) freshAgent(a *agent, skill, note string) bool {
	c := x.send("POST", api+"/agents", map[string]any{"agent_id": a.id, "skill_level": json.Number(skill)}, x.groupKey(),
		TokenOf(x.cfg.Principals, "operator"), note, -1, false)
	if !ok2xx(c) {
		return false
	}
	x.byAgent[a.id] = a
	return true
}

// refusedToken is a token sent where it must be refused, and who it is.
type refusedToken struct{ tok, who string }

// refusedTokens are the tokens of the roles given (each must be refused
// 403), then none and an unknown one (401).
func (x *explorer) refusedTokens(roles ...string) []refusedToken {
	var out []refusedToken
	for _, r := range roles {
		out = append(out, refusedToken{TokenOf(x.cfg.Principals, r), r})
	}
	return append(out, refusedToken{"", "no token"}, refusedToken{"tok-bogus", "an unknown token"})
}

// tok returns the token of a random principal of one of the roles.
func (x *explorer) tok(roles ...string) (string, string) {
	var cands []Principal
	for _, p := range x.cfg.Principals {
		for _, r := range roles {
			if p.Role == r {
				cands = append(cands, p)
			}
		}
	}
	if len(cands) == 0 {
		return "", ""
	}
	p := cands[x.r.IntN(len(cands))]
	return p.Token, p.Name
}

// mutTok is a mutation's token: mostly a role that may mutate, sometimes
// none, an unknown one, or a role that may not.
func (x *explorer) mutTok(decide bool) (string, string) {
	switch n := x.r.IntN(100); {
	case n < 2:
		return "", ""
	case n < 4:
		return "tok-bogus", ""
	case n < 7:
		if decide {
			return x.tok("operator", "service", "reader")
		}
		return x.tok("reader", "approver")
	}
	if decide {
		if x.r.IntN(3) == 0 {
			return x.tok("admin")
		}
		return x.tok("approver")
	}
	if x.r.IntN(3) == 0 {
		return x.tok("admin")
	}
	return x.tok("operator", "service")
}

// bodyPrincipal is a principal name for a body field: often another
// principal than the token's (the token must win), sometimes absent.
func (x *explorer) bodyPrincipal() string {
	if x.r.IntN(3) == 0 {
		return ""
	}
	return x.cfg.Principals[x.r.IntN(len(x.cfg.Principals))].Name
}

func (x *explorer) key() string {
	x.n++
	if x.r.IntN(10) == 0 {
		return "" // keyless: the server derives a key
	}
	return fmt.Sprintf("%sk%d", x.cfg.Prefix, x.n)
}

// send records one command through the recording client.
func (x *explorer) send(method, path string, body map[string]any, key, token, note string, retryOf int, conflicting bool) Command {
	if !x.serves(method, path) {
		return Command{N: -1, Method: method, Path: path, Note: note}
	}
	cmd, call := x.prepare(method, path, body, key, token, note, retryOf, conflicting)
	cmd.N = len(x.run.Commands)
	cmd = x.do(cmd, call)
	x.run.Commands = append(x.run.Commands, cmd)
	x.noteAcked(cmd, key)
	// An armed fault mostly waits for a refusal within a concurrent group
	// (whose cause may still be in flight); sometimes it lands after a
	// command sent alone.
	if retryOf < 0 && method != "GET" && x.fp != nil && x.fp.armed != "" && x.fp.r.IntN(10) == 0 {
		x.afterRefusal(context.Background(), cmd, false)
	}
	return cmd
}

// serves reports whether the backend serves the request's route (Config.Serves).
func (x *explorer) serves(method, path string) bool {
	return x.cfg.Serves == nil || x.cfg.Serves(method, path)
}

// prepare builds a command and its call (N is the caller's).
func (x *explorer) prepare(method, path string, body map[string]any, key, token, note string, retryOf int, conflicting bool) (Command, scenarios.Call) {
	// Where the key travels (SPEC §3: the Idempotency-Key header or the
	// body's idempotency_key member): drawn for a seeded share of keyed
	// commands, kept by every retry and resend of one.
	inBody := false
	if retryOf >= 0 && retryOf < len(x.run.Commands) {
		inBody = x.run.Commands[retryOf].KeyInBody
	} else if key != "" && method != "GET" {
		inBody = x.r.IntN(bodyKeyShare) == 0 && !x.cfg.HeaderKeysOnly
	}
	if inBody && body != nil {
		delete(body, "idempotency_key") // a resent body carries it; it is put back below
	}
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	sent := raw
	if inBody && key != "" {
		sent = scenarios.WithBodyKey(raw, x.c.NS+key)
	}
	if x.cfg.OneToken {
		token = x.cfg.Token
	}
	cmd := Command{Method: method, Path: path, Body: sent, Key: key, KeyInBody: inBody && key != "", Token: token, RetryOf: retryOf,
		Conflicting: conflicting, Note: note}
	// Token "" sends none: the spec runs the explorer on a client without
	// a default token.
	call := scenarios.Call{Method: method, Path: path, Key: key, KeyInBody: cmd.KeyInBody, Token: token, Route: "explore " + method + " " + routeOf(path)}
	if raw != nil {
		call.Body = json.RawMessage(raw)
	}
	if a, ok := body["agent_id"].(string); ok {
		call.Agent = a
	}
	if retryOf >= 0 {
		call.Role = history.Retry
		if conflicting {
			call.Role = history.Conflicting
		}
	}
	return cmd, call
}

// do sends one prepared command; safe for concurrent use.
func (x *explorer) do(cmd Command, call scenarios.Call) Command {
	cmd.CallNs = time.Now().UnixNano()
	rep := x.c.Do(context.Background(), call)
	cmd.ReturnNs = time.Now().UnixNano()
	cmd.Status, cmd.Replayed = rep.Status, rep.Replayed
	cmd.Key = rep.Op.Key
	if rep.Err != nil {
		cmd.Err = rep.Err.Error()
	}
	if len(rep.Raw) > 0 && json.Valid(rep.Raw) {
		cmd.Resp = bytes.TrimSpace(rep.Raw)
	}
	return cmd
}

// noteAcked remembers an acknowledged keyed command as a retry candidate.
func (x *explorer) noteAcked(cmd Command, sentKey string) {
	if sentKey != "" && ok2xx(cmd) && cmd.RetryOf < 0 {
		x.acked = append(x.acked, cmd.N)
	}
}

func decodeMap(raw json.RawMessage) map[string]any {
	var body map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	_ = d.Decode(&body)
	if body == nil && len(raw) > 0 {
		body = map[string]any{}
	}
	return body
}

// routeOf collapses ids out of a path for latency buckets.
func routeOf(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, api+"/"), "/")
	if len(parts) > 1 {
		parts[1] = "{id}"
	}
	if len(parts) > 3 {
		parts[3] = "{agent_id}"
	}
	return strings.Join(parts, "/")
}

// resp decodes an answer with exact numbers.
func resp(c Command) map[string]any {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(c.Resp))
	d.UseNumber()
	_ = d.Decode(&m)
	return m
}

func milliOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	return parseMilli(string(n))
}

// intOf reads an integer member (payload money is integer milli-credits).
func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func ok2xx(c Command) bool { return c.Status >= 200 && c.Status < 300 }

// amount draws an amount near a pivot: at it, one milli below or above,
// half, tiny, or random up to twice it.
func (x *explorer) amount(pivot int64) (int64, string) {
	if pivot < 1 {
		pivot = 1
	}
	switch x.r.IntN(8) {
	case 0, 1:
		return pivot, "=pivot"
	case 2:
		return max(pivot-1, 1), "pivot-0.001"
	case 3:
		return pivot + 1, "pivot+0.001"
	case 4:
		return max(pivot/2, 1), "pivot/2"
	case 5:
		return 1 + x.r.Int64N(1000), "tiny"
	}
	return 1 + x.r.Int64N(2*pivot), "random≤2×pivot"
}

// amountLit renders an amount; sometimes invalid (0, 4 decimals, above the
// maximum, negative) to cross the input rules too.
func (x *explorer) amountLit(m int64) (json.Number, string) {
	switch x.r.IntN(60) {
	case 0:
		return "0", "zero"
	case 1:
		return json.Number(credits(m/1000*1000) + ".0001"), "4 decimals"
	case 2:
		return json.Number(credits(x.cfg.Settings.MaxAmountMilli + 1)), "max+0.001"
	case 3:
		return json.Number(credits(x.cfg.Settings.MaxAmountMilli)), "=max"
	case 4:
		return json.Number("-" + credits(max(m, 1))), "negative"
	}
	return json.Number(credits(m)), ""
}

func (x *explorer) pickAgent() *agent {
	if len(x.agents) == 0 || x.r.IntN(40) == 0 {
		return &agent{id: x.cfg.Prefix + "ghost"} // unknown agent
	}
	return x.agents[x.r.IntN(len(x.agents))]
}

// bigAgent prefers the agent with the largest balance (so gated
// withdrawals and pool moves have something to move).
func (x *explorer) bigAgent() *agent {
	if len(x.agents) == 0 {
		return x.pickAgent()
	}
	if x.r.IntN(2) == 0 {
		return x.pickAgent()
	}
	best := x.agents[0]
	for _, a := range x.agents {
		if a.balance > best.balance {
			best = a
		}
	}
	return best
}

func (x *explorer) step(ctx context.Context) {
	s := x.cfg.Settings
	n := 200
	if x.fp != nil && x.fp.armed != "" {
		n = 230 // an armed fault waits for a refusal: race debits more often
	}
	switch w := x.r.IntN(n + 10); {
	case w < 6:
		x.createAgent()
	case w < 26:
		x.credit("consume")
	case w < 38:
		x.refund()
	case w < 52:
		x.credit("add")
	case w < 64:
		x.credit("withdraw")
	case w < 80:
		x.requestApproval()
	case w < 102:
		x.decide(ctx, true)
	case w < 110:
		x.decide(ctx, false)
	case w < 120:
		x.startMission()
	case w < 128:
		x.endMission()
	case w < 130:
		x.rateMission()
	case w < 134:
		x.createPool()
	case w < 139:
		x.member()
	case w < 146:
		x.poolMove("allocate", s.ThresholdMilli)
	case w < 154:
		x.poolMove("consume", 0)
	case w < 159:
		x.poolMove("refund", 0)
	case w < 163:
		x.transfer()
	case w < 166:
		x.closePool()
	case w < 168:
		x.missionAtEstimate()
	case w < 176:
		x.collaboration()
	case w < 180:
		x.read()
	case w < 192:
		x.retry(false)
	case w < 200:
		x.retry(true)
	default:
		x.concurrent(ctx)
	}
}

func (x *explorer) createAgent() {
	id := fmt.Sprintf("%sa%d", x.cfg.Prefix, len(x.agents))
	note := "new agent"
	if len(x.agents) > 0 && x.r.IntN(8) == 0 {
		id, note = x.agents[x.r.IntN(len(x.agents))].id, "existing agent"
	}
	// 0.29, 0.57 and 0.58 × 100 are a hair below a whole number in
	// binary floating point: an allocation that truncates is one milli short.
	skills := []float64{0, 0.25, 0.29, 0.5, 0.57, 0.58, 0.8, 1}
	skill := any(skills[x.r.IntN(len(skills))])
	if x.r.IntN(20) == 0 {
		skill, note = 1.5, note+", skill 1.5"
	}
	tok, _ := x.mutTok(false)
	body := map[string]any{"agent_id": id, "skill_level": skill}
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/agents", body, x.key(), tok, note, -1, false)
	if ok2xx(c) {
		if b, ok := milliOf(resp(c)["balance"]); ok {
			a := &agent{id: id, balance: b}
			x.agents = append(x.agents, a)
			x.byAgent[id] = a
		}
	}
}

// afterBalance updates an agent's believed balance from an answer.
func (x *explorer) afterBalance(id string, m map[string]any) {
	if a := x.byAgent[id]; a != nil {
		if b, ok := milliOf(m["balance_after"]); ok {
			a.balance = b
		}
	}
}

func (x *explorer) credit(op string) {
	s := x.cfg.Settings
	a := x.pickAgent()
	var pivot int64
	var why string
	switch op {
	case "consume":
		pivot, why = a.balance, "balance"
	case "withdraw":
		if x.r.IntN(2) == 0 {
			pivot, why = a.balance, "balance"
		} else {
			a = x.bigAgent()
			pivot, why = x.levelPivot()
		}
	default:
		pivot, why = x.levelPivot()
	}
	if pivot == 0 {
		pivot, why = s.ThresholdMilli, "threshold"
	}
	amt, how := x.amount(pivot)
	lit, inv := x.amountLit(amt)
	tok, _ := x.mutTok(false)
	body := map[string]any{"agent_id": a.id, "amount": lit, "reason": "explore " + op}
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/"+op, body, x.key(), tok, why+how+" "+inv, -1, false)
	m := resp(c)
	if c.Status == http.StatusAccepted {
		x.noteApproval(c, m)
	} else if ok2xx(c) {
		x.afterBalance(a.id, m)
	}
}

// levelPivot picks one of the configured bounds.
func (x *explorer) levelPivot() (int64, string) {
	s := x.cfg.Settings
	switch x.r.IntN(4) {
	case 0, 1:
		return s.ThresholdMilli, "threshold"
	case 2:
		return s.HighMilli, "high"
	}
	return s.CriticalMilli, "critical"
}

func (x *explorer) noteApproval(c Command, m map[string]any) {
	id, _ := m["request_id"].(string)
	if id == "" {
		return
	}
	ap := &approval{id: id, status: fmt.Sprint(m["status"]), version: 1}
	ap.agent, _ = m["agent_id"].(string)
	ap.action, _ = m["action_type"].(string)
	ap.requester, _ = m["requester_id"].(string)
	ap.amount, _ = milliOf(m["amount"])
	if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["expires_at"])); err == nil {
		ap.expires = t
	}
	x.appr = append(x.appr, ap)
}

// noteDecided follows a decision by name acknowledged on ap: its status
// and version, the vote when it left the request pending, the balance
// after the action it executed.
func (x *explorer) noteDecided(ap *approval, c Command, name string) {
	m := resp(c)
	ap.status = fmt.Sprint(m["status"])
	ap.version++
	if ap.status == "pending" {
		ap.voters = append(ap.voters, name)
	}
	if ex, ok := m["executed"].(map[string]any); ok {
		x.afterBalance(ap.agent, ex)
	}
}

func (x *explorer) requestApproval() {
	s := x.cfg.Settings
	action := "add"
	if x.r.IntN(2) == 0 {
		action = "withdraw"
	}
	a := x.bigAgent()
	pivot, why := x.levelPivot()
	if action == "withdraw" && x.r.IntN(2) == 0 {
		pivot, why = a.balance, "balance" // LOW (auto-approved) or gated, around what the agent has
	}
	if x.r.IntN(4) == 0 {
		pivot, why = s.ThresholdMilli/2, "LOW" // auto-approved
	}
	amt, how := x.amount(pivot)
	lit, inv := x.amountLit(amt)
	tok, _ := x.mutTok(false)
	body := map[string]any{"action_type": action, "agent_id": a.id, "amount": lit, "reason": "explore approval"}
	if x.r.IntN(2) == 0 {
		body["justification"] = "because"
	}
	if p := x.bodyPrincipal(); p != "" {
		body["requester_id"] = p
	}
	if x.r.IntN(50) == 0 {
		body["action_type"], inv = "mint", inv+" bad action"
	}
	c := x.send("POST", api+"/approvals", body, x.key(), tok, action+" "+why+how+" "+inv, -1, false)
	m := resp(c)
	if c.Status == http.StatusAccepted {
		x.noteApproval(c, m)
	} else if ok2xx(c) {
		if ex, ok := m["executed"].(map[string]any); ok {
			x.afterBalance(a.id, ex)
		}
	}
}

// pickApproval prefers pending requests; sometimes an expired-by-time one
// (decided after its deadline), a decided one, or an unknown id.
func (x *explorer) pickApproval(ctx context.Context) (*approval, string) {
	var pending, overdue, decided []*approval
	now := time.Now()
	for _, a := range x.appr {
		switch {
		case a.status != "pending":
			decided = append(decided, a)
		case !a.expires.IsZero() && now.After(a.expires.Add(200*time.Millisecond)):
			overdue = append(overdue, a)
		default:
			pending = append(pending, a)
		}
	}
	switch n := x.r.IntN(100); {
	case n < 4:
		return &approval{id: "00000000-0000-4000-8000-000000000000"}, "unknown request"
	case n < 14 && len(overdue) > 0:
		return overdue[x.r.IntN(len(overdue))], "after its deadline"
	case n < 17 && len(pending) > 0 && x.sleeps < 2:
		// Wait for the soonest short deadline so a decision meets an
		// expired request (bounded: twice a run, ≤ 4 s each).
		soon := pending[0]
		for _, a := range pending {
			if a.expires.Before(soon.expires) {
				soon = a
			}
		}
		if d := time.Until(soon.expires) + 300*time.Millisecond; d > 0 && d < 4*time.Second {
			x.sleeps++
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
			return soon, "waited past its deadline"
		}
	case n < 25 && len(decided) > 0:
		return decided[x.r.IntN(len(decided))], "already decided"
	}
	if len(pending) == 0 {
		if len(overdue) > 0 {
			return overdue[0], "after its deadline"
		}
		if len(decided) > 0 {
			return decided[x.r.IntN(len(decided))], "already decided"
		}
		return &approval{id: "00000000-0000-4000-8000-000000000001"}, "unknown request"
	}
	return pending[x.r.IntN(len(pending))], "pending"
}

func (x *explorer) decide(ctx context.Context, approve bool) {
	ap, why := x.pickApproval(ctx)
	tok, name := x.mutTok(true)
	if ap.requester != "" && x.r.IntN(4) == 0 {
		for _, p := range x.cfg.Principals { // the requester deciding (four-eyes) when it may decide at all
			if p.Name == ap.requester && p.Role == "admin" {
				tok, name, why = p.Token, p.Name, why+", by its requester"
			}
		}
	}
	if len(ap.voters) > 0 && x.r.IntN(3) == 0 {
		for _, p := range x.cfg.Principals { // the same approver twice
			if p.Name == ap.voters[0] {
				tok, name, why = p.Token, p.Name, why+", same approver again"
			}
		}
	}
	body := map[string]any{}
	if x.r.IntN(4) != 0 {
		body["justification"] = "reviewed"
	}
	if p := x.bodyPrincipal(); p != "" {
		body["approver_id"] = p // never the acting principal when a token is sent
	}
	if x.r.IntN(10) == 0 {
		// The version the approver saw: current or one ahead.
		body["expected_version"] = ap.version + x.r.IntN(2)
	} else if ap.version > 1 && x.r.IntN(3) == 0 {
		// Once the request has a vote, the version before it: a stale view
		// must be refused as much as a future one.
		body["expected_version"] = ap.version - 1
	}
	path := api + "/approvals/" + ap.id + "/reject"
	if approve {
		path = api + "/approvals/" + ap.id + "/approve"
	}
	c := x.send("POST", path, body, x.key(), tok, why, -1, false)
	switch {
	case ok2xx(c):
		x.noteDecided(ap, c, name)
	case c.Status == http.StatusConflict:
		if w, ok := resp(c)["winner"].(map[string]any); ok {
			ap.status = fmt.Sprint(w["status"])
		}
	}
}

func (x *explorer) pickMission() *mission {
	if len(x.missions) == 0 || x.r.IntN(30) == 0 {
		return &mission{id: x.cfg.Prefix + "m-ghost"}
	}
	return x.missions[x.r.IntN(len(x.missions))]
}

func (x *explorer) startMission() {
	a := x.pickAgent()
	id := fmt.Sprintf("%sm%d", x.cfg.Prefix, len(x.missions))
	note := "new mission"
	if len(x.missions) > 0 && x.r.IntN(15) == 0 {
		id, note = x.missions[0].id, "existing mission id"
	}
	tok, _ := x.mutTok(false)
	body := map[string]any{"mission_id": id, "agent_id": a.id, "mission_type": missionTypes[x.r.IntN(len(missionTypes))],
		"complexity": missionComplexities[x.r.IntN(len(missionComplexities))]}
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/missions", body, x.key(), tok, note, -1, false)
	if ok2xx(c) {
		m := resp(c)
		p, _ := m["payload"].(map[string]any)
		est, _ := intOf(p["estimate_milli"])
		x.missions = append(x.missions, &mission{id: id, agent: a.id, kind: fmt.Sprint(body["mission_type"]),
			complexity: fmt.Sprint(body["complexity"]), consumed: est, status: "running"})
		a.balance -= est
	}
}

// refund draws refunds, often repeated against one mission around what is
// left of it, else unreferenced ones around the threshold.
func (x *explorer) refund() {
	a := x.pickAgent()
	body := map[string]any{"reason": "explore refund"}
	var pivot int64
	why := ""
	cross := false
	var left []*mission // missions with something left to refund
	for _, c := range x.missions {
		if c.consumed > c.refunded && c.agent != "" {
			left = append(left, c)
		}
	}
	if len(left) > 0 && x.r.IntN(4) == 0 {
		// A mission of another agent, with something left to refund.
		m := left[x.r.IntN(len(left))]
		if o := x.otherAgent(m.agent); o != nil {
			a, cross = o, true
			body["mission_id"] = m.id
			pivot, why = max(min(m.consumed-m.refunded, 1000), 1), "another agent's mission, within what it has left "
		}
	}
	switch {
	case cross:
	case len(x.missions) > 0 && x.r.IntN(3) != 0:
		m := x.pickMission()
		if m.agent != "" {
			a = x.byAgent[m.agent]
			if a == nil {
				a = x.pickAgent()
			}
		}
		body["mission_id"] = m.id
		pivot, why = m.consumed-m.refunded, "mission left "
		if x.r.IntN(5) == 0 {
			pivot, why = m.consumed, "mission consumed "
		}
	default:
		pivot, why = x.cfg.Settings.ThresholdMilli, "threshold "
	}
	amt, how := x.amount(pivot)
	lit, inv := x.amountLit(amt)
	if cross {
		// Within what the mission has left, a valid amount and a known
		// agent: the one reason to refuse it is whose mission it is.
		amt, how = pivot, "="
		lit, inv = json.Number(credits(amt)), ""
	}
	body["agent_id"], body["amount"] = a.id, lit
	tok, _ := x.mutTok(false)
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/refund", body, x.key(), tok, why+how+" "+inv, -1, false)
	if ok2xx(c) {
		x.afterBalance(a.id, resp(c))
		for _, m := range x.missions {
			if body["mission_id"] == m.id {
				m.refunded += amt
			}
		}
	}
}

// otherAgent is a known agent other than id (nil when there is none).
func (x *explorer) otherAgent(id string) *agent {
	var cands []*agent
	for _, a := range x.agents {
		if a.id != id {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[x.r.IntN(len(cands))]
}

// missionAtEstimate brings an agent's balance to a mission's estimate −
// 0.001, the estimate or + 0.001 (a consume of the difference), then starts
// a mission of the same type and complexity for it: the start compares the
// balance with the estimate at the bound.
func (x *explorer) missionAtEstimate() {
	var cands []*mission
	for _, m := range x.missions {
		if m.consumed > 0 && x.byAgent[m.agent] != nil {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		x.startMission()
		return
	}
	m := cands[x.r.IntN(len(cands))]
	a := x.byAgent[m.agent]
	d := x.r.Int64N(3) - 1
	if diff := a.balance - (m.consumed + d); diff > 0 {
		tok, _ := x.tok("operator", "service", "admin")
		c := x.send("POST", api+"/consume", map[string]any{"agent_id": a.id, "amount": json.Number(credits(diff)), "reason": "explore to the estimate"},
			x.key(), tok, fmt.Sprintf("balance to a mission estimate%+d milli", d), -1, false)
		if ok2xx(c) {
			x.afterBalance(a.id, resp(c))
		}
	}
	id := fmt.Sprintf("%sm%d", x.cfg.Prefix, len(x.missions))
	tok, _ := x.tok("operator", "service", "admin")
	body := map[string]any{"mission_id": id, "agent_id": a.id, "mission_type": m.kind, "complexity": m.complexity}
	c := x.send("POST", api+"/missions", body, x.key(), tok, fmt.Sprintf("start with the balance at the estimate%+d milli", d), -1, false)
	if ok2xx(c) {
		p, _ := resp(c)["payload"].(map[string]any)
		est, _ := intOf(p["estimate_milli"])
		x.missions = append(x.missions, &mission{id: id, agent: a.id, kind: m.kind, complexity: m.complexity, consumed: est, status: "running"})
		a.balance -= est
	}
}

func (x *explorer) endMission() {
	m := x.pickMission()
	ends := []string{"complete", "fail", "cancel"}
	end := ends[x.r.IntN(3)]
	body := map[string]any{}
	if end == "complete" {
		body["actual_cost"] = json.Number(credits(x.r.Int64N(max(m.consumed*2, 1))))
		if x.r.IntN(30) == 0 {
			body["actual_cost"] = json.Number("-1")
		}
	}
	tok, _ := x.mutTok(false)
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/missions/"+m.id+"/"+end, body, x.key(), tok, "mission "+m.status, -1, false)
	if ok2xx(c) {
		p, _ := resp(c)["payload"].(map[string]any)
		r, _ := intOf(p["refund_milli"])
		m.refunded += r
		m.status = end
		if a := x.byAgent[m.agent]; a != nil {
			a.balance += r
		}
	}
}

func (x *explorer) rateMission() {
	m := x.pickMission()
	rating := any(x.r.Float64())
	if x.r.IntN(10) == 0 {
		rating = 1.5
	}
	tok, _ := x.mutTok(false)
	x.send("POST", api+"/missions/"+m.id+"/rate", map[string]any{"rating": rating}, x.key(), tok, "rate", -1, false)
}

func (x *explorer) pickPool() *pool {
	if len(x.pools) == 0 || x.r.IntN(30) == 0 {
		return &pool{id: x.cfg.Prefix + "p-ghost"}
	}
	return x.pools[x.r.IntN(len(x.pools))]
}

func (x *explorer) createPool() {
	id := fmt.Sprintf("%sp%d", x.cfg.Prefix, len(x.pools))
	var members []string
	for i := 0; i < x.r.IntN(3); i++ {
		members = append(members, x.pickAgent().id)
	}
	tok, _ := x.mutTok(false)
	body := map[string]any{"pool_id": id, "name": "pool " + id}
	if len(members) > 0 {
		body["members"] = members
	}
	c := x.send("POST", api+"/pools", body, x.key(), tok, "new pool", -1, false)
	if ok2xx(c) {
		p := &pool{id: id, members: map[string]bool{}}
		for _, m := range members {
			p.members[m] = true
		}
		x.pools = append(x.pools, p)
	}
}

func (x *explorer) member() {
	p := x.pickPool()
	a := x.pickAgent()
	tok, _ := x.mutTok(false)
	if x.r.IntN(3) == 0 {
		c := x.send("DELETE", api+"/pools/"+p.id+"/members/"+a.id, map[string]any{}, x.key(), tok, "remove member", -1, false)
		if ok2xx(c) && p.members != nil {
			delete(p.members, a.id)
		}
		return
	}
	c := x.send("POST", api+"/pools/"+p.id+"/members", map[string]any{"agent_id": a.id}, x.key(), tok, "add member", -1, false)
	if ok2xx(c) && p.members != nil {
		p.members[a.id] = true
	}
}

func (x *explorer) poolMove(op string, pivot int64) {
	p := x.pickPool()
	outsider := ""
	if op == "consume" && x.r.IntN(4) == 0 {
		// A known agent that is not a member, for an amount the pool
		// holds: the one reason to refuse it is membership.
		for _, i := range x.r.Perm(len(x.pools)) {
			if q := x.pools[i]; !q.closed && q.balance > 0 {
				if o := x.nonMember(q); o != "" {
					p, outsider = q, o
					break
				}
			}
		}
	}
	why := "threshold"
	switch op {
	case "consume":
		pivot, why = p.balance, "pool balance"
	case "refund":
		pivot, why = p.consumed-p.refunded, "pool consumed left"
	}
	if op == "allocate" && x.r.IntN(2) == 0 {
		pivot, why = pivot/3, "threshold/3"
	}
	amt, how := x.amount(pivot)
	lit, inv := x.amountLit(amt)
	if d, ok := x.toBoundary(p, op); ok {
		// Bring the pool to the threshold or one milli either side, so its
		// close compares a remainder with the threshold at the bound.
		amt, why, how = d.amt, d.why, ""
		lit, inv = json.Number(credits(amt)), ""
	}
	body := map[string]any{"amount": lit, "reason": "explore pool " + op}
	var ag string
	if op == "consume" {
		ag = x.pickAgent().id
		var members []string
		for m := range p.members {
			members = append(members, m)
		}
		sort.Strings(members)
		if outsider != "" {
			ag, amt, how = outsider, 1+x.r.Int64N(p.balance), " by a non-member, within the balance"
			lit, inv = json.Number(credits(amt)), ""
			body["amount"] = lit
		} else if len(members) > 0 && x.r.IntN(3) != 0 {
			ag = members[x.r.IntN(len(members))]
		}
		body["agent_id"] = ag
	}
	tok, _ := x.mutTok(false)
	c := x.send("POST", api+"/pools/"+p.id+"/"+op, body, x.key(), tok, why+how+" "+inv, -1, false)
	if ok2xx(c) {
		switch op {
		case "allocate":
			p.balance += amt
		case "consume":
			p.balance -= amt
			p.consumed += amt
		case "refund":
			p.balance += amt
			p.refunded += amt
		}
	}
}

type boundaryMove struct {
	amt int64
	why string
}

// toBoundary is, for one pool move in three, the amount that leaves the
// pool holding the threshold − 0.001, the threshold or + 0.001 (an
// allocation stays below the threshold, a consume within the balance).
func (x *explorer) toBoundary(p *pool, op string) (boundaryMove, bool) {
	if (op != "allocate" && op != "consume") || p.members == nil || p.closed || x.r.IntN(3) != 0 {
		return boundaryMove{}, false
	}
	t := x.cfg.Settings.ThresholdMilli
	d := x.r.Int64N(3) - 1
	target := t + d
	amt := target - p.balance
	if op == "consume" {
		amt = -amt
	}
	switch {
	case amt >= t && op == "allocate":
		// One allocation may not reach it: halfway now, the rest later.
		return boundaryMove{amt / 2, "pool halfway to the threshold"}, true
	case amt <= 0 || amt >= t:
		return boundaryMove{}, false
	}
	return boundaryMove{amt, fmt.Sprintf("pool to threshold%+d milli", d)}, true
}

// nonMember is a known agent that is not a member of p ("" when none).
func (x *explorer) nonMember(p *pool) string {
	var cands []string
	for _, a := range x.agents {
		if !p.members[a.id] {
			cands = append(cands, a.id)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	return cands[x.r.IntN(len(cands))]
}

func (x *explorer) transfer() {
	from, to := x.pickPool(), x.pickPool()
	amt, how := x.amount(from.balance)
	lit, inv := x.amountLit(amt)
	tok, _ := x.mutTok(false)
	c := x.send("POST", api+"/pools/"+from.id+"/transfer", map[string]any{"to_pool_id": to.id, "amount": lit, "reason": "explore"},
		x.key(), tok, "pool balance"+how+" "+inv, -1, false)
	if ok2xx(c) {
		from.balance -= amt
		to.balance += amt
	}
}

func (x *explorer) closePool() {
	p := x.pickPool()
	t := x.cfg.Settings.ThresholdMilli
	var near []*pool
	for _, q := range x.pools {
		if !q.closed && q.balance >= t-1 && q.balance <= t+1 {
			near = append(near, q)
		}
	}
	if len(near) > 0 && x.r.IntN(3) != 0 {
		p = near[x.r.IntN(len(near))] // a remainder at the threshold or one milli either side
	}
	a := x.pickAgent()
	tok, _ := x.mutTok(false)
	c := x.send("POST", api+"/pools/"+p.id+"/close", map[string]any{"refund_to": a.id}, x.key(), tok, "close", -1, false)
	if ok2xx(c) {
		p.closed = true
		if ag := x.byAgent[a.id]; ag != nil {
			ag.balance += p.balance
		}
		p.balance = 0
	}
}

// read sends one read the judge can predict exactly.
func (x *explorer) read() {
	tok, _ := x.tok("reader", "operator", "approver", "admin", "service")
	if x.r.IntN(20) == 0 {
		tok = ""
	}
	switch x.r.IntN(4) {
	case 0:
		if len(x.appr) > 0 {
			x.send("GET", api+"/approvals/"+x.appr[x.r.IntN(len(x.appr))].id, nil, "", tok, "read", -1, false)
			return
		}
	case 1:
		x.send("GET", api+"/missions/"+x.pickMission().id, nil, "", tok, "read", -1, false)
		return
	case 2:
		x.send("GET", api+"/pools/"+x.pickPool().id, nil, "", tok, "read", -1, false)
		return
	}
	a := x.pickAgent()
	c := x.send("GET", api+"/balance/"+a.id, nil, "", tok, "read", -1, false)
	if ok2xx(c) {
		if b, ok := milliOf(resp(c)["balance"]); ok && x.byAgent[a.id] != nil {
			x.byAgent[a.id].balance = b
		}
	}
}

// retry resends an acknowledged keyed command: the same body (it must
// replay the original answer and change nothing) or a different one (409
// idempotency_key_conflict).
func (x *explorer) retry(conflicting bool) {
	if len(x.acked) == 0 {
		x.read()
		return
	}
	orig := x.run.Commands[x.acked[x.r.IntN(len(x.acked))]]
	if orig.Method != "POST" && orig.Method != "DELETE" {
		return
	}
	var body map[string]any
	d := json.NewDecoder(bytes.NewReader(orig.Body))
	d.UseNumber()
	_ = d.Decode(&body)
	if body == nil {
		body = map[string]any{}
	}
	note := "same key, same body"
	if conflicting {
		note = "same key, different body"
		switch _, hasReason := body["reason"]; {
		case hasReason:
			body["reason"] = fmt.Sprint(body["reason"], " (changed)")
		case strings.Contains(orig.Path, "/approvals/"):
			body["justification"] = fmt.Sprint(body["justification"], " (changed)")
		default: // every other body has an actor_id member
			body["actor_id"] = "someone-else"
		}
	}
	x.send(orig.Method, orig.Path, body, x.sentKey(orig), orig.Token, note, orig.N, conflicting)
}

// sentKey is the key a command was given before the client namespaced it
// (Command.Key is the namespaced key it sent): a resend gives it again.
func (x *explorer) sentKey(c Command) string { return strings.TrimPrefix(c.Key, x.c.NS) }

// final reads every entity the run touched (with the reader's token).
func (x *explorer) final(ctx context.Context) {
	tok, _ := x.tok("reader")
	read := func(path string) {
		if ctx.Err() != nil {
			return
		}
		if c := x.send("GET", path, nil, "", tok, "final", -1, false); c.N >= 0 {
			x.run.Commands[c.N].Final = true
		}
	}
	ids := make([]string, 0, len(x.byAgent))
	for id := range x.byAgent {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		read(api + "/balance/" + id)
	}
	for _, a := range x.appr {
		read(api + "/approvals/" + a.id)
	}
	for _, m := range x.missions {
		read(api + "/missions/" + m.id)
	}
	for _, p := range x.pools {
		read(api + "/pools/" + p.id)
	}
}

// collaboration records a team collaboration: 2–4 agents (sometimes one,
// an unknown one, or an invalid score), often the same team so the cap
// binds, sometimes a repeated collaboration_id (writes nothing). About one
// in three crosses a boundary of the body: a score key naming an agent not
// in agent_ids (a known agent, who must not be paid), a member without a
// score, a member listed twice (counted once; a team of one agent twice is
// 422), scores of exactly 0 and 1, and a score aimed at what is left of the
// agent's cap in the team (the cap compared at the bound).
func (x *explorer) collaboration() {
	id := fmt.Sprintf("%sc%d", x.cfg.Prefix, len(x.collabs))
	note := "new collaboration"
	if len(x.collabs) > 0 && x.r.IntN(8) == 0 {
		id, note = x.collabs[x.r.IntN(len(x.collabs))], "repeated collaboration_id"
	}
	n := 2 + x.r.IntN(3)
	if x.r.IntN(15) == 0 {
		n, note = 1, note+", team of one"
	}
	team := fmt.Sprintf("%st%d", x.cfg.Prefix, x.r.IntN(2))
	var ids []string
	scores := map[string]any{}
	for i := 0; i < n; i++ {
		a := x.pickAgent().id
		ids = append(ids, a)
		scores[a] = json.Number(fmt.Sprintf("%.3f", x.r.Float64()))
	}
	if x.r.IntN(20) == 0 {
		scores[ids[0]], note = json.Number("1.2"), note+", score 1.2"
	}
	switch x.r.IntN(10) {
	case 0, 6: // a score for an agent outside the team
		if o := x.outside(ids); o != "" {
			scores[o], note = json.Number("1"), note+", score key outside agent_ids"
		}
	case 1: // a member without a score
		if len(ids) > 0 {
			delete(scores, ids[len(ids)-1])
			if !contains(ids[:len(ids)-1], ids[len(ids)-1]) {
				note += ", a member without a score"
			}
		}
	case 2: // a member listed twice
		ids, note = append(ids, ids[0]), note+", a member listed twice"
	case 3: // one agent twice: one distinct agent
		ids, note = []string{ids[0], ids[0]}, note+", one agent listed twice"
		scores = map[string]any{ids[0]: json.Number("0.5")}
	case 4: // scores at the bounds
		for i, a := range ids {
			scores[a] = json.Number([]string{"0", "1"}[i%2])
		}
		note += ", scores 0 and 1"
	case 5: // aimed at what is left of the cap
		if len(ids) > 0 {
			a := ids[0]
			room := x.cfg.Settings.SynergieCap - x.granted[team+"/"+a]
			k, ok := x.karma[a]
			if !ok {
				k = 0.5
			}
			if f := float64(x.cfg.Settings.SynergieBase) * (0.5 + k); room > 0 && f > 0 {
				d := x.r.Int64N(3) - 1
				c := float64(room+d) / f
				if c >= 0 && c <= 1 {
					scores[a], note = json.Number(fmt.Sprintf("%.6f", c)), note+fmt.Sprintf(", score aimed at the cap%+d milli", d)
				}
			}
		}
	}
	tok, _ := x.mutTok(false)
	body := map[string]any{"collaboration_id": id, "team_id": team, "agent_ids": ids, "contribution_scores": scores}
	if p := x.bodyPrincipal(); p != "" {
		body["actor_id"] = p
	}
	c := x.send("POST", api+"/synergie/collaborations", body, x.key(), tok, note, -1, false)
	if ok2xx(c) {
		x.collabs = append(x.collabs, id)
		for _, rw := range asMaps(resp(c)["rewards"]) {
			ag := fmt.Sprint(rw["agent_id"])
			if k, ok := rw["karma_score"].(json.Number); ok {
				if f, err := k.Float64(); err == nil {
					x.karma[ag] = f
				}
			}
			if rw["kind"] == "granted" {
				v, _ := milliOf(rw["amount"])
				x.granted[team+"/"+ag] += v
				if a := x.byAgent[ag]; a != nil {
					a.balance += v
				}
			}
		}
	}
}

// outside is a known agent not among ids ("" when none).
func (x *explorer) outside(ids []string) string {
	var cands []string
	for _, a := range x.agents {
		if !contains(ids, a.id) {
			cands = append(cands, a.id)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	return cands[x.r.IntN(len(cands))]
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
