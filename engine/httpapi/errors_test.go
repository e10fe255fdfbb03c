package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/chaos/faultfs"
	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/httpapi"
)

// TestBadInputIsNeverA500 sends malformed, invalid and unauthorized requests
// and requires the documented status, code and (for 422) a detail naming
// the field.
func TestBadInputIsNeverA500(t *testing.T) {
	s := newServer(t, nil, nil)
	createAgent(t, s, "a")
	consume := func(amount string) string {
		return `{"agent_id":"a","amount":` + amount + `,"reason":"r"}`
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
		field                    string // must appear in detail
	}{
		{"malformed JSON", "POST", "/api/credits/consume", `{"agent_id":`, 400, "malformed_json", ""},
		{"trailing data", "POST", "/api/credits/consume", consume("1") + `{}`, 400, "malformed_json", ""},
		{"bare NaN is not JSON", "POST", "/api/credits/consume", consume("NaN"), 400, "malformed_json", ""},
		{"unknown field", "POST", "/api/credits/consume", `{"agent_id":"a","amount":1,"bogus":1}`, 422, "unknown_field", "bogus"},
		{"amount as a word", "POST", "/api/credits/consume", consume(`"abc"`), 422, "invalid", "amount"},
		{"amount \"NaN\"", "POST", "/api/credits/consume", consume(`"NaN"`), 422, "invalid", "amount"},
		{"amount \"Infinity\"", "POST", "/api/credits/consume", consume(`"Infinity"`), 422, "invalid", "amount"},
		{"amount true", "POST", "/api/credits/consume", consume(`true`), 422, "invalid", "amount"},
		{"amount object", "POST", "/api/credits/consume", consume(`{}`), 422, "invalid", "amount"},
		{"amount missing", "POST", "/api/credits/consume", `{"agent_id":"a"}`, 422, "invalid", "amount"},
		{"amount zero", "POST", "/api/credits/consume", consume("0"), 422, "invalid", "amount"},
		{"amount negative", "POST", "/api/credits/consume", consume("-1"), 422, "invalid", "amount"},
		{"amount with 4 decimals", "POST", "/api/credits/consume", consume("1.0001"), 422, "invalid", "amount"},
		{"amount above the maximum", "POST", "/api/credits/add", consume("1000000000.001"), 422, "invalid", "amount"},
		{"amount 1e400", "POST", "/api/credits/refund", consume("1e400"), 422, "invalid", "amount"},
		{"refund amount as a word", "POST", "/api/credits/refund", consume(`"abc"`), 422, "invalid", "amount"},
		{"approval amount as a word", "POST", "/api/credits/approvals", `{"action_type":"add","agent_id":"a","amount":"x","requester_id":"r"}`, 422, "invalid", "amount"},
		{"pool amount negative", "POST", "/api/credits/pools/p/allocate", `{"amount":-5}`, 422, "invalid", "amount"},
		{"skill level out of range", "POST", "/api/credits/agents", `{"agent_id":"n","skill_level":2}`, 422, "invalid", "skill_level"},
		{"skill level a string", "POST", "/api/credits/agents", `{"agent_id":"n","skill_level":"x"}`, 422, "invalid", "skill_level"},
		{"agent id with a slash", "POST", "/api/credits/agents", `{"agent_id":"a/b","skill_level":0.5}`, 422, "invalid", "agent_id"},
		{"unknown agent consume", "POST", "/api/credits/consume", `{"agent_id":"ghost","amount":1}`, 404, "not_found", ""},
		{"unknown agent balance", "GET", "/api/credits/balance/ghost", ``, 404, "not_found", ""},
		{"existing agent", "POST", "/api/credits/agents", `{"agent_id":"a","skill_level":0.5}`, 409, "agent_exists", ""},
		{"overdraft", "POST", "/api/credits/consume", consume("100.001"), 409, "insufficient_credits", ""},
		{"body over 64KiB", "POST", "/api/credits/consume", `{"agent_id":"a","amount":1,"reason":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body_too_large", ""},
		{"history limit not a number", "GET", "/api/credits/history/a?limit=x", ``, 422, "invalid", "limit"},
		{"unknown approval", "POST", "/api/credits/approvals/nope/approve", `{"approver_id":"b"}`, 404, "not_found", ""},
		{"unknown route", "GET", "/api/credits/nothing", ``, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, tc.body)
			if r.status != tc.status || r.str("code") != tc.code {
				t.Fatalf("%s %s: %d %s, want %d %s", tc.method, tc.path, r.status, r.raw, tc.status, tc.code)
			}
			if r.str("detail") == "" || !strings.Contains(r.str("detail"), tc.field) {
				t.Fatalf("detail %q does not name %q", r.str("detail"), tc.field)
			}
		})
	}
	if b := balanceOf(t, s, "a"); b != "100" {
		t.Fatalf("refused requests moved credits: balance %s", b)
	}
}

func TestTokensGateReadsMutationsAndDecisions(t *testing.T) {
	s := newServer(t, httpapi.Tokens{"rd": {Name: "rita", Role: httpapi.RoleReader}, "op": {Name: "otto", Role: httpapi.RoleOperator},
		"svc": {Name: "sam", Role: httpapi.RoleService}}, nil)
	createAgent(t, s, "a", bearer("op")...)
	body := `{"agent_id":"a","amount":1}`
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
	}{
		{"read without a token", "GET", "/api/credits/balances", "", nil, 401},
		{"read with an unknown token", "GET", "/api/credits/balances", "", bearer("nope"), 401},
		{"read with a basic auth header", "GET", "/api/credits/balances", "", []string{"Authorization", "Basic cmQ6"}, 401},
		{"reader reads", "GET", "/api/credits/balances", "", bearer("rd"), 200},
		{"mutation without a token", "POST", "/api/credits/consume", body, nil, 401},
		{"reader mutating", "POST", "/api/credits/consume", body, bearer("rd"), 403},
		{"operator mutating", "POST", "/api/credits/consume", body, bearer("op"), 200},
		{"service mutating", "POST", "/api/credits/consume", body, bearer("svc"), 200},
		{"digest needs a token", "GET", "/api/credits/digest", "", nil, 401},
		{"health is open", "GET", "/api/health", "", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.raw, tc.status)
			}
		})
	}
}

func TestIdempotencyOverHTTP(t *testing.T) {
	s := newServer(t, nil, nil)
	createAgent(t, s, "a")
	body := map[string]any{"agent_id": "a", "amount": 2.5, "reason": "r", "actor_id": "op"}
	first := s.do(t, "POST", "/api/credits/consume", body, "Idempotency-Key", "k-1")
	again := s.do(t, "POST", "/api/credits/consume", body, "Idempotency-Key", "k-1")
	if first.status != 200 || again.status != 200 || first.str("event_id") != again.str("event_id") ||
		again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry: %d %s / %d %s %v", first.status, first.raw, again.status, again.raw, again.header)
	}
	inBody := map[string]any{"agent_id": "a", "amount": 2.5, "reason": "r", "actor_id": "op", "idempotency_key": "k-1"}
	if r := s.do(t, "POST", "/api/credits/consume", inBody); r.str("event_id") != first.str("event_id") {
		t.Fatalf("key in the body: %s, want the original event", r.raw)
	}
	body["amount"] = 3
	if r := s.do(t, "POST", "/api/credits/consume", body, "Idempotency-Key", "k-1"); r.status != 409 || r.str("code") != "idempotency_key_conflict" {
		t.Fatalf("same key, different request: %d %s", r.status, r.raw)
	}
	if b := balanceOf(t, s, "a"); b != "97.5" {
		t.Fatalf("balance %s, want 97.5 (one consume)", b)
	}
}

func TestJournalFailureAnswers503AndHealthFailed(t *testing.T) {
	fs := faultfs.New(nil, nil)
	s := newServer(t, nil, func(c *engine.Config) {
		c.Journal.NoSync = false
		c.Journal.FS = fs
	})
	createAgent(t, s, "a")
	fs.SetInjector(faultfs.Always(faultfs.OpSync, faultfs.ErrInjected))
	body := `{"agent_id":"a","amount":1}`
	if r := s.do(t, "POST", "/api/credits/consume", body); r.status != http.StatusServiceUnavailable || r.str("code") != "journal_failed" {
		t.Fatalf("consume during the sync failure: %d %s, want 503 journal_failed", r.status, r.raw)
	}
	fs.SetInjector(nil)
	for _, req := range [][2]string{{"POST", "/api/credits/consume"}, {"POST", "/api/credits/refund"}, {"GET", "/api/credits/balance/a"}, {"GET", "/api/credits/digest"}} {
		b := ""
		if req[0] == "POST" {
			b = body
		}
		if r := s.do(t, req[0], req[1], b); r.status != http.StatusServiceUnavailable {
			t.Fatalf("%s %s after the failure: %d %s, want 503", req[0], req[1], r.status, r.raw)
		}
	}
	for _, p := range []string{"/api/health", "/readyz"} {
		if r := s.do(t, "GET", p, nil); r.status != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d %s, want 503", p, r.status, r.raw)
		}
	}
	if r := s.do(t, "GET", "/api/health", nil); r.str("status") != "failed" || r.str("journal") != "failed" {
		t.Fatalf("health %s, want failed", r.raw)
	}
}
