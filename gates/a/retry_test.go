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
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// Check names (the coverage map in gates/coverage refers to them).
const (
	CheckRetryAfterCleanRestart = "retry after a clean restart returns the original event and writes nothing"
	CheckRetryAfterKill         = "retry after kill -9 and replay returns the original event and writes nothing"
	CheckConflictingRetry       = "same key with a different body is 409 idempotency_key_conflict and writes nothing"
)

type keyedCommand struct {
	name, path, key string
	kind            history.Kind
	body, altered   map[string]any
	eventID         string // the original's event id (first event of its command)
}

var _ = Describe("Gate A: idempotency keys survive restarts", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var cmds []*keyedCommand

	seq := func(ctx context.Context) float64 {
		r := env.C.Get(ctx, "/api/credits/digest")
		Expect(r.OK()).To(BeTrue(), "GET /digest: %d %s", r.Status, r.Raw)
		s, _ := r.Body["seq"].(float64)
		return s
	}
	send := func(ctx context.Context, c *keyedCommand, body map[string]any, role history.Role) scenarios.Reply {
		return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + c.path, Kind: c.kind, Key: c.key, Body: body, Role: role})
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
		Expect(os.MkdirAll(env.OutDir, 0o755)).To(Succeed())
		a, b := env.ID("rt-a"), env.ID("rt-b")
		Expect(env.C.CreateAgent(ctx, a, 600)).To(Succeed())
		Expect(env.C.CreateAgent(ctx, b, 100)).To(Succeed())
		pool := env.ID("rt-pool")
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/pools", Kind: history.KindPoolCreate, Key: "rt-pool-create",
			Body: map[string]any{"pool_id": pool, "members": []string{a}}})
		Expect(r.OK()).To(BeTrue(), "create pool: %d %s", r.Status, r.Raw)
		n := func(s string) json.Number { return json.Number(s) }
		cmds = []*keyedCommand{
			{name: "consume", path: "/consume", kind: history.KindConsume, key: "rt-consume",
				body:    map[string]any{"agent_id": a, "amount": n("12.345"), "reason": "retry"},
				altered: map[string]any{"agent_id": a, "amount": n("12.346"), "reason": "retry"}},
			{name: "refund", path: "/refund", kind: history.KindRefund, key: "rt-refund",
				body:    map[string]any{"agent_id": a, "amount": n("1.001"), "reason": "retry"},
				altered: map[string]any{"agent_id": b, "amount": n("1.001"), "reason": "retry"}},
			{name: "add", path: "/add", kind: history.KindAdd, key: "rt-add",
				body:    map[string]any{"agent_id": b, "amount": n("3.333"), "reason": "retry"},
				altered: map[string]any{"agent_id": b, "amount": n("3.333"), "reason": "another reason"}},
			{name: "withdraw", path: "/withdraw", kind: history.KindWithdraw, key: "rt-withdraw",
				body:    map[string]any{"agent_id": a, "amount": n("2.222"), "reason": "retry"},
				altered: map[string]any{"agent_id": a, "amount": n("2.220"), "reason": "retry"}},
			{name: "mission start (two events)", path: "/missions", kind: history.KindMissionStart, key: "rt-mission",
				body:    map[string]any{"mission_id": env.ID("rt-m1"), "agent_id": a, "mission_type": "research", "complexity": "high"},
				altered: map[string]any{"mission_id": env.ID("rt-m1"), "agent_id": a, "mission_type": "research", "complexity": "low"}},
			{name: "pool allocate", path: "/pools/" + pool + "/allocate", kind: history.KindPoolAllocate, key: "rt-pool-alloc",
				body:    map[string]any{"amount": n("7.777"), "reason": "retry"},
				altered: map[string]any{"amount": n("7.778"), "reason": "retry"}},
			{name: "collaboration (three events)", path: "/synergie/collaborations", kind: history.KindCollaboration, key: "rt-collab",
				body: map[string]any{"collaboration_id": env.ID("rt-c1"), "team_id": env.ID("rt-team"), "agent_ids": []string{a, b},
					"contribution_scores": map[string]float64{a: 0.5, b: 0.25}},
				altered: map[string]any{"collaboration_id": env.ID("rt-c2"), "team_id": env.ID("rt-team"), "agent_ids": []string{a, b},
					"contribution_scores": map[string]float64{a: 0.5, b: 0.25}}},
			{name: "approval request", path: "/approvals", kind: history.KindApprovalRequest, key: "rt-approval",
				body:    map[string]any{"action_type": "add", "agent_id": b, "amount": n("600.5"), "reason": "retry", "requester_id": "rt-requester"},
				altered: map[string]any{"action_type": "add", "agent_id": b, "amount": n("600.6"), "reason": "retry", "requester_id": "rt-requester"}},
		}
		for _, c := range cmds {
			r := send(ctx, c, c.body, history.Original)
			Expect(r.OK()).To(BeTrue(), "%s: %d %s", c.name, r.Status, r.Raw)
			c.eventID = idOf(r)
			Expect(c.eventID).NotTo(BeEmpty(), "%s answered no event id: %s", c.name, r.Raw)
		}
	}, NodeTimeout(2*time.Minute))

	// retryAll resends every command with its key and body, then with an
	// altered body, and checks the journal did not grow.
	retryAll := func(ctx context.Context, check, when string) {
		before := seq(ctx)
		var bad []string
		for _, c := range cmds {
			r := send(ctx, c, c.body, history.Retry)
			switch {
			case !r.OK():
				bad = append(bad, fmt.Sprintf("%s: retry answered %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
			case idOf(r) != c.eventID:
				bad = append(bad, fmt.Sprintf("%s: retry returned event %s, original %s", c.name, idOf(r), c.eventID))
			case !r.Replayed:
				bad = append(bad, fmt.Sprintf("%s: retry without Idempotent-Replayed: true", c.name))
			}
		}
		after := seq(ctx)
		if after != before {
			bad = append(bad, fmt.Sprintf("the journal grew from seq %v to %v on retries", before, after))
		}
		env.Check(check, len(bad) == 0, len(bad), 0, fmt.Sprintf("%d commands retried %s; %s", len(cmds), when, strings.Join(bad, "; ")), true)
	}
	conflictAll := func(ctx context.Context, when string) {
		before := seq(ctx)
		var bad []string
		for _, c := range cmds {
			r := send(ctx, c, c.altered, history.Conflicting)
			if r.Status != 409 || r.Code() != "idempotency_key_conflict" {
				bad = append(bad, fmt.Sprintf("%s: %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
			}
		}
		if after := seq(ctx); after != before {
			bad = append(bad, fmt.Sprintf("the journal grew from seq %v to %v on conflicting retries", before, after))
		}
		env.Check(CheckConflictingRetry+" ("+when+")", len(bad) == 0, len(bad), 0, strings.Join(bad, "; "), true)
	}

	It("a key reused with a different body is refused with 409 idempotency_key_conflict", Label("critical"), func(ctx SpecContext) {
		conflictAll(ctx, "live")
	})

	It("after a clean restart a retry returns the original event and writes nothing; a conflicting one is still 409", Label("critical"), func(ctx SpecContext) {
		env.RequireCap(target.CapRestart)
		Expect(env.T.Stop(ctx)).To(Succeed())
		Expect(env.T.Start(ctx)).To(Succeed())
		retryAll(ctx, CheckRetryAfterCleanRestart, "after a clean restart")
		conflictAll(ctx, "after a clean restart")
	})

	It("after kill -9 and replay a retry returns the original event and writes nothing; a conflicting one is still 409", Label("critical"), func(ctx SpecContext) {
		env.RequireCap(target.CapCrash)
		Expect(env.T.Kill(ctx)).To(Succeed())
		Expect(env.T.Start(ctx)).To(Succeed())
		retryAll(ctx, CheckRetryAfterKill, "after kill -9")
		conflictAll(ctx, "after kill -9")
	})

	It("the journal holds each key once and every retry names its original", Label("critical"), func(ctx SpecContext) {
		critical := map[string]bool{"A7": true, "A8": true, "A9": true}
		fs := env.AuditA(ctx, false)
		for i := range fs {
			fs[i].Check += " (retries across restarts)"
		}
		env.ReportAll(fs, func(check string) bool { return critical[strings.Fields(check)[0]] })
	})
})
