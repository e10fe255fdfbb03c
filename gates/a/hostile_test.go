package a_test

// Gate A, hostile input (issue 9): a seeded fuzzer sends every mutating
// route the target serves (the catalog's, found at boot, and any other its
// OpenAPI document lists) otherwise-valid requests with one
// hostile part each — invalid UTF-8 (in a value, a member name, the
// Idempotency-Key), duplicate members, case variants of a field, a wrong
// Content-Type, huge numbers, NaN strings, four decimals, negative amounts,
// unknown fields, nested garbage, truncated JSON, a non-object. Every one
// must be refused with a 4xx (never a 5xx, never applied), and a refusal
// must leave the state exactly as it was: the digest and the journal's last
// seq (GET /api/credits/digest) unchanged, or changed only by background
// events that are not the request's; on a backend without /digest, every
// balance (GET /balances). A route whose fixture (a pool, a mission, an
// approval) the backend cannot make is N/A and named; the others still run.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// member is one JSON object member, kept in order and raw so a mutation
// can write bytes encoding/json would never produce.
type member struct {
	k string
	v []byte
}

func jv(v any) []byte { b, _ := json.Marshal(v); return b }

func encodeMembers(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jv(m.k))
		b.WriteByte(':')
		b.Write(m.v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// hostileReq is one fuzzer request.
type hostileReq struct {
	body   []byte
	header map[string]string
}

// numericFields are members holding amounts or scores.
var numericFields = map[string]bool{"amount": true, "actual_cost": true, "skill_level": true, "rating": true}

// amountFields are members holding credit amounts (3 decimals at most).
var amountFields = map[string]bool{"amount": true, "actual_cost": true}

// hostileKinds builds the hostile variants of a valid body. A contract
// kind is refused by our engine's own contract (docs/events.md §5b: UTF-8,
// duplicate members, the Content-Type) but not required by SPEC: another
// backend that accepts it is not accused (A27 applies to our engine only);
// a 5xx or a state change from it still counts everywhere (A19, A21).
var contractKinds = map[string]bool{"invalid UTF-8 in a value": true, "invalid UTF-8 in a member name": true,
	"invalid UTF-8 in the Idempotency-Key": true, "duplicate member": true, "wrong Content-Type": true}

var hostileKinds = []struct {
	name string
	make func(rng *rand.Rand, base []member) (hostileReq, bool)
}{
	{"invalid UTF-8 in a value", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		bad := []string{"\xff", "\xfe\xfe", "\xc3\x28", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80"}[rng.IntN(5)]
		ms := clone(base)
		i := pickString(rng, ms)
		if i < 0 {
			ms = append(ms, member{"reason", nil})
			i = len(ms) - 1
		}
		ms[i].v = []byte(`"x` + bad + `y"`)
		return hostileReq{body: encodeMembers(ms)}, true
	}},
	{"invalid UTF-8 in a member name", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		if len(base) == 0 {
			return hostileReq{}, false
		}
		ms := clone(base)
		i := rng.IntN(len(ms))
		b := encodeMembers(ms)
		name := jv(ms[i].k)
		mangled := append([]byte(`"`+ms[i].k[:1]+"\xff"), name[2:]...)
		return hostileReq{body: bytes.Replace(b, name, mangled, 1)}, true
	}},
	{"invalid UTF-8 in the Idempotency-Key", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return hostileReq{body: encodeMembers(base), header: map[string]string{"Idempotency-Key": fmt.Sprintf("hostile-%d-\xff\xfe", rng.Uint32())}}, true
	}},
	{"duplicate member", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		if len(base) == 0 {
			return hostileReq{}, false
		}
		ms := clone(base)
		m := ms[rng.IntN(len(ms))]
		return hostileReq{body: encodeMembers(append(ms, member{m.k, m.v}))}, true
	}},
	{"case variant of a field", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		if len(base) == 0 {
			return hostileReq{}, false
		}
		ms := clone(base)
		m := ms[rng.IntN(len(ms))]
		variant := strings.ToUpper(m.k)
		if rng.IntN(2) == 0 {
			variant = strings.ToUpper(m.k[:1]) + m.k[1:]
		}
		if rng.IntN(2) == 0 {
			ms = append(ms, member{variant, m.v}) // both spellings
		} else {
			for i := range ms {
				if ms[i].k == m.k {
					ms[i].k = variant // only the variant
				}
			}
		}
		return hostileReq{body: encodeMembers(ms)}, true
	}},
	{"wrong Content-Type", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		ct := []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin-1", "application/xml"}[rng.IntN(5)]
		return hostileReq{body: encodeMembers(base), header: map[string]string{"Content-Type": ct}}, true
	}},
	{"huge number", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return withNumber(rng, base, numericFields, []string{"1e400", "123456789012345678901234567890", "9223372036854775808", "1e309"})
	}},
	{"NaN string", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return withNumber(rng, base, numericFields, []string{`"NaN"`, `"Infinity"`, `"-Infinity"`, `"nan"`, `"1e400"`})
	}},
	{"four decimals", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return withNumber(rng, base, amountFields, []string{"1.0001", "0.0001", "2.5005"})
	}},
	{"negative", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return withNumber(rng, base, numericFields, []string{"-1", "-0.001", "-1e6"})
	}},
	{"unknown field", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		name := []string{"zzz_unknown", "admin", "balance", "__proto__", "approved"}[rng.IntN(5)]
		return hostileReq{body: encodeMembers(append(clone(base), member{name, []byte("true")}))}, true
	}},
	{"nested garbage", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		if len(base) == 0 {
			return hostileReq{}, false
		}
		ms := clone(base)
		i := rng.IntN(len(ms))
		depth := 50 + rng.IntN(500)
		if rng.IntN(2) == 0 {
			ms[i].v = []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		} else {
			ms[i].v = []byte(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth))
		}
		return hostileReq{body: encodeMembers(ms)}, true
	}},
	{"truncated JSON", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		b := encodeMembers(base)
		return hostileReq{body: b[:1+rng.IntN(len(b)-1)]}, true
	}},
	// SPEC §6: "Bodies are size-limited" and "413 body too large". A
	// valid body padded with whitespace past 1 MiB is valid JSON again if
	// a backend cuts it at its limit instead of refusing it, so it would
	// be applied; a member value past the limit would be malformed once
	// cut. No credit request needs a megabyte: every backend is held to it.
	{oversizedPadding, func(rng *rand.Rand, base []member) (hostileReq, bool) {
		b := encodeMembers(base)
		return hostileReq{body: append(b, bytes.Repeat([]byte{' '}, oversize-len(b)+rng.IntN(1024))...)}, true
	}},
	{oversizedMember, func(rng *rand.Rand, base []member) (hostileReq, bool) {
		ms := clone(base)
		i := pickString(rng, ms)
		if i < 0 {
			ms = append(ms, member{"reason", nil})
			i = len(ms) - 1
		}
		ms[i].v = jv(strings.Repeat("x", oversize+rng.IntN(1024)))
		return hostileReq{body: encodeMembers(ms)}, true
	}},
	{"not an object", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return hostileReq{body: []byte([]string{"[1,2,3]", `"consume"`, "42", "true", "[{}]"}[rng.IntN(5)])}, true
	}},
}

// The oversized kinds and their size: past any body limit a credit
// backend has reason to set (our engine's is 64 KiB), refused 413.
const (
	oversizedPadding = "oversized body (valid JSON padded with whitespace)"
	oversizedMember  = "oversized member value"
	oversize         = 1<<20 + 1
)

func clone(ms []member) []member { return append([]member(nil), ms...) }

func pickString(rng *rand.Rand, ms []member) int {
	var idx []int
	for i, m := range ms {
		if len(m.v) > 0 && m.v[0] == '"' {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return -1
	}
	return idx[rng.IntN(len(idx))]
}

// withNumber replaces one of fields with a hostile value; false when the
// body has none of them (the kind does not apply to the route).
func withNumber(rng *rand.Rand, base []member, fields map[string]bool, values []string) (hostileReq, bool) {
	var idx []int
	for i, m := range base {
		if fields[m.k] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return hostileReq{}, false
	}
	ms := clone(base)
	ms[idx[rng.IntN(len(idx))]].v = []byte(values[rng.IntN(len(values))])
	return hostileReq{body: encodeMembers(ms)}, true
}

// backgroundEvents are appended by the engine on its own (timers,
// regulation), never by a request that was refused.
var backgroundEvents = map[string]bool{"eoc.regulated": true, "approval.expired": true, "credit.regenerated": true}

// fuzzRoute is one mutating route with the fixtures its path and base body
// name (agents a1–a3, pools, a mission, a pending approval).
type fuzzRoute struct {
	route string // "METHOD /api/credits/…"
	needs []string
	base  func(i int) []member
	known bool // a catalog route with a valid base body: accepting a hostile request is a violation
}

var _ = Describe("Gate A: hostile input", Ordered, ContinueOnFailure, harness.Checks("A19", "A20", "A21", "A22", "A27"), func() {
	var env *harness.Env
	var fx map[string]string    // fixture ids that exist
	var fxWhy map[string]string // fixture → why it does not exist
	var routes []fuzzRoute      // served mutating routes
	var notServed []string      // catalog mutating routes the backend does not serve

	send := func(ctx context.Context, method, path string, r hostileReq, corr string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, env.T.BaseURL()+path, bytes.NewReader(r.body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Correlation-ID", corr)
		if tok := env.C.Token; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, b, nil
	}

	// ownEvents returns the events after seq that carry the request's
	// correlation id or key and, on a backend the harness booted (no other
	// client), every event that is not a background one. A url target may
	// serve other clients, so there only attributed events count. ok is
	// false when the backend does not serve GET /events.
	ownEvents := func(ctx context.Context, after uint64, corr, key string) (evs []string, ok bool) {
		if !env.Routes.Has(catalog.Events) {
			return nil, false
		}
		strict := env.T.Kind() != target.KindURL
		r := env.C.Get(ctx, fmt.Sprintf("/api/credits/events?after_seq=%d&limit=1000", after))
		if r.Status != 200 {
			return []string{fmt.Sprintf("GET /events answered %d", r.Status)}, true
		}
		for _, line := range bytes.Split(bytes.TrimSpace(r.Raw), []byte("\n")) {
			var ev struct {
				Seq            uint64 `json:"seq"`
				EventType      string `json:"event_type"`
				CorrelationID  string `json:"correlation_id"`
				IdempotencyKey string `json:"idempotency_key"`
			}
			if json.Unmarshal(line, &ev) != nil {
				continue
			}
			if (strict && !backgroundEvents[ev.EventType]) || ev.CorrelationID == corr || (key != "" && strings.HasPrefix(ev.IdempotencyKey, key)) {
				evs = append(evs, fmt.Sprintf("seq %d %s", ev.Seq, ev.EventType))
			}
		}
		return evs, true
	}

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil)
		fx, fxWhy = map[string]string{}, map[string]string{}
		// Fixtures are made only through routes the backend serves; a
		// missing one makes the cases that need it N/A, never the others.
		fixture := func(key, id string, route string, ok func() (bool, string)) {
			if !env.Routes.Has(route) {
				fxWhy[key] = route + " not served"
				return
			}
			if good, why := ok(); !good {
				fxWhy[key] = why
				return
			}
			fx[key] = id
		}
		credits := 200
		if !env.Routes.Has(catalog.Add) {
			credits = 100 // registration alone: no top-up through POST /add
		}
		for _, a := range []string{"a1", "a2", "a3"} {
			id := env.ID("hostile-" + a)
			fixture(a, id, catalog.Agents, func() (bool, string) {
				err := env.C.CreateAgent(ctx, id, credits)
				return err == nil, fmt.Sprint(err)
			})
		}
		post := func(path string, body map[string]any) (bool, string) {
			r := env.C.Do(ctx, harnessCall(path, body))
			return r.OK(), fmt.Sprintf("POST %s answered %d %.200s", path, r.Status, r.Raw)
		}
		needAgents := func(keys ...string) (bool, string) {
			for _, k := range keys {
				if fx[k] == "" {
					return false, "no agent " + k + ": " + fxWhy[k]
				}
			}
			return true, ""
		}
		pool, pool2, mission := env.ID("hostile-pool"), env.ID("hostile-pool2"), env.ID("hostile-mission")
		fixture("pool", pool, catalog.PoolCreate, func() (bool, string) {
			if ok, why := needAgents("a1", "a2"); !ok {
				return ok, why
			}
			if ok, why := post("/pools", map[string]any{"pool_id": pool, "name": "hostile", "members": []string{fx["a1"], fx["a2"]}}); !ok {
				return ok, why
			}
			// Funds and a consume give refunds and transfers something to
			// move; where those routes are missing the pool stays empty.
			if env.Routes.Has(catalog.PoolAllocate) {
				if ok, why := post("/pools/"+pool+"/allocate", map[string]any{"amount": 50, "reason": "fixture"}); !ok {
					return ok, why
				}
			}
			if env.Routes.Has(catalog.PoolConsume) && env.Routes.Has(catalog.PoolAllocate) {
				if ok, why := post("/pools/"+pool+"/consume", map[string]any{"agent_id": fx["a1"], "amount": 10, "reason": "fixture"}); !ok {
					return ok, why
				}
			}
			return true, ""
		})
		fixture("pool2", pool2, catalog.PoolCreate, func() (bool, string) {
			if ok, why := needAgents("a1"); !ok {
				return ok, why
			}
			return post("/pools", map[string]any{"pool_id": pool2, "name": "hostile 2", "members": []string{fx["a1"]}})
		})
		fixture("mission", mission, catalog.MissionStart, func() (bool, string) {
			if ok, why := needAgents("a1"); !ok {
				return ok, why
			}
			return post("/missions", map[string]any{"mission_id": mission, "agent_id": fx["a1"], "mission_type": "general"})
		})
		if env.Routes.Has(catalog.ApprovalRequest) && fx["a1"] != "" {
			id, r := env.C.RequestApproval(ctx, fx["a1"], env.ID("hostile-requester"), 600_000, "", "hostile-approval")
			if id != "" {
				fx["approval"] = id
			} else {
				fxWhy["approval"] = fmt.Sprintf("POST /approvals answered %d %.200s", r.Status, r.Raw)
			}
		} else if !env.Routes.Has(catalog.ApprovalRequest) {
			fxWhy["approval"] = catalog.ApprovalRequest + " not served"
		} else {
			fxWhy["approval"] = "no agent a1: " + fxWhy["a1"]
		}

		s := func(v string) []byte { return jv(v) }
		credit := func(i int) []member {
			return []member{{"agent_id", s(fx["a1"])}, {"amount", []byte("0.001")}, {"reason", s("hostile")}}
		}
		decision := func(i int) []member {
			return []member{{"approver_id", s(env.ID("hostile-approver"))}, {"justification", s("fuzz")}}
		}
		table := []fuzzRoute{
			{catalog.Agents, nil, func(i int) []member {
				return []member{{"agent_id", s(env.ID(fmt.Sprintf("hostile-new-%d", i)))}, {"skill_level", []byte("0.5")}}
			}, true},
			{catalog.Consume, []string{"a1"}, credit, true}, {catalog.Refund, []string{"a1"}, credit, true},
			{catalog.Add, []string{"a1"}, credit, true}, {catalog.Withdraw, []string{"a1"}, credit, true},
			{catalog.ApprovalRequest, []string{"a1"}, func(i int) []member {
				return []member{{"action_type", s("add")}, {"agent_id", s(fx["a1"])}, {"amount", []byte("600")},
					{"reason", s("hostile")}, {"requester_id", s(env.ID("hostile-requester"))}}
			}, true},
			{catalog.Approve, []string{"approval"}, decision, true}, {catalog.Reject, []string{"approval"}, decision, true},
			{catalog.Collaborations, []string{"a1", "a2"}, func(i int) []member {
				return []member{{"collaboration_id", s(env.ID(fmt.Sprintf("hostile-collab-%d", i)))}, {"team_id", s(env.ID("hostile-team"))},
					{"agent_ids", jv([]string{fx["a1"], fx["a2"]})}, {"contribution_scores", jv(map[string]float64{fx["a1"]: 0.5, fx["a2"]: 0.5})}}
			}, true},
			{catalog.PoolCreate, []string{"a1"}, func(i int) []member {
				return []member{{"pool_id", s(env.ID(fmt.Sprintf("hostile-newpool-%d", i)))}, {"name", s("n")}, {"members", jv([]string{fx["a1"]})}}
			}, true},
			{catalog.PoolMemberAdd, []string{"pool", "a3"}, func(int) []member { return []member{{"agent_id", s(fx["a3"])}} }, true},
			{catalog.PoolMemberRemove, []string{"pool", "a2"}, func(int) []member { return []member{{"reason", s("hostile")}} }, true},
			{catalog.PoolAllocate, []string{"pool"}, func(int) []member { return []member{{"amount", []byte("0.001")}, {"reason", s("hostile")}} }, true},
			{catalog.PoolConsume, []string{"pool", "a1"}, func(int) []member { return []member{{"agent_id", s(fx["a1"])}, {"amount", []byte("0.001")}} }, true},
			{catalog.PoolRefund, []string{"pool"}, func(int) []member { return []member{{"amount", []byte("0.001")}, {"reason", s("hostile")}} }, true},
			{catalog.PoolTransfer, []string{"pool", "pool2"}, func(int) []member { return []member{{"to_pool_id", s(fx["pool2"])}, {"amount", []byte("0.001")}} }, true},
			{catalog.PoolClose, []string{"pool", "a1"}, func(int) []member { return []member{{"refund_to", s(fx["a1"])}} }, true},
			{catalog.MissionStart, []string{"a1"}, func(i int) []member {
				return []member{{"mission_id", s(env.ID(fmt.Sprintf("hostile-newmission-%d", i)))}, {"agent_id", s(fx["a1"])}, {"mission_type", s("general")}}
			}, true},
			{catalog.MissionComplete, []string{"mission"}, func(int) []member { return []member{{"actual_cost", []byte("1")}} }, true},
			{catalog.MissionFail, []string{"mission"}, func(int) []member { return []member{{"actual_cost", []byte("1")}} }, true},
			{catalog.MissionCancel, []string{"mission"}, func(int) []member { return []member{{"actual_cost", []byte("1")}} }, true},
			{catalog.MissionRate, []string{"mission"}, func(int) []member { return []member{{"rating", []byte("0.5")}} }, true},
		}
		inTable := map[string]bool{}
		for _, r := range table {
			inTable[normalRoute(r.route)] = true
			if env.Routes.Has(r.route) {
				routes = append(routes, r)
			} else {
				notServed = append(notServed, r.route)
			}
		}
		// Mutating routes the backend documents beyond the catalog are
		// fuzzed too, with a generic body: judged for 5xx and state only.
		for _, extra := range documentedMutations(ctx, env) {
			if !inTable[normalRoute(extra)] {
				routes = append(routes, fuzzRoute{route: extra, base: func(int) []member { return []member{{"reason", jv("hostile")}} }})
			}
		}
		sort.Slice(routes, func(i, j int) bool { return routes[i].route < routes[j].route })
	}, NodeTimeout(3*time.Minute))

	It("a seeded fuzzer over every mutating route: no 5xx, every hostile request refused, no state change from a refusal", Label("critical"), func(ctx SpecContext) {
		env.Require("A19", "A20", "A21", "A22", "A27")
		rng := env.Rand("hostile")
		var fiveXX, accepted, acceptedContract, changed, unfixtured, unknownRoutes []string
		sent, answered, judgedAccept, judgedContract, refused, compared := 0, 0, 0, 0, 0, 0
		perKind := map[string]int{}
		st, how, stOK := env.StateOf(ctx)
		for _, rt := range routes {
			method, tmpl, _ := strings.Cut(rt.route, " ")
			short := method + " " + strings.TrimPrefix(tmpl, "/api/credits")
			var missing []string
			for _, k := range rt.needs {
				if fx[k] == "" {
					missing = append(missing, k+" ("+fxWhy[k]+")")
				}
			}
			if len(missing) > 0 {
				unfixtured = append(unfixtured, short+" needs "+strings.Join(missing, ", "))
				continue
			}
			if !rt.known {
				unknownRoutes = append(unknownRoutes, short)
			}
			path := pathParams.ReplaceAllStringFunc(tmpl, func(p string) string {
				if p == "{agent_id}" {
					return fx["a2"]
				}
				return pathID(short, fx)
			})
			for _, k := range hostileKinds {
				for v := 0; v < 2; v++ {
					req, ok := k.make(rng, rt.base(sent))
					if !ok {
						continue
					}
					corr := env.ID(fmt.Sprintf("hostile-%d", sent))
					sent++
					perKind[k.name]++
					status, raw, err := send(ctx, method, path, req, corr)
					cell := fmt.Sprintf("%s [%s] %q → %d %.120s", short, k.name, truncate(req.body, 80), status, raw)
					if err != nil {
						fiveXX = append(fiveXX, fmt.Sprintf("%s [%s] %q → no answer: %v", short, k.name, truncate(req.body, 80), err))
						st, _, stOK = env.StateOf(ctx)
						continue
					}
					answered++
					switch {
					case rt.known && contractKinds[k.name]:
						judgedContract++
					case rt.known:
						judgedAccept++
					}
					switch {
					case status >= 500:
						fiveXX = append(fiveXX, cell)
					case (k.name == oversizedPadding || k.name == oversizedMember) && status != http.StatusRequestEntityTooLarge && rt.known:
						accepted = append(accepted, cell+" (SPEC §6: a body too large is 413)")
						if status < 400 {
							st, _, stOK = env.StateOf(ctx)
							continue
						}
					case status < 400:
						switch {
						case rt.known && contractKinds[k.name]:
							acceptedContract = append(acceptedContract, cell)
						case rt.known:
							accepted = append(accepted, cell)
						}
						st, _, stOK = env.StateOf(ctx)
						continue
					}
					refused++
					after, _, afterOK := env.StateOf(ctx)
					if stOK && afterOK {
						compared++
						if after != st {
							evs, attributable := ownEvents(ctx, seqOf(st), corr, req.header["Idempotency-Key"])
							switch {
							case !attributable:
								changed = append(changed, fmt.Sprintf("%s: state changed (%s), GET /events not served to attribute it", cell, how))
							case len(evs) > 0 || seqOf(after) == seqOf(st):
								changed = append(changed, fmt.Sprintf("%s: %s → %s; events %v", cell, st, after, evs))
							}
						}
					}
					st, stOK = after, afterOK
				}
			}
		}
		detail := fmt.Sprintf("%d hostile requests over %d served mutating routes, %d answered (%d refused); kinds: %s", sent, len(routes)-len(unfixtured),
			answered, refused, reports.Readable(perKind))
		if len(notServed) > 0 {
			detail += fmt.Sprintf("\nN/A, routes not served (%d): %s", len(notServed), strings.Join(notServed, ", "))
		}
		if len(unfixtured) > 0 {
			detail += fmt.Sprintf("\nN/A, routes without their fixture (%d): %s", len(unfixtured), strings.Join(unfixtured, "; "))
		}
		if len(unknownRoutes) > 0 {
			detail += "\nroutes beyond the catalog (judged for 5xx and state only): " + strings.Join(unknownRoutes, ", ")
		}
		env.Record("A19", harness.Measure{OK: len(fiveXX) == 0, Samples: sent, Measured: len(fiveXX), Threshold: 0,
			Detail: detail + "\n" + joinLines(fiveXX)})
		env.Record("A20", harness.Measure{OK: len(accepted) == 0, Samples: judgedAccept, Measured: len(accepted), Threshold: 0,
			Detail: detail + "\n" + joinLines(accepted)})
		env.Record("A27", harness.Measure{OK: len(acceptedContract) == 0, Samples: judgedContract, Measured: len(acceptedContract), Threshold: 0,
			Detail: detail + "\n" + joinLines(acceptedContract)})
		stateDetail := fmt.Sprintf("state read with %s before and after each refusal; %d refusals compared", how, compared)
		env.Record("A21", harness.Measure{OK: len(changed) == 0, Samples: compared, Measured: len(changed), Threshold: 0,
			Detail: stateDetail + "\n" + detail + "\n" + joinLines(changed)})

		// Control: the same base bodies are accepted without the hostile
		// part, so the refusals above were the hostile parts' doing.
		if fx["a1"] == "" {
			env.Record("A22", harness.Measure{Detail: "no agent to consume from: " + fxWhy["a1"]})
			return
		}
		cr := env.C.Do(ctx, harnessCall("/consume", map[string]any{"agent_id": fx["a1"], "amount": 0.001, "reason": "control"}))
		env.Record("A22", harness.Measure{OK: cr.OK(), Samples: 1, Measured: cr.Status, Threshold: "2xx",
			Detail: "POST /consume of 0.001 by " + fx["a1"] + ": " + string(cr.Raw)})
	})
})

var pathParams = regexp.MustCompile(`\{[^}]*\}`)

// normalRoute forgets the names of path parameters, so a document's
// "/pools/{pool_id}" is the catalog's "/pools/{id}".
func normalRoute(route string) string { return pathParams.ReplaceAllString(route, "{}") }

// seqOf reads the seq of a GET /digest state ("seq N digest …"); 0 for a
// state read from GET /balances.
func seqOf(state string) uint64 {
	var seq uint64
	_, _ = fmt.Sscanf(state, "seq %d", &seq)
	return seq
}

// documentedMutations lists the mutating routes of the backend's own
// OpenAPI document (where it serves one), as "METHOD /path".
func documentedMutations(ctx context.Context, env *harness.Env) []string {
	for _, p := range []string{"/api/credits/openapi.json", "/openapi.json"} {
		r := env.C.Get(ctx, p)
		if r.Status != 200 {
			continue
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if json.Unmarshal(r.Raw, &doc) != nil {
			continue
		}
		var out []string
		for path, ms := range doc.Paths {
			for m := range ms {
				if m == "post" || m == "put" || m == "patch" || m == "delete" {
					out = append(out, strings.ToUpper(m)+" "+path)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	return nil
}

// pathID is the fixture id standing for {id} in a route.
func pathID(route string, fx map[string]string) string {
	switch {
	case strings.Contains(route, "/approvals/"):
		return fx["approval"]
	case strings.Contains(route, "/pools/"):
		return fx["pool"]
	case strings.Contains(route, "/missions/"):
		return fx["mission"]
	}
	return "hostile-unknown"
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func joinLines(s []string) string { return strings.Join(s[:min(20, len(s))], "\n") }

// harnessCall is a fixture mutation through the recording client.
func harnessCall(path string, body map[string]any) scenarios.Call {
	return scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: scenarios.MutationKind("/api/credits" + path), Role: history.Setup, Body: body}
}
