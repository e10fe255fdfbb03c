package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// exploreFixture is a run by hand: an agent with 100 credits, a gated
// withdrawal of 600 (threshold 500), a consume of 50, then the command
// under test.
func exploreFixture(last ExploreCommand) ExploreRun {
	now := time.Now()
	exp := now.Add(time.Hour).UTC().Format(time.RFC3339Nano)
	cmd := func(method, path, body, token string, status int, resp string) ExploreCommand {
		return ExploreCommand{Method: method, Path: path, Body: json.RawMessage(body), Token: token, RetryOf: -1,
			Status: status, Resp: json.RawMessage(resp), CallNs: now.UnixNano(), ReturnNs: now.UnixNano()}
	}
	cs := []ExploreCommand{
		cmd("POST", "/api/credits/agents", `{"agent_id":"a","skill_level":1}`, "t-op", 200, `{"agent_id":"a","balance":100}`),
		cmd("POST", "/api/credits/withdraw", `{"agent_id":"a","amount":600,"actor_id":"adm"}`, "t-op", 202,
			`{"request_id":"r1","status":"pending","risk_level":"MEDIUM","requester_id":"op","required_approvals":1,"expires_at":"`+exp+`"}`),
		cmd("POST", "/api/credits/consume", `{"agent_id":"a","amount":50}`, "t-op", 200, `{"amount":50,"balance_after":50}`),
		cmd("POST", "/api/credits/approvals", `{"action_type":"add","agent_id":"a","amount":700,"requester_id":"ap"}`, "t-adm", 202,
			`{"request_id":"r2","status":"pending","risk_level":"MEDIUM","requester_id":"adm","required_approvals":1,"expires_at":"`+exp+`"}`),
	}
	last.Method, last.RetryOf, last.CallNs, last.ReturnNs = "POST", -1, now.UnixNano(), now.UnixNano()
	cs = append(cs, last)
	for i := range cs {
		cs[i].N = i
	}
	return ExploreRun{Seed: 7, Settings: ExploreSettings{ThresholdMilli: 500_000, HighMilli: 5_000_000, CriticalMilli: 50_000_000,
		TimeoutMedium: time.Hour, TimeoutHigh: time.Hour, TimeoutCritical: time.Hour, MaxAmountMilli: 1_000_000_000},
		Principals: []ExplorePrincipal{{"op", "operator", "t-op"}, {"ap", "approver", "t-ap"}, {"adm", "admin", "t-adm"}},
		Commands:   cs}
}

func findingOf(fs []Finding, check string) Finding {
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	return Finding{}
}

func TestExploreJudgeAcceptsTheRulesAnswers(t *testing.T) {
	run := exploreFixture(ExploreCommand{Path: "/api/credits/approvals/r1/approve", Token: "t-ap", Body: json.RawMessage(`{"approver_id":"op"}`),
		Status: 409, Resp: json.RawMessage(`{"code":"insufficient_credits"}`)})
	for _, f := range JudgeExplore(run) {
		if !f.OK || (f.Samples == 0 && f.Check != CheckB48) {
			t.Errorf("%s", f)
		}
	}
}

func TestExploreJudgeFailsAnApprovedWithdrawalThatOverdraws(t *testing.T) {
	run := exploreFixture(ExploreCommand{Path: "/api/credits/approvals/r1/approve", Token: "t-ap",
		Status: 200, Resp: json.RawMessage(`{"status":"approved","decided_by":"ap","version":2,"executed":{"balance_after":-550}}`)})
	f := findingOf(JudgeExplore(run), CheckB47)
	if f.OK {
		t.Fatalf("an approved withdrawal above the balance passed: %s", f)
	}
	if !strings.Contains(f.Detail, "seed 7") || !strings.Contains(f.Detail, "shortest failing prefix: commands #0..#4") ||
		!strings.Contains(f.Detail, "#2 POST /api/credits/consume") {
		t.Errorf("the detail does not name the seed and the shortest failing prefix: %s", f.Detail)
	}
}

func TestExploreJudgeTakesTheRequesterFromTheToken(t *testing.T) {
	// adm requested r2 (its token), the body names ap as approver: still adm
	// deciding its own request, so four-eyes refuses it.
	run := exploreFixture(ExploreCommand{Path: "/api/credits/approvals/r2/approve", Token: "t-adm", Body: json.RawMessage(`{"approver_id":"ap"}`),
		Status: 200, Resp: json.RawMessage(`{"status":"approved","decided_by":"ap","version":2,"executed":{"balance_after":750}}`)})
	if f := findingOf(JudgeExplore(run), CheckC31); f.OK {
		t.Fatalf("a self-approval passed four-eyes: %s", f)
	}
	run.Commands[4].Status, run.Commands[4].Resp = 403, json.RawMessage(`{"code":"four_eyes_violation"}`)
	if f := findingOf(JudgeExplore(run), CheckC31); !f.OK {
		t.Fatalf("the four-eyes refusal was judged wrong: %s", f)
	}
}

func TestExploreJudgeChecksRiskLevelsAgainstTheSettings(t *testing.T) {
	run := exploreFixture(ExploreCommand{Path: "/api/credits/add", Token: "t-op", Body: json.RawMessage(`{"agent_id":"a","amount":499.999}`),
		Status: 200, Resp: json.RawMessage(`{"amount":499.999,"balance_after":549.999}`)})
	if f := findingOf(JudgeExplore(run), CheckC32); !f.OK || f.Samples == 0 {
		t.Fatalf("an add just below the threshold: %s", f)
	}
	run.Settings.ThresholdMilli = 400_000 // the backend should have gated it
	if f := findingOf(JudgeExplore(run), CheckC32); f.OK {
		t.Fatalf("an add above the configured threshold applied directly and passed: %s", f)
	}
}

func TestExploreJudgeBoundsRepeatedMissionRefundsByWhatIsLeft(t *testing.T) {
	run := exploreFixture(ExploreCommand{Path: "/api/credits/missions", Token: "t-op",
		Body:   json.RawMessage(`{"mission_id":"m","agent_id":"a","mission_type":"general","complexity":"medium"}`),
		Status: 201, Resp: json.RawMessage(`{"payload":{"estimate_milli":7000}}`)})
	refund := func(amount string, status int, resp string) ExploreCommand {
		return ExploreCommand{N: len(run.Commands), Method: "POST", Path: "/api/credits/refund", Token: "t-op", RetryOf: -1,
			Body: json.RawMessage(`{"agent_id":"a","amount":` + amount + `,"mission_id":"m"}`), Status: status, Resp: json.RawMessage(resp)}
	}
	run.Commands = append(run.Commands, refund("5", 200, `{"amount":5,"balance_after":48}`))
	run.Commands = append(run.Commands, refund("5", 200, `{"amount":5,"balance_after":53}`)) // only 2 were left
	if f := findingOf(JudgeExplore(run), CheckB47); f.OK {
		t.Fatalf("a second refund beyond what the mission had left passed: %s", f)
	}
	run.Commands[6] = refund("5", 409, `{"code":"refund_exceeds_consumed"}`)
	if f := findingOf(JudgeExplore(run), CheckB47); !f.OK {
		t.Fatalf("%s", f)
	}
}

func TestJudgeGrammar(t *testing.T) {
	rs := []GrammarResult{{Name: "dup", Codes: []string{"duplicate_member"}, Status: 400, Code: "duplicate_member"},
		{Name: "ok", Valid: true, Status: 404, Code: "not_found"}}
	for _, f := range JudgeGrammar(rs, []string{"duplicate_member"}, "1 x", "1 x") {
		if !f.OK || f.Samples == 0 {
			t.Errorf("%s", f)
		}
	}
	rs[0].Status, rs[0].Code = 422, "unknown_field" // a nested duplicate let through to the field check
	if f := JudgeGrammar(rs, nil, "1 x", "2 y"); f[1].OK || f[2].OK {
		t.Errorf("a wrong refusal code or a moved digest passed: %v", f)
	}
}

// foreignFixture is a run on another backend: an agent with 100 credits,
// then the command under test (SPEC §5's defaults: threshold 500).
func foreignFixture(last ExploreCommand) ExploreRun {
	run := exploreFixture(last)
	run.Commands = append(run.Commands[:1:1], run.Commands[len(run.Commands)-1])
	run.Commands[1].N = 1
	run.Foreign = true
	return run
}

// On another backend a refusal is judged by the status SPEC §6 gives its
// kind and by the codes it names, never by our engine's wording.
func TestAnotherBackendsRefusalIsJudgedByStatusAndTheSpecsCodes(t *testing.T) {
	for _, c := range []struct {
		body, resp string
		status     int
		ok         bool
	}{
		{`{"agent_id":"a","amount":1.0001}`, `{"code":"invalid_field"}`, 422, true},  // our "invalid", its words
		{`{"agent_id":"a","amount":1.0001}`, `{"code":"bad_request"}`, 400, true},    // a body it cannot take
		{`{"agent_id":"a","amount":1.0001}`, `{"code":"invalid_field"}`, 409, false}, // a conflict status for a bad field
		{`{"agent_id":"a","amount":150}`, `{"code":"insufficient_credits"}`, 409, true},
		{`{"agent_id":"a","amount":150}`, `{"code":"insufficient_funds"}`, 409, false}, // SPEC §6 names the code
		{`{"agent_id":"zz","amount":1}`, `{"code":"agent_not_found"}`, 404, true},
		{`{"agent_id":"zz","amount":1}`, `{"code":"insufficient_credits"}`, 409, false}, // a named code for another refusal
	} {
		run := foreignFixture(ExploreCommand{Path: "/api/credits/consume", Token: "t-op", Body: json.RawMessage(c.body),
			Status: c.status, Resp: json.RawMessage(c.resp)})
		if f := findingOf(JudgeExplore(run), CheckB47); f.OK != c.ok {
			t.Errorf("%s answered %d %s: ok=%v, want %v (%s)", c.body, c.status, c.resp, f.OK, c.ok, f)
		}
		run.Foreign = false // our engine is held to its own codes
		if f := findingOf(JudgeExplore(run), CheckB47); f.OK && c.resp != `{"code":"insufficient_credits"}` {
			t.Errorf("our engine answering %d %s passed: %s", c.status, c.resp, f)
		}
	}
}

// SPEC §5 gates an add at the threshold: another backend may answer 202 or
// refuse it (one serving no approval routes cannot open a request), never
// apply it.
func TestAnotherBackendMayRefuseAGatedAddButNeverApplyIt(t *testing.T) {
	add := func(status int, resp string) ExploreRun {
		return foreignFixture(ExploreCommand{Path: "/api/credits/add", Token: "t-op", Body: json.RawMessage(`{"agent_id":"a","amount":500}`),
			Status: status, Resp: json.RawMessage(resp)})
	}
	for _, r := range []ExploreRun{add(202, `{"request_id":"r9","status":"pending","risk_level":"MEDIUM","version":1}`),
		add(403, `{"code":"approval_required"}`)} {
		if f := findingOf(JudgeExplore(r), CheckB47); !f.OK {
			t.Errorf("%s", f)
		}
	}
	if f := findingOf(JudgeExplore(add(200, `{"amount":500,"balance_after":600}`)), CheckB47); f.OK {
		t.Fatalf("an add at the threshold applied at once passed: %s", f)
	}
}

// A keyed retry whose body differs only in the actor member (which a
// backend with tokens does not read) may replay; any other difference
// must be 409 idempotency_key_conflict, on every backend.
func TestAnotherBackendMayReplayARetryDifferingOnlyInItsActor(t *testing.T) {
	run := foreignFixture(ExploreCommand{Path: "/api/credits/consume", Token: "t-op", Key: "k", Body: json.RawMessage(`{"agent_id":"a","amount":5}`),
		Status: 200, Resp: json.RawMessage(`{"amount":5,"balance_after":95,"event_id":"e1"}`)})
	retry := func(body string) ExploreRun {
		r := run
		r.Commands = append(append([]ExploreCommand(nil), run.Commands...), ExploreCommand{N: 2, Method: "POST", Path: "/api/credits/consume",
			Token: "t-op", Key: "k", RetryOf: 1, Conflicting: true, Body: json.RawMessage(body), Status: 200,
			Resp: json.RawMessage(`{"amount":5,"balance_after":95,"event_id":"e1"}`)})
		return r
	}
	if f := findingOf(JudgeExplore(retry(`{"agent_id":"a","amount":5,"actor_id":"someone-else"}`)), CheckB47); !f.OK {
		t.Errorf("a replay of a retry differing in its actor alone: %s", f)
	}
	if f := findingOf(JudgeExplore(retry(`{"agent_id":"a","amount":6}`)), CheckB47); f.OK {
		t.Errorf("a replay of a retry with another amount passed: %s", f)
	}
	r := retry(`{"agent_id":"a","amount":5,"actor_id":"someone-else"}`)
	r.Foreign = false
	if f := findingOf(JudgeExplore(r), CheckB47); f.OK {
		t.Errorf("our engine replaying a retry with another body passed: %s", f)
	}
}

// On another backend a decision's answer is its own shape: the model moves
// as the rules say and the reads after it judge the backend; the requester
// approving must still be refused (four-eyes, however it words it).
func TestAnotherBackendsDecisionsAreJudgedByTheirEffects(t *testing.T) {
	cmd := func(method, path, body, token string, status int, resp string) ExploreCommand {
		return ExploreCommand{Method: method, Path: path, Body: json.RawMessage(body), Token: token, RetryOf: -1, Status: status, Resp: json.RawMessage(resp)}
	}
	run := foreignFixture(cmd("POST", "/api/credits/add", `{"agent_id":"a","amount":600}`, "t-op", 202,
		`{"request_id":"r7","status":"PENDING","risk_level":"MEDIUM","version":0}`))
	with := func(cs ...ExploreCommand) ExploreRun {
		r := run
		r.Commands = append([]ExploreCommand(nil), run.Commands...)
		for _, c := range cs {
			c.N = len(r.Commands)
			r.Commands = append(r.Commands, c)
		}
		return r
	}
	approve := cmd("POST", "/api/credits/approvals/r7/approve", `{"justification":"ok"}`, "t-ap", 200, `{"decision":"approve","request":{"state":"done"}}`)
	read := func(balance string) ExploreCommand {
		return cmd("GET", "/api/credits/balance/a", ``, "t-ap", 200, `{"agent_id":"a","balance":`+balance+`}`)
	}
	if f := findingOf(JudgeExplore(with(approve, read("700"))), CheckB47); !f.OK {
		t.Errorf("an approval executing the add, read back: %s", f)
	}
	if f := findingOf(JudgeExplore(with(approve, read("100"))), CheckB47); f.OK {
		t.Errorf("an approval acknowledged without executing the add passed: %s", f)
	}
	self := cmd("POST", "/api/credits/approvals/r7/approve", `{"justification":"ok","approver_id":"ap"}`, "t-op", 200, `{}`)
	self.Token = "t-adm" // not the requester: op requested it
	if f := findingOf(JudgeExplore(with(self)), CheckC31); !f.OK {
		t.Errorf("another principal approving: %s", f)
	}
	self.Token = "t-op" // an operator may not decide at all (SPEC §6 roles)
	if f := findingOf(JudgeExplore(with(self)), CheckB47); f.OK {
		t.Errorf("an operator's decision acknowledged passed: %s", f)
	}
	run.Principals = append(run.Principals, ExplorePrincipal{"op", "admin", "t-op-admin"})
	self.Token = "t-op-admin"
	if f := findingOf(JudgeExplore(with(self)), CheckC31); f.OK {
		t.Errorf("the requester approving its own request passed four-eyes: %s", f)
	}
	self.Status, self.Resp = 409, json.RawMessage(`{"code":"self_approval"}`)
	if f := findingOf(JudgeExplore(with(self)), CheckC31); !f.OK {
		t.Errorf("the requester's approval refused 409 in the backend's words: %s", f)
	}
}
