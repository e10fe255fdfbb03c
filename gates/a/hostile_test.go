package a_test

// Gate A, hostile input (issue 9): a seeded fuzzer sends every mutating
// route of the target's OpenAPI document otherwise-valid requests with one
// hostile part each — invalid UTF-8 (in a value, a member name, the
// Idempotency-Key), duplicate members, case variants of a field, a wrong
// Content-Type, huge numbers, NaN strings, four decimals, negative amounts,
// unknown fields, nested garbage, truncated JSON, a non-object. Every one
// must be refused with a 4xx (never a 5xx, never applied), and a refusal
// must leave the state exactly as it was: the digest and the journal's last
// seq (GET /api/credits/digest) unchanged, or changed only by background
// events that are not the request's. It reads the OpenAPI document over
// HTTP and never imports the engine, so it runs against any target.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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

// hostileKinds builds the hostile variants of a valid body.
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
	{"not an object", func(rng *rand.Rand, base []member) (hostileReq, bool) {
		return hostileReq{body: []byte([]string{"[1,2,3]", `"consume"`, "42", "true", "[{}]"}[rng.IntN(5)])}, true
	}},
}

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

var _ = Describe("Gate A: hostile input", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var fx map[string]string // fixture ids
	var bases map[string]func(i int) []member

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

	type state struct {
		seq    uint64
		digest string
	}
	digest := func(ctx context.Context) state {
		r := env.C.Get(ctx, "/api/credits/digest")
		Expect(r.OK()).To(BeTrue(), "GET /digest: %d %s", r.Status, r.Raw)
		seq, _ := r.Body["seq"].(float64)
		d, _ := r.Body["digest"].(string)
		return state{uint64(seq), d}
	}
	// ownEvents returns the events after seq that carry the request's
	// correlation id or key and, on a backend the harness booted (no other
	// client), every event that is not a background one. A url target may
	// serve other clients, so there only attributed events count.
	ownEvents := func(ctx context.Context, after uint64, corr, key string) []string {
		strict := env.T.Kind() != target.KindURL
		r := env.C.Get(ctx, fmt.Sprintf("/api/credits/events?after_seq=%d&limit=1000", after))
		Expect(r.Status).To(Equal(200), "GET /events: %d %s", r.Status, r.Raw)
		var out []string
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
				out = append(out, fmt.Sprintf("seq %d %s", ev.Seq, ev.EventType))
			}
		}
		return out
	}

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil)
		fx = map[string]string{}
		for _, a := range []string{"a1", "a2", "a3"} {
			fx[a] = env.ID("hostile-" + a)
			Expect(env.C.CreateAgent(ctx, fx[a], 200)).To(Succeed())
		}
		fx["pool"], fx["pool2"], fx["mission"] = env.ID("hostile-pool"), env.ID("hostile-pool2"), env.ID("hostile-mission")
		post := func(path string, body map[string]any) {
			r := env.C.Do(ctx, harnessCall(path, body))
			Expect(r.OK()).To(BeTrue(), "fixture %s: %d %s", path, r.Status, r.Raw)
		}
		post("/pools", map[string]any{"pool_id": fx["pool"], "name": "hostile", "members": []string{fx["a1"], fx["a2"]}})
		post("/pools", map[string]any{"pool_id": fx["pool2"], "name": "hostile 2", "members": []string{fx["a1"]}})
		post("/pools/"+fx["pool"]+"/allocate", map[string]any{"amount": 50, "reason": "fixture"})
		post("/pools/"+fx["pool"]+"/consume", map[string]any{"agent_id": fx["a1"], "amount": 10, "reason": "fixture"})
		post("/missions", map[string]any{"mission_id": fx["mission"], "agent_id": fx["a1"], "mission_type": "general"})
		id, r := env.C.RequestApproval(ctx, fx["a1"], env.ID("hostile-requester"), 600, "", "hostile-approval")
		Expect(id).NotTo(BeEmpty(), "fixture approval: %d %s", r.Status, r.Raw)
		fx["approval"] = id

		s := func(v string) []byte { return jv(v) }
		credit := func(i int) []member {
			return []member{{"agent_id", s(fx["a1"])}, {"amount", []byte("0.001")}, {"reason", s("hostile")}}
		}
		decision := func(i int) []member {
			return []member{{"approver_id", s(env.ID("hostile-approver"))}, {"justification", s("fuzz")}}
		}
		bases = map[string]func(i int) []member{
			"POST /agents": func(i int) []member {
				return []member{{"agent_id", s(env.ID(fmt.Sprintf("hostile-new-%d", i)))}, {"skill_level", []byte("0.5")}}
			},
			"POST /consume": credit, "POST /refund": credit, "POST /add": credit, "POST /withdraw": credit,
			"POST /approvals": func(i int) []member {
				return []member{{"action_type", s("add")}, {"agent_id", s(fx["a1"])}, {"amount", []byte("600")},
					{"reason", s("hostile")}, {"requester_id", s(env.ID("hostile-requester"))}}
			},
			"POST /approvals/{id}/approve": decision, "POST /approvals/{id}/reject": decision,
			"POST /synergie/collaborations": func(i int) []member {
				return []member{{"collaboration_id", s(env.ID(fmt.Sprintf("hostile-collab-%d", i)))}, {"team_id", s(env.ID("hostile-team"))},
					{"agent_ids", jv([]string{fx["a1"], fx["a2"]})}, {"contribution_scores", jv(map[string]float64{fx["a1"]: 0.5, fx["a2"]: 0.5})}}
			},
			"POST /pools": func(i int) []member {
				return []member{{"pool_id", s(env.ID(fmt.Sprintf("hostile-newpool-%d", i)))}, {"name", s("n")}, {"members", jv([]string{fx["a1"]})}}
			},
			"POST /pools/{id}/members":              func(int) []member { return []member{{"agent_id", s(fx["a3"])}} },
			"DELETE /pools/{id}/members/{agent_id}": func(int) []member { return []member{{"reason", s("hostile")}} },
			"POST /pools/{id}/allocate":             func(int) []member { return []member{{"amount", []byte("0.001")}, {"reason", s("hostile")}} },
			"POST /pools/{id}/consume":              func(int) []member { return []member{{"agent_id", s(fx["a1"])}, {"amount", []byte("0.001")}} },
			"POST /pools/{id}/refund":               func(int) []member { return []member{{"amount", []byte("0.001")}, {"reason", s("hostile")}} },
			"POST /pools/{id}/transfer":             func(int) []member { return []member{{"to_pool_id", s(fx["pool2"])}, {"amount", []byte("0.001")}} },
			"POST /pools/{id}/close":                func(int) []member { return []member{{"refund_to", s(fx["a1"])}} },
			"POST /missions": func(i int) []member {
				return []member{{"mission_id", s(env.ID(fmt.Sprintf("hostile-newmission-%d", i)))}, {"agent_id", s(fx["a1"])}, {"mission_type", s("general")}}
			},
			"POST /missions/{id}/complete": func(int) []member { return []member{{"actual_cost", []byte("1")}} },
			"POST /missions/{id}/fail":     func(int) []member { return []member{{"actual_cost", []byte("1")}} },
			"POST /missions/{id}/cancel":   func(int) []member { return []member{{"actual_cost", []byte("1")}} },
			"POST /missions/{id}/rate":     func(int) []member { return []member{{"rating", []byte("0.5")}} },
		}
	}, NodeTimeout(3*time.Minute))

	It("a seeded fuzzer over every mutating route: no 5xx, every hostile request refused, no state change from a refusal", Label("critical"), func(ctx SpecContext) {
		r := env.C.Get(ctx, "/api/credits/openapi.json")
		Expect(r.Status).To(Equal(200), "GET /openapi.json: %d %s", r.Status, r.Raw)
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		Expect(json.Unmarshal(r.Raw, &doc)).To(Succeed())
		type route struct{ method, tmpl string }
		var routes []route
		for p, ms := range doc.Paths {
			for m := range ms {
				if m == "post" || m == "put" || m == "patch" || m == "delete" {
					routes = append(routes, route{strings.ToUpper(m), p})
				}
			}
		}
		sort.Slice(routes, func(i, j int) bool { return routes[i].method+routes[i].tmpl < routes[j].method+routes[j].tmpl })
		Expect(routes).NotTo(BeEmpty())

		rng := env.Rand("hostile")
		var fiveXX, accepted, changed, unknownRoutes []string
		sent, refused := 0, 0
		perKind := map[string]int{}
		st := digest(ctx)
		for _, rt := range routes {
			short := rt.method + " " + strings.TrimPrefix(rt.tmpl, "/api/credits")
			base, known := bases[short]
			if !known {
				unknownRoutes = append(unknownRoutes, short)
				base = func(int) []member { return []member{{"reason", jv("hostile")}} }
			}
			path := strings.NewReplacer("{id}", pathID(short, fx), "{agent_id}", fx["a2"]).Replace(rt.tmpl)
			for _, k := range hostileKinds {
				for v := 0; v < 2; v++ {
					req, ok := k.make(rng, base(sent))
					if !ok {
						continue
					}
					corr := env.ID(fmt.Sprintf("hostile-%d", sent))
					sent++
					perKind[k.name]++
					status, raw, err := send(ctx, rt.method, path, req, corr)
					Expect(err).NotTo(HaveOccurred(), "%s %s (%s)", rt.method, path, k.name)
					cell := fmt.Sprintf("%s [%s] %q → %d %.120s", short, k.name, truncate(req.body, 80), status, raw)
					switch {
					case status >= 500:
						fiveXX = append(fiveXX, cell)
					case status < 400:
						if known {
							accepted = append(accepted, cell)
						}
						st = digest(ctx)
						continue
					}
					refused++
					after := digest(ctx)
					if after != st {
						if own := ownEvents(ctx, st.seq, corr, req.header["Idempotency-Key"]); len(own) > 0 || after.seq == st.seq {
							changed = append(changed, fmt.Sprintf("%s: seq %d → %d, digest changed; events %v", cell, st.seq, after.seq, own))
						}
					}
					st = after
				}
			}
		}
		detail := fmt.Sprintf("%d hostile requests over %d mutating routes (%d refused); kinds: %s; routes without a base body: %s",
			sent, len(routes), refused, reports.Readable(perKind), reports.Readable(unknownRoutes))
		env.Check("hostile: 5xx answers", len(fiveXX) == 0, len(fiveXX), 0, detail+"\n"+joinLines(fiveXX), true)
		env.Check("hostile: hostile requests accepted", len(accepted) == 0, len(accepted), 0, detail+"\n"+joinLines(accepted), true)
		env.Check("hostile: refused requests that changed state (digest, last seq)", len(changed) == 0, len(changed), 0, detail+"\n"+joinLines(changed), true)

		// Control: the same base bodies are accepted without the hostile
		// part, so the refusals above were the hostile parts' doing.
		cr := env.C.Do(ctx, harnessCall("/consume", map[string]any{"agent_id": fx["a1"], "amount": 0.001, "reason": "control"}))
		env.Check("hostile: a valid request after the fuzz is accepted", cr.OK(), cr.Status, 200, string(cr.Raw), false)
	})
})

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
