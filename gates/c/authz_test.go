package c_test

// Gate C, authorization and money paths (issue 9): every route × role of
// the target's own OpenAPI document answers as the roles allow; no path that
// creates credits or moves them into an agent does so at or above the
// approval threshold without a human approval, unless it is bounded by what
// it names; and creditd refuses to serve without auth on a non-loopback
// address. The harness reads the OpenAPI document over HTTP and never
// imports the engine, so the checks run against any target.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/money"
)

// authzRoles are the roles of the SPEC's token model.
var authzRoles = []string{"reader", "operator", "service", "approver", "admin"}

// roleTokens returns a token per role: generated for a target the harness
// boots (and returned as CREDITD_TOKENS for it), or read from
// CREDITGATE_ROLE_TOKENS ("reader=tok,operator=tok,...") for a url target
// (nil when unset: the matrix is then skipped).
func roleTokens(kind target.Kind) (map[string]string, string) {
	if kind == target.KindURL {
		v := os.Getenv("CREDITGATE_ROLE_TOKENS")
		if v == "" {
			return nil, ""
		}
		out := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			if r, t, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
				out[r] = t
			}
		}
		return out, ""
	}
	out := map[string]string{}
	var spec []string
	for _, r := range append(append([]string{}, authzRoles...), "approver2") {
		tok := "gate-c-" + r + "-token"
		role := r
		if r == "approver2" {
			role = "approver"
		}
		out[r] = tok
		spec = append(spec, fmt.Sprintf("%s=gate-c-%s:%s", tok, r, role))
	}
	return out, strings.Join(spec, ",")
}

// apiOp is one operation of the OpenAPI document.
type apiOp struct {
	Method, Path string
	Public       bool // security: [] — no token needed
}

func (o apiOp) String() string { return o.Method + " " + o.Path }

// mutating reports a method that changes state.
func (o apiOp) mutating() bool { return o.Method != http.MethodGet && o.Method != http.MethodHead }

// decision reports an approval decision route (approver/admin only).
func (o apiOp) decision() bool {
	return strings.HasSuffix(o.Path, "/approve") || strings.HasSuffix(o.Path, "/reject")
}

// fetchOpenAPI reads the target's OpenAPI document and lists its operations.
func fetchOpenAPI(ctx context.Context, base, token string) ([]apiOp, error) {
	st, raw, err := rawSend(ctx, http.MethodGet, base+"/api/credits/openapi.json", token, nil, nil)
	if err != nil || st != 200 {
		return nil, fmt.Errorf("GET /api/credits/openapi.json: %d %v", st, err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var ops []apiOp
	for p, methods := range doc.Paths {
		for m, raw := range methods {
			switch m {
			case "get", "post", "put", "patch", "delete":
			default:
				continue
			}
			var op struct {
				Security *[]any `json:"security"`
			}
			_ = json.Unmarshal(raw, &op)
			ops = append(ops, apiOp{Method: strings.ToUpper(m), Path: p, Public: op.Security != nil && len(*op.Security) == 0})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops, nil
}

var rawHTTP = &http.Client{Timeout: 30 * time.Second}

// rawSend sends body byte for byte (no JSON re-encoding, so hostile bytes
// reach the server as written) and returns the status and body.
func rawSend(ctx context.Context, method, url, token string, body []byte, hdr map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawHTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

// fillPath replaces {params} with an id no entity has, so an allowed
// request is refused by the rules (404/422), never applied.
func fillPath(p string) string {
	for strings.Contains(p, "{") {
		i, j := strings.Index(p, "{"), strings.Index(p, "}")
		if j < i {
			break
		}
		p = p[:i] + "gate-c-authz-nonexistent" + p[j+1:]
	}
	return p
}

// approvalThresholdMilli is the gating threshold the checks assume: the
// SPEC default 500 credits, or CREDITGATE_APPROVAL_THRESHOLD (credits) for
// a url target configured otherwise.
func approvalThresholdMilli() int64 {
	if v, err := money.ParseMilli(os.Getenv("CREDITGATE_APPROVAL_THRESHOLD")); err == nil && v > 0 {
		return v
	}
	return 500_000
}

var _ = Describe("Gate C: authorization and money paths", Ordered, ContinueOnFailure, harness.Checks("C22", "C23", "C24", "C25", "C26", "C27", "C28", "C29", "C30"), func() {
	var env *harness.Env
	var tokens map[string]string
	threshold := approvalThresholdMilli()

	BeforeAll(func(ctx SpecContext) {
		kind := target.ConfigFromEnv().Kind
		var spec string
		tokens, spec = roleTokens(kind)
		backend := map[string]string{}
		if spec != "" {
			backend["CREDITD_TOKENS"] = spec
		}
		env = harness.Boot(ctx, "C", backend, harness.WithToken(tokens["operator"]))
		if spec != "" {
			env.C.Token = tokens["operator"]
			env.C.ApproverTokens = []string{tokens["approver"], tokens["approver2"]}
		}
	}, NodeTimeout(2*time.Minute))

	digest := func(ctx context.Context) string {
		r := env.C.Get(ctx, "/api/credits/digest")
		harness.Ensure(r.OK(), "GET /digest must answer 200 with seq and digest: got %d %s", r.Status, r.Raw)
		return fmt.Sprint(r.Body["seq"], " ", r.Body["digest"])
	}

	It("every route × role of the OpenAPI document answers as the roles allow", Label("critical"), func(ctx SpecContext) {
		env.Require("C22", "C23", "C24", "C25")
		ops, err := fetchOpenAPI(ctx, env.T.BaseURL(), "")
		harness.Ensure(err == nil && len(ops) > 0, "the OpenAPI document must list the backend's operations: %d operations, %v", len(ops), err)
		var before string
		if env.Applies("C25") {
			before = digest(ctx)
		}
		var leaks, denials, fiveXX []string
		cells, allowedCells := 0, 0
		for _, op := range ops {
			url := env.T.BaseURL() + fillPath(op.Path)
			var body []byte
			if op.mutating() {
				body = []byte("{}")
			}
			callers := append([]string{"none", "bogus"}, authzRoles...)
			for _, who := range callers {
				tok := tokens[who]
				if who == "bogus" {
					tok = "gate-c-not-a-token"
				}
				st, raw, err := rawSend(ctx, op.Method, url, tok, body, nil)
				harness.Ensure(err == nil, "%s as %s must get an HTTP answer: %v", op, who, err)
				cells++
				var allowed bool
				switch {
				case op.Public:
					allowed = true
				case who == "none" || who == "bogus":
					allowed = false
				case !op.mutating():
					allowed = true
				case op.decision():
					allowed = who == "approver" || who == "admin"
				default:
					allowed = who == "operator" || who == "service" || who == "admin"
				}
				if allowed {
					allowedCells++
				}
				cell := fmt.Sprintf("%s as %s: %d %.120s", op, who, st, raw)
				switch {
				case st >= 500:
					fiveXX = append(fiveXX, cell)
				case !allowed && st != 401 && st != 403:
					leaks = append(leaks, cell)
				case !allowed && (who == "none" || who == "bogus") && st != 401:
					leaks = append(leaks, cell+" (want 401)")
				case allowed && (st == 401 || st == 403):
					denials = append(denials, cell)
				}
			}
		}
		env.Record("C22", harness.Measure{OK: len(leaks) == 0, Samples: cells - allowedCells, Measured: len(leaks), Threshold: 0,
			Detail: fmt.Sprintf("%d refused-role cells over %d operations; no token → 401, reader/approver cannot mutate, operator/service cannot decide\n%s",
				cells-allowedCells, len(ops), join(leaks))})
		env.Record("C23", harness.Measure{OK: len(fiveXX) == 0, Samples: cells, Measured: len(fiveXX), Threshold: 0, Detail: join(fiveXX)})
		env.Record("C24", harness.Measure{OK: len(denials) == 0, Samples: allowedCells, Measured: len(denials), Threshold: 0, Detail: join(denials)})
		if env.Applies("C25") {
			after := digest(ctx)
			env.Record("C25", harness.Measure{OK: after == before, Samples: cells, Measured: after, Threshold: before,
				Detail: fmt.Sprintf("seq and digest before and after %d matrix requests; every one is refused by auth or by the rules (unknown ids, empty bodies)", cells)})
		}
	})

	It("no credit-creating path pays an agent at or above the threshold without approval", Label("critical"), func(ctx SpecContext) {
		env.Require("C26", "C27", "C28", "C29")
		agent := env.ID("gate-c-money")
		if env.Routes.Has(catalog.Agents) {
			err := env.C.CreateAgent(ctx, agent, 100)
			harness.Ensure(err == nil, "the money-path agent %s must be created with 100 credits: %v", agent, err)
		}
		bal := func() int64 {
			b, err := env.C.BalanceMilli(ctx, agent)
			harness.Ensure(err == nil, "GET /balance of %s must answer 200 with an exact balance: %v", agent, err)
			return b
		}
		cr := money.FormatMilli
		post := func(path, key string, body map[string]any) scenarios.Reply {
			return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Kind: scenarios.MutationKind("/api/credits" + path), Key: key, Body: body})
		}
		// gatedOrRefused: 202 (pending approval) or a 4xx refusal.
		gatedOrRefused := func(r scenarios.Reply) bool {
			return r.Err == nil && (r.Status == 202 || (r.Status >= 400 && r.Status < 500))
		}
		var bad []string
		steps := 0
		step := func(what string, r scenarios.Reply, before int64) {
			steps++
			if after := bal(); !gatedOrRefused(r) || after != before {
				bad = append(bad, fmt.Sprintf("%s: %d %.160s; balance %s → %s", what, r.Status, r.Raw, cr(before), cr(after)))
			}
		}

		if env.Applies("C26") {
			b0 := bal()
			step("POST /add at the threshold", post("/add", "gate-c-money-add", map[string]any{"agent_id": agent, "amount": money.Credits(threshold), "reason": "gate"}), b0)
			// SPEC §5 gates "granting credits … through add"; our engine
			// gates a refund naming nothing too (it grants the same), and
			// another backend is held to the SPEC's words.
			scope := "add, and refunds naming nothing (our engine's rule)"
			if env.TCfg.Kind.OwnEngine() {
				for i, amount := range []int64{threshold, 20 * threshold, 1_000_000_000_000} {
					step(fmt.Sprintf("POST /refund of %s naming nothing", cr(amount)),
						post("/refund", fmt.Sprintf("gate-c-money-refund-%d", i), map[string]any{"agent_id": agent, "amount": money.Credits(amount), "reason": "gate"}), b0)
				}
				// An empty mission_id names nothing either (blind hunt 12: a
				// present but empty member taken as a reference paid 500).
				step(fmt.Sprintf("POST /refund of %s with mission_id \"\"", cr(threshold)),
					post("/refund", "gate-c-money-refund-empty", map[string]any{"agent_id": agent, "amount": money.Credits(threshold), "reason": "gate", "mission_id": ""}), b0)
			} else {
				scope = "add (SPEC §5; refunds naming nothing are our engine's rule, not judged here)"
			}
			env.Record("C26", harness.Measure{OK: len(bad) == 0, Samples: steps, Measured: len(bad), Threshold: 0,
				Detail: fmt.Sprintf("%d requests at or above %s credits: %s\n%s", steps, cr(threshold), scope, join(bad))})
		}

		// A refund naming a mission is bounded by what the mission consumed;
		// the mission's own end refund too: the agent ends where it started.
		if env.Applies("C27") {
			bad, steps = nil, 0
			mission := env.ID("gate-c-money-mission")
			b1 := bal()
			r := post("/missions", "gate-c-money-mstart", map[string]any{"mission_id": mission, "agent_id": agent, "mission_type": "general", "complexity": "medium"})
			harness.Accepted(r, "POST /missions to start mission %s", mission)
			b2 := bal()
			step("POST /refund naming the mission, above its consumption", post("/refund", "gate-c-money-mrefund",
				map[string]any{"agent_id": agent, "amount": money.Credits(20 * threshold), "reason": "gate", "mission_id": mission}), b2)
			// A refund naming another agent's mission: the mission bounds
			// it, but it is not this agent's to refund (SPEC §5: a mission
			// refund returns what the mission consumed to its agent). It is
			// refused and moves neither balance.
			peer := env.ID("gate-c-money-mpeer")
			err := env.C.CreateAgent(ctx, peer, 100)
			harness.Ensure(err == nil, "the peer agent %s must be created with 100 credits: %v", peer, err)
			peerMission := env.ID("gate-c-money-mission-peer")
			r = post("/missions", "gate-c-money-mstart-peer", map[string]any{"mission_id": peerMission, "agent_id": peer, "mission_type": "general", "complexity": "medium"})
			harness.Accepted(r, "POST /missions to start mission %s of %s", peerMission, peer)
			peerBefore, err := env.C.BalanceMilli(ctx, peer)
			harness.Ensure(err == nil, "GET /balance of %s must answer 200 with an exact balance: %v", peer, err)
			b2 = bal()
			cross := post("/refund", "gate-c-money-mrefund-cross", map[string]any{"agent_id": agent, "amount": money.Credits(1000), "reason": "gate", "mission_id": peerMission})
			steps++
			peerAfter, err := env.C.BalanceMilli(ctx, peer)
			harness.Ensure(err == nil, "GET /balance of %s must answer 200 with an exact balance: %v", peer, err)
			if after := bal(); cross.OK() || cross.Status < 400 || cross.Status >= 500 || after != b2 || peerAfter != peerBefore {
				bad = append(bad, fmt.Sprintf("POST /refund of 1 credit to %s naming %s's mission %s: %d %.160s; balance %s → %s, %s's %s → %s (want a 4xx and both unchanged)",
					agent, peer, peerMission, cross.Status, cross.Raw, cr(b2), cr(after), peer, cr(peerBefore), cr(peerAfter)))
			}
			if env.Routes.Has(catalog.MissionCancel) {
				r = post("/missions/"+mission+"/cancel", "gate-c-money-mcancel", map[string]any{})
				harness.Accepted(r, "POST /missions/{id}/cancel to end mission %s", mission)
			}
			steps++
			if got := bal(); got > b1 {
				bad = append(bad, fmt.Sprintf("mission start + refund + cancel: balance %s → %s (gained %s)", cr(b1), cr(got), cr(got-b1)))
			}
			env.Record("C27", harness.Measure{OK: len(bad) == 0, Samples: steps, Measured: len(bad), Threshold: 0,
				Detail: "a refund naming the mission, a refund naming another agent's mission, and the balance after the mission ended, against the balance before it started\n" + join(bad)})
		}

		// A pool refund then a close with refund_to: the agent may gain at
		// most what was allocated below the threshold, never a refund's worth.
		if env.Applies("C28") {
			bad, steps = nil, 0
			pool := env.ID("gate-c-money-pool")
			r := post("/pools", "gate-c-money-pool", map[string]any{"pool_id": pool, "name": "gate c", "members": []string{agent}})
			harness.Accepted(r, "POST /pools to create pool %s", pool)
			b3 := bal()
			palloc := post("/pools/"+pool+"/allocate", "gate-c-money-palloc", map[string]any{"amount": money.Credits(threshold), "reason": "gate"})
			if env.TCfg.Kind.OwnEngine() {
				step("POST /pools/{id}/allocate at the threshold", palloc, b3)
			} else if after := bal(); after != b3 {
				// SPEC §5 gates what an agent is granted; an allocation
				// into a pool grants no agent (our engine gates it all the
				// same), so another backend is judged by the agent's gain
				// here and at the closes below.
				steps++
				bad = append(bad, fmt.Sprintf("POST /pools/{id}/allocate at the threshold: %d %.160s; the agent's balance %s → %s", palloc.Status, palloc.Raw, cr(b3), cr(after)))
			}
			// Pools holding exactly the threshold, and one milli either side,
			// through allocations that are each below it: a close paying the
			// remainder to an agent needs an approval from the threshold on
			// (SPEC §5: "at or above"), so the agent gains less than it.
			for i, hold := range []int64{threshold, threshold + 1, threshold - 1} {
				p := env.ID(fmt.Sprintf("gate-c-money-pool-at-%d", i))
				r := post("/pools", fmt.Sprintf("gate-c-money-pool-at-%d", i), map[string]any{"pool_id": p, "name": "gate c boundary", "members": []string{agent}})
				harness.Accepted(r, "POST /pools to create pool %s", p)
				half := hold / 2
				for j, part := range []int64{half, hold - half} {
					r = post("/pools/"+p+"/allocate", fmt.Sprintf("gate-c-money-pool-at-%d-%d", i, j), map[string]any{"amount": money.Credits(part), "reason": "gate"})
					harness.Accepted(r, "POST /pools/{id}/allocate of %s (below the threshold %s) to be applied to pool %s", cr(part), cr(threshold), p)
				}
				before := bal()
				r = post("/pools/"+p+"/close", fmt.Sprintf("gate-c-money-pool-at-%d-close", i), map[string]any{"refund_to": agent})
				harness.Ensure(r.OK() || (r.Status >= 400 && r.Status < 500), "POST /pools/{id}/close of pool %s must close it or refuse with a 4xx: got %d %s", p, r.Status, r.Raw)
				steps++
				if gain := bal() - before; gain >= threshold || (hold < threshold && r.OK() && gain != hold) {
					bad = append(bad, fmt.Sprintf("close of a pool holding %s (threshold %s) with refund_to the agent: %d %.120s; the agent gained %s",
						cr(hold), cr(threshold), r.Status, r.Raw, cr(gain)))
				}
			}
			// A pool refund names what members consumed from the pool: with
			// nothing consumed it is refused, so a close then pays exactly
			// what was allocated. Below the threshold throughout, so only the
			// refund's bound decides what the agent gains.
			{
				p := env.ID("gate-c-money-pool-refund")
				r := post("/pools", "gate-c-money-pool-refund", map[string]any{"pool_id": p, "name": "gate c refund", "members": []string{agent}})
				harness.Accepted(r, "POST /pools to create pool %s", p)
				alloc, extra := threshold/2, threshold/4
				r = post("/pools/"+p+"/allocate", "gate-c-money-pool-refund-alloc", map[string]any{"amount": money.Credits(alloc), "reason": "gate"})
				harness.Accepted(r, "POST /pools/{id}/allocate of %s (below the threshold %s) to be applied to pool %s", cr(alloc), cr(threshold), p)
				before := bal()
				rf := post("/pools/"+p+"/refund", "gate-c-money-pool-refund-refund", map[string]any{"amount": money.Credits(extra), "reason": "gate"})
				r = post("/pools/"+p+"/close", "gate-c-money-pool-refund-close", map[string]any{"refund_to": agent})
				harness.Ensure(r.OK() || (r.Status >= 400 && r.Status < 500), "POST /pools/{id}/close of pool %s must close it or refuse with a 4xx: got %d %s", p, r.Status, r.Raw)
				steps++
				if gain := bal() - before; rf.OK() || (r.OK() && gain != alloc) || (!r.OK() && gain != 0) {
					bad = append(bad, fmt.Sprintf("pool with %s allocated and nothing consumed: refund of %s answered %d %.120s (want a refusal), close %d; the agent gained %s (want %s)",
						cr(alloc), cr(extra), rf.Status, rf.Raw, r.Status, cr(gain), cr(alloc)))
				}
			}
			b4 := bal() // the boundary pools above paid the agent what they held below the threshold
			pr := post("/pools/"+pool+"/refund", "gate-c-money-prefund", map[string]any{"amount": money.Credits(20 * threshold), "reason": "gate"})
			r = post("/pools/"+pool+"/close", "gate-c-money-pclose", map[string]any{"refund_to": agent})
			// A close refused with a 4xx (a remainder at the threshold needs an
			// approval) is gated: the agent gains nothing, which is judged below.
			harness.Ensure(r.OK() || (r.Status >= 400 && r.Status < 500), "POST /pools/{id}/close of pool %s must close it or refuse with a 4xx: got %d %s", pool, r.Status, r.Raw)
			steps++
			if gain := bal() - b4; gain >= threshold {
				bad = append(bad, fmt.Sprintf("pool refund (%d %.120s) then close: the agent gained %s ≥ %s without approval", pr.Status, pr.Raw, cr(gain), cr(threshold)))
			}
			env.Record("C28", harness.Measure{OK: len(bad) == 0, Samples: steps, Measured: len(bad), Threshold: 0,
				Detail: "an allocation at the threshold, closes of pools holding the threshold and one milli either side, a pool refund with nothing consumed, and the agent's gain after a pool refund and close\n" + join(bad)})
		}

		// Synergie: one collaboration grants each agent less than the threshold.
		if env.Applies("C29") {
			bad = nil
			other := env.ID("gate-c-money-peer")
			err := env.C.CreateAgent(ctx, other, 100)
			harness.Ensure(err == nil, "the peer agent %s must be created with 100 credits: %v", other, err)
			r := post("/synergie/collaborations", "gate-c-money-collab", map[string]any{"collaboration_id": env.ID("gate-c-money-collab"),
				"team_id": env.ID("gate-c-money-team"), "agent_ids": []string{agent, other}, "contribution_scores": map[string]any{agent: 1, other: 1}})
			harness.Accepted(r, "POST /synergie/collaborations recording the collaboration")
			rewards, _ := r.Body["rewards"].([]any)
			granted := 0
			for _, x := range rewards {
				w, _ := x.(map[string]any)
				if w["kind"] != "granted" {
					continue
				}
				granted++
				// An amount that is not exact credits is not judged here
				// (the journal checks judge amounts).
				if a, err := money.FromJSON(w["amount"]); err == nil && a >= threshold {
					bad = append(bad, fmt.Sprintf("synergie granted %s ≥ %s to %v", cr(a), cr(threshold), w["agent_id"]))
				}
			}
			env.Record("C29", harness.Measure{OK: len(bad) == 0, Samples: granted, Measured: len(bad), Threshold: 0,
				Detail: fmt.Sprintf("%d granted rewards of one collaboration\n%s", granted, join(bad))})
		}
	})

	It("without tokens creditd refuses to listen on a non-loopback address", Label("critical"), func(ctx SpecContext) {
		env.Require("C30")
		bin, err := target.Binary(ctx, env.TCfg)
		harness.Ensure(err == nil, "the creditd binary must build or be found: %v", err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		harness.Ensure(err == nil, "a free loopback port must be found: %v", err)
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		dir := GinkgoT().TempDir()
		var out bytes.Buffer
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir(),
			fmt.Sprintf("CREDITD_ADDR=0.0.0.0:%d", port), "CREDITD_JOURNAL=" + filepath.Join(dir, "credits.jsonl"), "CREDITD_FSYNC=false"}
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Start()
		harness.Ensure(err == nil, "creditd must start as a process: %v", err)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var exitErr error
		exited, served := false, false
		deadline := time.After(10 * time.Second)
	wait:
		for {
			select {
			case exitErr = <-done:
				exited = true
				break wait
			case <-deadline:
				break wait
			case <-time.After(100 * time.Millisecond):
				if st, _, err := rawSend(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/health", port), "", nil, nil); err == nil && st == 200 {
					served = true
					break wait
				}
			}
		}
		if !exited {
			_ = cmd.Process.Kill()
			<-done
		}
		ok := exited && exitErr != nil && !served
		env.Record("C30", harness.Measure{OK: ok, Samples: 1, Measured: fmt.Sprintf("exited=%t err=%v served=%t", exited, exitErr, served),
			Threshold: "exits non-zero, never serves",
			Detail:    "CREDITD_ADDR=0.0.0.0, no CREDITD_TOKENS, no --insecure-no-auth; output:\n" + lastLines(out.String(), 5)})
	})
})

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
