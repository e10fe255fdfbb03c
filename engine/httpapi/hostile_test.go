package httpapi_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/engine/httpapi"
)

// journalLen is the number of durable events.
func journalLen(t *testing.T, s *testServer) int { return len(readJournal(t, s.path)) }

// Issue 9, defect 1: with an operator token alone, POST /refund of
// 1,000,000,000 credits succeeded. A refund naming nothing that bounds it is
// refused at or above the approval threshold and changes nothing.
func TestOperatorCannotRefundUnbackedCreditsAboveTheThreshold(t *testing.T) {
	s := newServer(t, httpapi.Tokens{"op": {Name: "otto", Role: httpapi.RoleOperator}}, nil)
	op := bearer("op")
	if r := s.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": "a", "skill_level": 0.5}, op...); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	n := journalLen(t, s)
	r := s.do(t, "POST", "/api/credits/refund", map[string]any{"agent_id": "a", "amount": 1_000_000_000, "reason": "free money"}, op...)
	if r.status != 422 || r.str("code") != "approval_required" {
		t.Fatalf("refund of 1e9 credits: %d %s, want 422 approval_required", r.status, r.raw)
	}
	// Naming a mission bounds the refund by what the mission consumed.
	if r := s.do(t, "POST", "/api/credits/missions", map[string]any{"mission_id": "m", "agent_id": "a", "mission_type": "general"}, op...); r.status != 201 {
		t.Fatalf("mission start: %d %s", r.status, r.raw)
	}
	n = journalLen(t, s)
	r = s.do(t, "POST", "/api/credits/refund", map[string]any{"agent_id": "a", "amount": 600, "reason": "r", "mission_id": "m"}, op...)
	if r.status != 409 || r.str("code") != "refund_exceeds_consumed" {
		t.Fatalf("refund above the mission's consumption: %d %s, want 409 refund_exceeds_consumed", r.status, r.raw)
	}
	if got := journalLen(t, s); got != n {
		t.Fatalf("refused refunds journaled %d events", got-n)
	}
	// The original shape still works for a legitimate refund.
	r = s.do(t, "POST", "/api/credits/refund", map[string]any{"agent_id": "a", "amount": 2, "reason": "r", "mission_id": "m"}, op...)
	if r.status != 200 || r.body["mission_id"] != "m" || r.body["amount"] != 2.0 {
		t.Fatalf("bounded refund: %d %s", r.status, r.raw)
	}
}

// Issue 9, defect 1 (pools): a pool refund of any size then a close with
// refund_to paid the agent credits nobody approved.
func TestPoolRefundOfUnconsumedCreditsIsRefused(t *testing.T) {
	s := newServer(t, nil, nil)
	s.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": "a", "skill_level": 0.5})
	if r := s.do(t, "POST", "/api/credits/pools", map[string]any{"pool_id": "p", "members": []string{"a"}}); r.status != 201 {
		t.Fatalf("pool: %d %s", r.status, r.raw)
	}
	r := s.do(t, "POST", "/api/credits/pools/p/refund", map[string]any{"amount": 1_000_000, "reason": "mint"})
	if r.status != 409 || r.str("code") != "refund_exceeds_consumed" {
		t.Fatalf("pool refund with nothing consumed: %d %s", r.status, r.raw)
	}
	r = s.do(t, "POST", "/api/credits/pools/p/close", map[string]any{"refund_to": "a"})
	if r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.raw)
	}
	if b := s.do(t, "GET", "/api/credits/balance/a", nil); b.body["balance"] != 50.0 {
		t.Fatalf("balance after close = %v, want the 50 created with the agent", b.body["balance"])
	}
}

// Issue 9, defect 2: an Idempotency-Key with invalid UTF-8 was kept raw in
// memory but journaled with U+FFFD, so two distinct keys collapsed and a
// retry after a restart executed again. Keys outside the documented
// alphabet are refused with 400 before anything is journaled, whether
// they come in the header or in the body.
func TestIdempotencyKeysOutsideTheAlphabetAreRefusedBeforeAnythingHappens(t *testing.T) {
	s := newServer(t, nil, nil)
	s.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": "a", "skill_level": 0.5})
	n := journalLen(t, s)
	body := map[string]any{"agent_id": "a", "amount": 1, "reason": "r"}
	for _, key := range []string{"k-\xff", "k-\xfe", "k-é", "k#1", "k 1", strings.Repeat("k", 201)} {
		// Raw bytes on the wire: net/http's client refuses to send some of them.
		if got := rawStatus(t, s, "POST /api/credits/consume", `{"agent_id":"a","amount":1,"reason":"r"}`, "Idempotency-Key: "+key); got != 400 {
			t.Errorf("key %q: %d, want 400", key, got)
		}
	}
	_ = body
	r := s.do(t, "POST", "/api/credits/consume", "{\"agent_id\":\"a\",\"amount\":1,\"idempotency_key\":\"k-\xff\"}")
	if r.status != 400 || r.str("code") != "invalid_utf8" {
		t.Errorf("body key with invalid UTF-8: %d %s, want 400 invalid_utf8", r.status, r.raw)
	}
	if got := journalLen(t, s); got != n {
		t.Fatalf("refused keys journaled %d events", got-n)
	}
	for _, key := range []string{"k-1", "gate-d:crash/0001", "a.b_c@d+e=f"} {
		if r := s.do(t, "POST", "/api/credits/consume", body, "Idempotency-Key", key); r.status != 200 {
			t.Errorf("key %q of the alphabet: %d %s", key, r.status, r.raw)
		}
	}
}

// Ids are printable ASCII of the documented alphabet: two ids that differ
// only in invalid bytes can no longer collapse into one after a restart.
func TestIDsOutsideTheAlphabetAreRefused(t *testing.T) {
	s := newServer(t, nil, nil)
	for _, id := range []string{"a\xff", "é", "a b", "a/b", "a#b", ""} {
		r := s.do(t, "POST", "/api/credits/agents", fmt.Sprintf(`{"agent_id":%q}`, id))
		if r.status/100 != 4 {
			t.Errorf("agent id %q: %d %s, want 4xx", id, r.status, r.raw)
		}
	}
	if n := journalLen(t, s); n != 0 {
		t.Fatalf("refused ids journaled %d events", n)
	}
}

// Issue 9, defect 5: duplicate members and case variants were accepted
// (last one wins), invalid UTF-8 collapsed distinct ids, and any
// Content-Type was parsed as JSON. Each is refused and journals nothing.
func TestAmbiguousOrMislabelledBodiesAreRefused(t *testing.T) {
	s := newServer(t, nil, nil)
	s.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": "a", "skill_level": 0.5})
	n := journalLen(t, s)
	cases := []struct {
		name, body string
		hdr        []string
		status     int
		code       string
	}{
		{"duplicate member", `{"agent_id":"a","amount":1,"amount":400,"reason":"r"}`, nil, 400, "duplicate_member"},
		{"case variant", `{"agent_id":"a","amount":1,"AMOUNT":400,"reason":"r"}`, nil, 400, "ambiguous_member"},
		{"case variant alone", `{"Agent_ID":"a","amount":1}`, nil, 400, "ambiguous_member"},
		{"nested duplicate", `{"collaboration_id":"c","team_id":"t","agent_ids":["a","b"],"contribution_scores":{"a":1,"a":0}}`, nil, 400, "duplicate_member"},
		{"invalid UTF-8 in a value", "{\"agent_id\":\"a\xff\",\"amount\":1}", nil, 400, "invalid_utf8"},
		{"form post", `agent_id=a&amount=1`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"text/plain JSON", `{"agent_id":"a","amount":1}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"no Content-Type", `{"agent_id":"a","amount":1}`, []string{"Content-Type", ""}, 415, "unsupported_media_type"},
		{"latin-1 charset", `{"agent_id":"a","amount":1}`, []string{"Content-Type", "application/json; charset=latin-1"}, 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		path := "/api/credits/consume"
		if c.name == "nested duplicate" {
			path = "/api/credits/synergie/collaborations"
		}
		r := s.do(t, "POST", path, c.body, c.hdr...)
		if r.status != c.status || r.str("code") != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.raw, c.status, c.code)
		}
	}
	if got := journalLen(t, s); got != n {
		t.Fatalf("refused bodies journaled %d events", got-n)
	}
	r := s.do(t, "POST", "/api/credits/consume", `{"agent_id":"a","amount":1}`, "Content-Type", "application/json; charset=UTF-8")
	if r.status != 200 {
		t.Fatalf("application/json; charset=UTF-8: %d %s", r.status, r.raw)
	}
}

// rawStatus sends one request byte for byte (headers unchecked by any
// client library) and returns the response status.
func rawStatus(t *testing.T, s *testServer, line, body string, headers ...string) int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := line + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	req += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Principals are journaled as requester and approver ids, so a token whose
// principal is outside the id alphabet is refused at startup, not on the
// first approval.
func TestTokensWithPrincipalsOutsideTheIDAlphabetAreRefused(t *testing.T) {
	for _, spec := range []string{"t=ops bot:operator", "t=é:admin", "t=a/b:reader"} {
		if _, err := httpapi.ParseTokens(spec); err == nil {
			t.Errorf("ParseTokens(%q) accepted a principal outside the alphabet", spec)
		}
	}
	if _, err := httpapi.ParseTokens("dev-admin=admin:admin,t2=gate-c-approver2:approver"); err != nil {
		t.Fatal(err)
	}
}
