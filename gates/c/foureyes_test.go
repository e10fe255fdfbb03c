package c_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/money"
)

// The votes container's backend expires HIGH requests after highTimeout
// and CRITICAL ones after criticalTimeout, long enough for a CRITICAL
// request's two votes in a row, short enough to wait for.
const criticalTimeout = 8 * time.Second

// auditLimit is the most entries the gate asks GET /approvals/audit for.
const auditLimit = 100_000

// judgeApprovals records C34 (four eyes at every approving decision of
// every request in the journal) and C35 (the audit lists every decided
// request with exactly its decision ids) over the backend's journal: read
// once before the audit and once after, so a decision the backend writes
// in between (an expiry sweep) is neither missing nor invented.
func judgeApprovals(ctx context.Context, env *harness.Env, variant string) {
	if !env.Applies("C34") && !env.Applies("C35") {
		env.Record("C34", harness.Measure{Variant: variant})
		env.Record("C35", harness.Measure{Variant: variant})
		return
	}
	before, err := env.Journal(ctx)
	harness.Ensure(err == nil, "the journal must be readable to judge the approvals: %v", err)
	if env.Applies("C35") {
		r := env.C.Get(ctx, fmt.Sprintf("/api/credits/approvals/audit?limit=%d", auditLimit))
		harness.Ensure(r.OK(), "GET /approvals/audit must answer 200 with the audit: got %d %s", r.Status, r.Raw)
		entries, known := audit.AuditEntriesOf(r.Body)
		after, err := env.Journal(ctx)
		harness.Ensure(err == nil, "the journal must be readable after the audit: %v", err)
		if known {
			env.RecordFinding(audit.AuditListing(audit.Fold(before), audit.Fold(after), entries, env.StartSeq == 0, len(entries) >= auditLimit, env.TCfg.Kind.OwnEngine()), variant)
		} else {
			env.Record("C35", harness.Measure{Variant: variant, Detail: "GET /approvals/audit answered no list of requests this harness reads (SPEC §5 names no member): " +
				string(r.Raw[:min(len(r.Raw), 300)])})
		}
		before = after
	} else {
		env.Record("C35", harness.Measure{Variant: variant})
	}
	env.RecordFinding(audit.ApproverFourEyes(before, audit.Fold(before)), variant)
}

// expiredByTheBackend records C37 for requests nobody decides after their
// deadline (by deadline): SPEC §5 has the backend expire them (a timer
// emits approval.expired). Within 10 s of the deadline the journal, where
// it is readable, must hold each one's expiry — read before anything
// touches them, so a lazy expiry on access does not stand in for the
// timer — and GET /approvals?status=pending must leave them out. notTaken
// says why, where the backend did not take the timeouts it was given
// (Env.TimeoutTaken): then nothing is judged.
func expiredByTheBackend(ctx context.Context, env *harness.Env, deadline time.Time, notTaken string, reqs map[string]string) {
	if !env.Applies("C37") {
		return
	}
	if notTaken != "" {
		env.Record("C37", harness.Measure{Detail: notTaken})
		return
	}
	ids := slices.Sorted(maps.Keys(reqs))
	var bad []string
	judged := "the pending list"
	if env.Applies("C34") { // the journal is readable
		judged = "the journal and the pending list"
		var open []string
		for {
			j, err := env.FullJournal(ctx)
			harness.Ensure(err == nil, "the journal must be readable to judge the expiries: %v", err)
			m := audit.Fold(j)
			open = open[:0]
			for _, id := range ids {
				if a := m.Approvals[id]; a == nil || a.Status != audit.StatusExpired {
					open = append(open, id)
				}
			}
			if len(open) == 0 || time.Now().After(deadline.Add(10*time.Second)) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		for _, id := range open {
			bad = append(bad, fmt.Sprintf("%s (%s): no approval.expired in the journal %s after its deadline", id, reqs[id], time.Since(deadline).Round(100*time.Millisecond)))
		}
	}
	client := &audit.APIClient{BaseURL: env.T.BaseURL(), Token: env.T.Token()}
	read, err := client.ApprovalsWithStatus(ctx, "pending")
	if err != nil {
		bad = append(bad, "GET /approvals?status=pending: "+err.Error())
	}
	for _, id := range ids {
		if a, listed := read.Approvals[id]; listed {
			bad = append(bad, fmt.Sprintf("%s (%s): listed as pending (%s) %s after its deadline", id, reqs[id], a.Status, time.Since(deadline).Round(100*time.Millisecond)))
		}
	}
	env.Record("C37", harness.Measure{OK: len(bad) == 0, Samples: len(ids), Measured: len(bad), Threshold: 0,
		Detail: fmt.Sprintf("%d requests left past their deadline, judged by %s: %s; %s", len(ids), judged, readableReqs(ids, reqs), strings.Join(bad, "; "))})
}

func readableReqs(ids []string, reqs map[string]string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id + " " + reqs[id]
	}
	return strings.Join(out, ", ")
}

var _ = Describe("Gate C: four eyes at every vote, and the audit against the journal", Ordered, ContinueOnFailure, harness.Checks("C33", "C34", "C35", "C37"), func() {
	var env *harness.Env
	var agent string

	BeforeAll(func(ctx SpecContext) {
		// Decided requests beyond two are evicted from our engine's memory
		// (a backend without such a bound ignores the variable), so C35
		// reads an audit the journal must complete, not one memory holds.
		env = harness.Boot(ctx, "C", map[string]string{"CREDITD_APPROVAL_TIMEOUT_HIGH": highTimeout.String(),
			"CREDITD_APPROVAL_TIMEOUT_CRITICAL": criticalTimeout.String(), "CREDITD_APPROVALS_KEEP": "2"})
		agent = env.ID("gate-c-votes-agent")
		if env.Routes.Has(catalog.Agents) {
			err := env.C.CreateAgent(ctx, agent, 100)
			harness.Ensure(err == nil, "the approvals' agent %s must be created with 100 credits: %v", agent, err)
		}
	}, NodeTimeout(2*time.Minute))

	// request opens a pending request of the given level or fails the spec
	// with what the backend answered.
	request := func(ctx context.Context, requester, level string, amountMilli int64, key string) string {
		id, r := env.C.RequestApproval(ctx, agent, requester, amountMilli, "gate c votes", key)
		harness.Ensure(id != "" && r.Status == 202 && r.Str("risk_level") == level,
			"POST /approvals for %s credits must open a pending %s request (202 with its request_id): got %d %s",
			money.FormatMilli(amountMilli), level, r.Status, r.Raw)
		return id
	}

	// refused says whether the requester's own approval was refused as
	// four-eyes asks: a 4xx, and not already_decided, which would only say
	// the request could no longer be decided at all.
	refused := func(r scenarios.Reply) bool {
		return r.Status >= 400 && r.Status < 500 && r.Code() != "already_decided"
	}
	// answer is a reply's status with its request status or error code.
	answer := func(r scenarios.Reply) string {
		return strings.Join(strings.Fields(fmt.Sprintf("%d %s %s", r.Status, r.Str("status"), r.Code())), " ")
	}
	step := func(who string, r scenarios.Reply) string { return who + ": " + answer(r) + "; " }

	It("the requester's approval is refused at every vote of a MEDIUM, HIGH and CRITICAL request, and the others' votes still count", Label("critical"), func(ctx SpecContext) {
		env.Require("C33")
		// MEDIUM and HIGH: the requester's one vote would complete; then
		// another approver decides it.
		for _, lv := range []struct {
			level       string
			amountMilli int64
		}{{"MEDIUM", 600_000}, {"HIGH", 5_000_000}} {
			id := request(ctx, "gate-c-votes-requester", lv.level, lv.amountMilli, "gate-c-votes-"+lv.level)
			self := env.C.DecideAsRequester(ctx, id, "gate-c-votes-requester", "gate-c-votes-self-"+lv.level)
			other := env.C.Decide(ctx, id, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-other-"+lv.level)
			env.Record("C33", harness.Measure{OK: refused(self) && other.OK() && other.Str("status") == "approved", Samples: 1,
				Measured:  fmt.Sprintf("requester %s; approver %s", answer(self), answer(other)),
				Threshold: "requester 4xx (403 four_eyes_violation), then another approver 2xx approved", Variant: lv.level,
				Detail: fmt.Sprintf("request %s: %s%s\nrequester: %s\napprover: %s", id, step("requester", self), step("gate-c-votes-a1", other), self.Raw, other.Raw)})
		}
		// CRITICAL: the requester tries the first vote, then, after one
		// other approver's vote, the completing one; only a second other
		// approver completes it.
		id := request(ctx, "gate-c-votes-requester", "CRITICAL", 50_000_000, "gate-c-votes-CRITICAL")
		self1 := env.C.DecideAsRequester(ctx, id, "gate-c-votes-requester", "gate-c-votes-self-CRITICAL-1")
		a1 := env.C.Decide(ctx, id, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-a1-CRITICAL")
		self2 := env.C.DecideAsRequester(ctx, id, "gate-c-votes-requester", "gate-c-votes-self-CRITICAL-2")
		a2 := env.C.Decide(ctx, id, "gate-c-votes-a2", true, "second pair of eyes", "gate-c-votes-a2-CRITICAL")
		ok := refused(self1) && refused(self2) && a1.OK() && a1.Str("status") == "pending" && a2.OK() && a2.Str("status") == "approved"
		env.Record("C33", harness.Measure{OK: ok, Samples: 2,
			Measured:  fmt.Sprintf("requester %s; approver %s; requester %s; second approver %s", answer(self1), answer(a1), answer(self2), answer(a2)),
			Threshold: "requester 4xx, approver 2xx pending, requester 4xx, second approver 2xx approved", Variant: "CRITICAL",
			Detail: fmt.Sprintf("request %s: %s%s%s%s\nfirst vote by the requester: %s\nsecond vote by the requester: %s",
				id, step("requester", self1), step("gate-c-votes-a1", a1), step("requester", self2), step("gate-c-votes-a2", a2), self1.Raw, self2.Raw)})
	})

	It("every approving decision in the journal is four-eyed, and the audit lists every decided request (expired included) with all its decision ids", Label("critical"), func(ctx SpecContext) {
		env.Require("C34", "C35", "C37")
		// Left to expire: two HIGH requests nobody decides, one the
		// requester tries to approve, two CRITICAL ones with one vote (one
		// decided late, one left to the timer).
		hNone := request(ctx, "gate-c-votes-requester", "HIGH", 5_000_000, "gate-c-votes-exp-h1")
		hLate := request(ctx, "gate-c-votes-requester", "HIGH", 5_000_000, "gate-c-votes-exp-h2")
		hSelf := request(ctx, "gate-c-votes-requester", "HIGH", 5_000_000, "gate-c-votes-exp-h3")
		env.C.DecideAsRequester(ctx, hSelf, "gate-c-votes-requester", "gate-c-votes-exp-h3-self")
		cTimer := request(ctx, "gate-c-votes-requester", "CRITICAL", 50_000_000, "gate-c-votes-exp-c2")
		tv := env.C.Decide(ctx, cTimer, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-exp-c2-a1")
		harness.Ensure(tv.OK(), "the first vote on a CRITICAL request must be recorded (2xx): got %d %s", tv.Status, tv.Raw)
		cVoted := request(ctx, "gate-c-votes-requester", "CRITICAL", 50_000_000, "gate-c-votes-exp-c1")
		expiresBy := time.Now().Add(criticalTimeout)
		v := env.C.Decide(ctx, cVoted, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-exp-c1-a1")
		harness.Ensure(v.OK(), "the first vote on a CRITICAL request must be recorded (2xx): got %d %s", v.Status, v.Raw)
		// Decided: MEDIUM requests raced by 4 approvers, a CRITICAL one
		// voted then rejected, and one MEDIUM left pending.
		for i := range 4 {
			id := request(ctx, "gate-c-votes-requester", "MEDIUM", 500_000, fmt.Sprintf("gate-c-votes-race-%d", i))
			scenarios.Race(ctx, env.C, env.Rand(fmt.Sprintf("votes-race-%d", i)), id, 4, "gate-c-votes-race")
		}
		cRejected := request(ctx, "gate-c-votes-requester", "CRITICAL", 50_000_000, "gate-c-votes-rej-c1")
		env.C.Decide(ctx, cRejected, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-rej-c1-a1")
		env.C.Decide(ctx, cRejected, "gate-c-votes-a2", false, "not this quarter", "gate-c-votes-rej-c1-a2")
		request(ctx, "gate-c-votes-requester", "MEDIUM", 600_000, "gate-c-votes-pending")

		// Past both timeouts, a late approval of two of the expiring
		// requests (a backend that expires lazily writes the expiry now);
		// the others are the timer's.
		notTaken := env.TimeoutTaken(ctx, hNone, "CREDITD_APPROVAL_TIMEOUT_HIGH", highTimeout) + env.TimeoutTaken(ctx, cTimer, "CREDITD_APPROVAL_TIMEOUT_CRITICAL", criticalTimeout)
		time.Sleep(time.Until(expiresBy.Add(1500 * time.Millisecond)))
		env.C.Decide(ctx, hLate, "gate-c-votes-late", true, "too late", "gate-c-votes-exp-h2-late")
		env.C.Decide(ctx, cVoted, "gate-c-votes-late", true, "too late", "gate-c-votes-exp-c1-late")
		expiredByTheBackend(ctx, env, expiresBy, notTaken, map[string]string{hNone: "HIGH, nobody decided", hSelf: "HIGH, the requester's approval refused",
			cTimer: "CRITICAL, one vote"})
		// And one CRITICAL request with one vote, still pending when the
		// audit is read: SPEC §5 lists every request with its decision
		// event ids, not only the decided ones.
		cOpen := request(ctx, "gate-c-votes-requester", "CRITICAL", 50_000_000, "gate-c-votes-open-c1")
		o := env.C.Decide(ctx, cOpen, "gate-c-votes-a1", true, "reviewed", "gate-c-votes-open-c1-a1")
		harness.Ensure(o.OK(), "the first vote on a CRITICAL request must be recorded (2xx): got %d %s", o.Status, o.Raw)
		judgeApprovals(ctx, env, "votes, races, rejections, expiries, a vote on a pending request")
	})
})
