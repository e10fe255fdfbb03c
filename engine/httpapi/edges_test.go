package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A wrong method on a known path is 405 with an Allow header naming the
// path's methods — for every registered route — and an unknown path stays 404.
func TestWrongMethodOnEveryRouteIs405WithAllow(t *testing.T) {
	srv := newServer(t, nil, nil)
	braces := regexp.MustCompile(`\{[^}]+\}`)
	methodsOf := map[string][]string{} // concrete path → registered methods
	for _, p := range registeredRoutes(t) {
		method, path, _ := strings.Cut(p, " ")
		concrete := braces.ReplaceAllString(path, "x")
		methodsOf[concrete] = append(methodsOf[concrete], method)
	}
	for path, methods := range methodsOf {
		wrong := http.MethodPatch // no route takes PATCH
		if slices.Contains(methods, wrong) {
			t.Fatalf("%s registers PATCH: pick another wrong method", path)
		}
		r := srv.do(t, wrong, path, "{}")
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("PATCH %s = %d, want 405: %s", path, r.status, r.raw)
			continue
		}
		allow := strings.Split(r.header.Get("Allow"), ", ")
		for _, m := range methods {
			if !slices.Contains(allow, m) {
				t.Errorf("PATCH %s: Allow %q lacks %s", path, r.header.Get("Allow"), m)
			}
		}
		if r.str("code") != "method_not_allowed" || !strings.Contains(r.str("detail"), "PATCH") {
			t.Errorf("PATCH %s: body %s, want code method_not_allowed and a detail naming the method", path, r.raw)
		}
	}
	if r := srv.do(t, "GET", "/api/credits/no-such-route", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown path = %d, want 404", r.status)
	}
	if r := srv.do(t, "DELETE", "/api/credits/no-such-route", nil); r.status != http.StatusNotFound || r.header.Get("Allow") != "" {
		t.Errorf("unknown path with DELETE = %d (Allow %q), want 404 without Allow", r.status, r.header.Get("Allow"))
	}
}

// Pool and mission routes each decode their own body: a field that belongs
// to a sibling route is refused with 422 naming it, never ignored.
func TestPoolAndMissionRoutesRefuseSiblingRoutesFields(t *testing.T) {
	srv := newServer(t, nil, nil)
	for _, c := range []struct{ path, body, field string }{
		{"/api/credits/pools", `{"pool_id":"p1","amount":5}`, "amount"},
		{"/api/credits/pools/p1/members", `{"agent_id":"a","refund_to":"b"}`, "refund_to"},
		{"/api/credits/pools/p1/consume", `{"agent_id":"a","amount":1,"to_pool_id":"p2"}`, "to_pool_id"},
		{"/api/credits/pools/p1/allocate", `{"amount":1,"members":["a"]}`, "members"},
		{"/api/credits/pools/p1/transfer", `{"to_pool_id":"p2","amount":1,"agent_id":"a"}`, "agent_id"},
		{"/api/credits/pools/p1/close", `{"refund_to":"a","amount":1}`, "amount"},
		{"/api/credits/missions", `{"mission_id":"m1","agent_id":"a","actual_cost":3}`, "actual_cost"},
		{"/api/credits/missions/m1/complete", `{"actual_cost":1,"rating":0.5}`, "rating"},
		{"/api/credits/missions/m1/fail", `{"mission_type":"x"}`, "mission_type"},
		{"/api/credits/missions/m1/rate", `{"rating":0.5,"actual_cost":1}`, "actual_cost"},
	} {
		r := srv.do(t, "POST", c.path, c.body)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.str("detail"), c.field) {
			t.Errorf("POST %s %s = %d %s, want 422 naming %q", c.path, c.body, r.status, r.raw, c.field)
		}
	}
	r := srv.do(t, "DELETE", "/api/credits/pools/p1/members/a", `{"agent_id":"a"}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.str("detail"), "agent_id") {
		t.Errorf("DELETE member with agent_id in the body = %d %s, want 422 naming agent_id", r.status, r.raw)
	}
}

// Where zero is an allowed amount (a mission's actual_cost), 0.0 and 0
// are the same value.
func TestZeroAmountIsAcceptedInEverySpelling(t *testing.T) {
	srv := newServer(t, nil, nil)
	if r := srv.do(t, "POST", "/api/credits/agents", map[string]any{"agent_id": "z1", "skill_level": 1}); r.status != http.StatusOK {
		t.Fatalf("create agent: %d %s", r.status, r.raw)
	}
	var refunds []any
	for i, zero := range []string{"0", "0.0", "0e0", "0.000"} {
		id := "zm" + string(rune('a'+i))
		if r := srv.do(t, "POST", "/api/credits/missions", map[string]any{"mission_id": id, "agent_id": "z1"}); r.status != http.StatusCreated {
			t.Fatalf("start mission: %d %s", r.status, r.raw)
		}
		r := srv.do(t, "POST", "/api/credits/missions/"+id+"/complete", `{"actual_cost":`+zero+`}`)
		if r.status != http.StatusOK {
			t.Errorf("complete with actual_cost %s = %d %s, want 200", zero, r.status, r.raw)
			continue
		}
		m := srv.do(t, "GET", "/api/credits/missions/"+id, nil)
		refunds = append(refunds, m.body["refunded"])
	}
	for _, got := range refunds[1:] {
		if got != refunds[0] {
			t.Errorf("refunds differ by the spelling of zero: %v", refunds)
			break
		}
	}
	if r := srv.do(t, "POST", "/api/credits/missions/zma/complete", `{"actual_cost":-0.5}`); r.status != http.StatusUnprocessableEntity && r.status != http.StatusConflict {
		t.Errorf("negative actual_cost = %d, want a 4xx refusal", r.status)
	}
}
