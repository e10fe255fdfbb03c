package a_test

// Idempotency across restarts (SPEC §3: keys survive restarts, rebuilt from
// the journal): every kind of command is retried after a clean restart and
// after kill -9 with the same key and body — the original event comes back
// and nothing is written — and with the same key and a different body,
// which is 409 idempotency_key_conflict, before and after each restart.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

type keyedCommand struct {
	name, path, key string
	route           string // the catalog route it needs
	// bodyKey sends the key as the body's idempotency_key member instead
	// of the header (SPEC §3: either), on the original and every retry.
	bodyKey       bool
	kind          history.Kind
	body, altered map[string]any
	eventID       string         // the original's event id (first event of its command)
	original      map[string]any // the original's answer
	// elsewhere is another route the same key and body are sent to: a
	// different request (SPEC §3), so 409 too, never a replay.
	elsewhere *otherRoute
}

type otherRoute struct {
	path, route string
	kind        history.Kind
}

var _ = Describe("Gate A: idempotency keys survive restarts", Ordered, ContinueOnFailure, harness.Checks(append([]string{"A14", "A15", "A16", "A29", "A31", "A32"}, journalIDs...)...), func() {
	var env *harness.Env
	var cmds []*keyedCommand
	var bodyKeyRefused []string // body-keyed originals the backend refused

	var unsent []string // commands whose route the backend does not serve
	// state is what a retry or a conflicting reuse must leave unchanged:
	// the journal's seq and digest where GET /digest is served, else this
	// suite's balances (harness.StateOf).
	state := func(ctx context.Context) (string, string) {
		s, how, ok := env.StateOf(ctx)
		harness.Ensure(ok, "the state must be readable before and after the retries (%s): %s", how, s)
		return s, how
	}
	send := func(ctx context.Context, c *keyedCommand, body map[string]any, role history.Role) scenarios.Reply {
		return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + c.path, Kind: c.kind, Key: c.key, KeyInBody: c.bodyKey, Body: body, Role: role})
	}
	idOf := func(r scenarios.Reply) string {
		for _, k := range []string{"event_id", "request_event_id", "decision_event_id"} {
			if s := r.Str(k); s != "" {
				return s
			}
		}
		return ""
	}

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil)
		env.OutDir = filepath.Join(env.OutDir, "retry")
		harness.Ensure(os.MkdirAll(env.OutDir, 0o755) == nil, "the out dir %s must be writable", env.OutDir)
		// A14–A16 read the journal's seq (GET /digest) and name every
		// command's route: without them there is nothing to set up.
		if !env.Applies("A16") {
			return
		}
		a, b := env.ID("rt-a"), env.ID("rt-b")
		for _, ag := range []struct {
			id      string
			credits int
		}{{a, 600}, {b, 100}} {
			err := env.C.CreateAgent(ctx, ag.id, ag.credits)
			harness.Ensure(err == nil, "creating agent %s with %d credits must succeed: %v", ag.id, ag.credits, err)
		}
		pool := env.ID("rt-pool")
		if env.Routes.Has(catalog.PoolCreate) {
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/pools", Kind: history.KindPoolCreate, Key: "rt-pool-create",
				Body: map[string]any{"pool_id": pool, "members": []string{a}}})
			harness.Accepted(r, "creating pool %s", pool)
		}
		n := func(s string) json.Number { return json.Number(s) }
		all := []*keyedCommand{
			{name: "consume", path: "/consume", route: catalog.Consume, kind: history.KindConsume, key: "rt-consume",
				body:      map[string]any{"agent_id": a, "amount": n("12.345"), "reason": "retry"},
				altered:   map[string]any{"agent_id": a, "amount": n("12.346"), "reason": "retry"},
				elsewhere: &otherRoute{path: "/refund", route: catalog.Refund, kind: history.KindRefund}},
			{name: "refund", path: "/refund", route: catalog.Refund, kind: history.KindRefund, key: "rt-refund",
				body:    map[string]any{"agent_id": a, "amount": n("1.001"), "reason": "retry"},
				altered: map[string]any{"agent_id": b, "amount": n("1.001"), "reason": "retry"}},
			{name: "add", path: "/add", route: catalog.Add, kind: history.KindAdd, key: "rt-add",
				body:      map[string]any{"agent_id": b, "amount": n("3.333"), "reason": "retry"},
				altered:   map[string]any{"agent_id": b, "amount": n("3.333"), "reason": "another reason"},
				elsewhere: &otherRoute{path: "/withdraw", route: catalog.Withdraw, kind: history.KindWithdraw}},
			{name: "withdraw", path: "/withdraw", route: catalog.Withdraw, kind: history.KindWithdraw, key: "rt-withdraw",
				body:    map[string]any{"agent_id": a, "amount": n("2.222"), "reason": "retry"},
				altered: map[string]any{"agent_id": a, "amount": n("2.220"), "reason": "retry"}},
			{name: "mission start (two events)", path: "/missions", route: catalog.MissionStart, kind: history.KindMissionStart, key: "rt-mission",
				body:    map[string]any{"mission_id": env.ID("rt-m1"), "agent_id": a, "mission_type": "research", "complexity": "high"},
				altered: map[string]any{"mission_id": env.ID("rt-m1"), "agent_id": a, "mission_type": "research", "complexity": "low"}},
			{name: "pool allocate", path: "/pools/" + pool + "/allocate", route: catalog.PoolAllocate, kind: history.KindPoolAllocate, key: "rt-pool-alloc",
				body:    map[string]any{"amount": n("7.777"), "reason": "retry"},
				altered: map[string]any{"amount": n("7.778"), "reason": "retry"}},
			{name: "collaboration (three events)", path: "/synergie/collaborations", route: catalog.Collaborations, kind: history.KindCollaboration, key: "rt-collab",
				body: map[string]any{"collaboration_id": env.ID("rt-c1"), "team_id": env.ID("rt-team"), "agent_ids": []string{a, b},
					"contribution_scores": map[string]float64{a: 0.5, b: 0.25}},
				altered: map[string]any{"collaboration_id": env.ID("rt-c2"), "team_id": env.ID("rt-team"), "agent_ids": []string{a, b},
					"contribution_scores": map[string]float64{a: 0.5, b: 0.25}}},
			{name: "approval request", path: "/approvals", route: catalog.ApprovalRequest, kind: history.KindApprovalRequest, key: "rt-approval",
				body:    map[string]any{"action_type": "add", "agent_id": b, "amount": n("600.5"), "reason": "retry", "requester_id": "rt-requester"},
				altered: map[string]any{"action_type": "add", "agent_id": b, "amount": n("600.6"), "reason": "retry", "requester_id": "rt-requester"}},
			// The same commands keyed in the body: a backend that reads only
			// the header executes their retries again.
			{name: "consume (key in the body)", path: "/consume", route: catalog.Consume, kind: history.KindConsume, key: "rt-consume-bk", bodyKey: true,
				body:    map[string]any{"agent_id": a, "amount": n("4.321"), "reason": "retry"},
				altered: map[string]any{"agent_id": a, "amount": n("4.322"), "reason": "retry"}},
			{name: "add (key in the body)", path: "/add", route: catalog.Add, kind: history.KindAdd, key: "rt-add-bk", bodyKey: true,
				body:    map[string]any{"agent_id": b, "amount": n("2.5"), "reason": "retry"},
				altered: map[string]any{"agent_id": b, "amount": n("2.5"), "reason": "another reason"}},
			{name: "approval request (key in the body)", path: "/approvals", route: catalog.ApprovalRequest, kind: history.KindApprovalRequest, key: "rt-approval-bk", bodyKey: true,
				body:    map[string]any{"action_type": "add", "agent_id": a, "amount": n("700"), "reason": "retry", "requester_id": "rt-requester"},
				altered: map[string]any{"action_type": "add", "agent_id": a, "amount": n("700.001"), "reason": "retry", "requester_id": "rt-requester"}},
		}
		for _, c := range all {
			if !env.Routes.Has(c.route) || (c.route == catalog.PoolAllocate && !env.Routes.Has(catalog.PoolCreate)) {
				unsent = append(unsent, c.name) // not served: named in the detail
				continue
			}
			r := send(ctx, c, c.body, history.Original)
			if c.bodyKey && !r.OK() && r.Status >= 400 && r.Status < 500 {
				// Not a setup failure: the backend refuses the SPEC's body
				// key. Named as the cause; the header-keyed commands still run.
				bodyKeyRefused = append(bodyKeyRefused, fmt.Sprintf("%s: %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
				continue
			}
			harness.Accepted(r, "the original %s", c.name)
			c.eventID = idOf(r) // judged by the retries: a retry must name it
			c.original = r.Body
			cmds = append(cmds, c)
		}
	}, NodeTimeout(2*time.Minute))

	// retryAll resends every command with its key and body and checks each
	// retry names the original event (with sameAnswer: answers the
	// original's body) and the journal did not grow.
	retryAll := func(ctx context.Context, id, when string, sameAnswer bool) {
		before, how := state(ctx)
		var bad []string
		for _, c := range cmds {
			r := send(ctx, c, c.body, history.Retry)
			switch {
			case sameAnswer && r.OK() && !reflect.DeepEqual(r.Body, c.original):
				bad = append(bad, fmt.Sprintf("%s: retry answered %s, the original %v", c.name, strings.TrimSpace(string(r.Raw)), c.original))
			case c.eventID == "":
				bad = append(bad, fmt.Sprintf("%s: the original answered no event id, so no retry can name it", c.name))
			case !r.OK():
				bad = append(bad, fmt.Sprintf("%s: retry answered %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
			case idOf(r) != c.eventID:
				bad = append(bad, fmt.Sprintf("%s: retry returned event %s, original %s", c.name, idOf(r), c.eventID))
			case !r.Replayed:
				bad = append(bad, fmt.Sprintf("%s: retry without Idempotent-Replayed: true", c.name))
			}
		}
		if after, _ := state(ctx); after != before {
			bad = append(bad, fmt.Sprintf("the retries changed the state (%s): %s before, %s after", how, before, after))
		}
		env.Record(id, harness.Measure{OK: len(bad) == 0, Samples: len(cmds), Measured: len(bad), Threshold: 0, Variant: when,
			Detail: fmt.Sprintf("%d commands retried with their key and body %s (%s), the state read from %s%s; %s", len(cmds), when, names(cmds), how, notSent(unsent), strings.Join(bad, "; "))})
	}
	conflictAll := func(ctx context.Context, when string) {
		before, how := state(ctx)
		var bad []string
		for _, c := range cmds {
			r := send(ctx, c, c.altered, history.Conflicting)
			if r.Status != 409 || r.Code() != "idempotency_key_conflict" {
				bad = append(bad, fmt.Sprintf("%s: %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
			}
			if o := c.elsewhere; o != nil && env.Routes.Has(o.route) {
				r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + o.path, Kind: o.kind, Key: c.key, KeyInBody: c.bodyKey, Body: c.body, Role: history.Conflicting})
				if r.Status != 409 || r.Code() != "idempotency_key_conflict" {
					bad = append(bad, fmt.Sprintf("%s's key and body on POST %s: %d %s", c.name, o.path, r.Status, strings.TrimSpace(string(r.Raw))))
				}
			}
		}
		if after, _ := state(ctx); after != before {
			bad = append(bad, fmt.Sprintf("the conflicting reuses changed the state (%s): %s before, %s after", how, before, after))
		}
		if len(bodyKeyRefused) > 0 {
			bad = append(bad, "the backend refused requests keyed in the body, so their keys could not be judged (SPEC §3: a key may come as the Idempotency-Key header or the idempotency_key body member): "+
				strings.Join(bodyKeyRefused, "; "))
		}
		env.Record("A16", harness.Measure{OK: len(bad) == 0, Samples: len(cmds), Measured: len(bad), Threshold: 0, Variant: when,
			Detail: fmt.Sprintf("%d keys reused with another body (%s), %s, the state read from %s%s; %s", len(cmds), names(cmds), elsewhereOf(env, cmds), how, notSent(unsent), strings.Join(bad, "; "))})
	}

	It("a key reused with a different body is refused with 409 idempotency_key_conflict", Label("critical"), func(ctx SpecContext) {
		env.Require("A16")
		conflictAll(ctx, "live")
	})

	// SPEC §3 compares keys as the client wrote them: a key that differs
	// from an earlier one only in letter case is another key, so its
	// command executes. Each variant then joins the commands retried and
	// conflicted across the restarts below (a backend may fold keys only
	// when it rebuilds them from the journal).
	It("a key differing from an earlier one only in letter case is another key: its command executes", Label("critical"), func(ctx SpecContext) {
		env.Require("A31")
		skipUnless(env, "A31")
		var judged int
		var bad []string
		for _, c := range slices.Clone(cmds) {
			if c.kind != history.KindConsume && c.kind != history.KindAdd {
				continue
			}
			v := *c
			v.name, v.key, v.elsewhere = c.name+", its key in upper case", strings.ToUpper(c.key), nil
			before, how := state(ctx)
			r := send(ctx, &v, v.body, history.Original)
			after, _ := state(ctx)
			judged++
			switch {
			case !r.OK():
				bad = append(bad, fmt.Sprintf("%s (key %q after %q): %d %s", v.name, v.key, c.key, r.Status, strings.TrimSpace(string(r.Raw))))
				continue
			case r.Replayed || idOf(r) == c.eventID:
				bad = append(bad, fmt.Sprintf("%s (key %q after %q): answered as a replay of the original (event %s, Idempotent-Replayed %t)", v.name, v.key, c.key, idOf(r), r.Replayed))
			case after == before:
				bad = append(bad, fmt.Sprintf("%s (key %q after %q): answered %d but the state did not change (%s)", v.name, v.key, c.key, r.Status, how))
			}
			v.eventID, v.original = idOf(r), r.Body
			cmds = append(cmds, &v)
		}
		env.Record("A31", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("%d commands (consume and add, keyed in the header and in the body) sent again with their body under their key in upper case%s; %s",
				judged, notSent(unsent), strings.Join(bad, "; "))})
	})

	// A JSON object is an unordered collection (RFC 8259): a retry whose
	// body names the same members in another order is the same request
	// (SPEC §3), answered as a replay — a backend fingerprinting the raw
	// bytes calls it a conflict. Header-keyed commands only: a body key is
	// written into a re-sorted body.
	It("a retry whose body gives the same members in another order is the same request: a replay", Label("critical"), func(ctx SpecContext) {
		env.Require("A32")
		skipUnless(env, "A32")
		before, how := state(ctx)
		var judged int
		var bad []string
		for _, c := range cmds {
			if c.bodyKey || len(c.body) < 2 {
				continue
			}
			names := slices.Sorted(maps.Keys(c.body))
			slices.Reverse(names)
			raw := []byte("{")
			for i, k := range names {
				kb, _ := json.Marshal(k)
				vb, _ := json.Marshal(c.body[k])
				if i > 0 {
					raw = append(raw, ", "...)
				}
				raw = append(append(append(raw, kb...), ": "...), vb...)
			}
			raw = append(raw, '}')
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + c.path, Kind: c.kind, Key: c.key, Body: json.RawMessage(raw), Role: history.Retry})
			judged++
			switch {
			case !r.OK():
				bad = append(bad, fmt.Sprintf("%s with %s: %d %s", c.name, raw, r.Status, strings.TrimSpace(string(r.Raw))))
			case idOf(r) != c.eventID || !r.Replayed:
				bad = append(bad, fmt.Sprintf("%s with %s: event %s (original %s), Idempotent-Replayed %t", c.name, raw, idOf(r), c.eventID, r.Replayed))
			}
		}
		if after, _ := state(ctx); after != before {
			bad = append(bad, fmt.Sprintf("the reordered retries changed the state (%s): %s before, %s after", how, before, after))
		}
		env.Record("A32", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("%d header-keyed commands retried with their body's members in reverse order%s; %s", judged, notSent(unsent), strings.Join(bad, "; "))})
	})

	// Missions started before the restarts and ended after them: the
	// refund of each names the mission's consumption (SPEC §2), which the
	// backend must know from its journal, not from the process that
	// started the mission (A5 in the journal audit below).
	var acrossAgent string
	missionsServed := func() bool {
		ok, _ := env.Serves(catalog.Agents, catalog.MissionStart, catalog.MissionComplete, catalog.MissionCancel)
		return ok
	}

	It("after a clean restart a retry returns the original event and writes nothing; a conflicting one is still 409", Label("critical"), func(ctx SpecContext) {
		env.Require("A14", "A16")
		skipUnless(env, "A14")
		if missionsServed() {
			acrossAgent = env.ID("rt-missions")
			harness.Ensure(env.C.CreateAgent(ctx, acrossAgent, 100) == nil, "the missions' agent %s must be created with 100 credits", acrossAgent)
			startMission(ctx, env, acrossAgent, env.ID("rt-mission-0"))
			startMission(ctx, env, acrossAgent, env.ID("rt-mission-1"))
		}
		restart := &fault.Restart{T: env.T}
		_, err := env.Inject(ctx, restart)
		harness.Injected(err, "a graceful stop must drain and exit")
		_, err = env.Heal(ctx, restart)
		harness.Ensure(err == nil, "the backend must start again on its data after a clean stop: %v", err)
		retryAll(ctx, "A14", "after a clean restart (the same answer as the original)", true)
		conflictAll(ctx, "after a clean restart")
		if acrossAgent != "" {
			endMission(ctx, env, acrossAgent, env.ID("rt-mission-0"), "complete")
		}
	})

	It("after kill -9 and replay a retry returns the original event and writes nothing; a conflicting one is still 409", Label("critical"), func(ctx SpecContext) {
		env.Require("A15", "A16")
		skipUnless(env, "A15")
		kill := &fault.Kill{T: env.T}
		_, err := env.Inject(ctx, kill)
		harness.Injected(err, "the backend must be killable with SIGKILL")
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again and replay its journal after kill -9: %v", err)
		retryAll(ctx, "A15", "after kill -9 (the same answer as the original)", true)
		conflictAll(ctx, "after kill -9")
		if acrossAgent != "" {
			endMission(ctx, env, acrossAgent, env.ID("rt-mission-1"), "cancel")
		}
	})

	// SPEC §9: keys are honoured for a retention time, not a key count; a
	// backend that keeps the newest keys in memory and the rest on disk
	// must answer an old one from disk as it answered it first.
	It("after 5,000 more keyed commands a retry still returns the original answer and writes nothing; a conflicting one is still 409", Label("critical"), func(ctx SpecContext) {
		env.Require("A29", "A16")
		skipUnless(env, "A29")
		filler := env.ID("rt-filler")
		err := env.C.CreateAgent(ctx, filler, 6)
		harness.Ensure(err == nil, "the filler agent %s must be created with 6 credits: %v", filler, err)
		const n = 5000
		failed := env.C.Fill(ctx, filler, n, 8, 1, "rt-fill")
		harness.Ensure(failed == 0, "all %d keyed filler consumes of 0.001 must be acknowledged; %d were not", n, failed)
		retryAll(ctx, "A29", "after 5,000 more keyed commands (the same answer as the original)", true)
		// The old keys with another body: a backend that keeps the newest
		// keys in memory and the rest on disk must still tell a conflict
		// from a retry when it reads a key back.
		conflictAll(ctx, "after 5,000 more keyed commands")
	})

	It("the journal holds each key once and every retry names its original", Label("critical"), func(ctx SpecContext) {
		env.Require(journalIDs...)
		if len(cmds) == 0 {
			Skip("no keyed command was set up (A16 does not apply to this backend), so there are no retries to audit")
		}
		env.RecordFindings(env.AuditA(ctx, false), "retries across restarts")
	})
})

// skipUnless skips the rest of a spec whose main check does not apply (a
// variant of another check then has nothing to run on): Require has
// already recorded the main check's SKIP or N/A with the reason.
func skipUnless(env *harness.Env, id string) {
	if !env.Applies(id) {
		Skip(id + " does not apply to this target (see its SKIP/N/A entry)")
	}
}

// notSent names, for a detail line, the commands whose route the backend
// does not serve: they were not judged.
func notSent(unsent []string) string {
	if len(unsent) == 0 {
		return ""
	}
	return "; not sent, their routes not served: " + strings.Join(unsent, ", ")
}

// elsewhereOf says which keys were also sent with the same body to another
// route the backend serves.
func elsewhereOf(env *harness.Env, cmds []*keyedCommand) string {
	var out []string
	for _, c := range cmds {
		if o := c.elsewhere; o != nil && env.Routes.Has(o.route) {
			out = append(out, fmt.Sprintf("%s's on POST %s", c.name, o.path))
		}
	}
	if len(out) == 0 {
		return "none also sent to another route (no second route of theirs served)"
	}
	return "with the same body on another route: " + strings.Join(out, ", ")
}

// names lists the commands for a detail line.
func names(cmds []*keyedCommand) string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.name)
	}
	return strings.Join(out, ", ")
}
