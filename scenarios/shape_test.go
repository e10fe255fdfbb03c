package scenarios

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
)

// docs is a BodyDocs of fixed templates ("POST /api/credits/pools/{}").
type docs map[string][]string

func (d docs) BodyMembers(method, path string) (string, []string, bool) {
	for route, members := range d {
		m, p, _ := strings.Cut(route, " ")
		ts, ps := strings.Split(p, "/"), strings.Split(path, "/")
		if m != method || len(ts) != len(ps) {
			continue
		}
		match := true
		for i := range ts {
			match = match && (ts[i] == "{}" || ts[i] == ps[i])
		}
		if match {
			return route, members, true
		}
	}
	return "", nil, false
}

// A backend that refuses every member it does not document (as SPEC §6
// lets it, for pools and missions) gets the workloads' bodies in its own
// shape: a renamed member under its documented name, an undocumented one
// left out, a pool's members added through its members route after the
// create, each add keyed from the create's key; on a route it documents
// nothing for, and on a route SPEC names the body of, the body goes as
// written.
func TestBodiesOnBackendShapedRoutesAreFittedToTheDocumentedOnes(t *testing.T) {
	d := docs{
		"POST /api/credits/pools":                {"pool_id", "name"},
		"POST /api/credits/pools/{}/members":     {"agent_id"},
		"POST /api/credits/pools/{}/close":       {"agent_id", "reason"},
		"POST /api/credits/missions/{}/cancel":   {"reason"},
		"POST /api/credits/missions/{}/complete": {"actual_cost"},
		"POST /api/credits/consume":              {"agent_id"},
	}
	var mu sync.Mutex
	var got []string // "path key body"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Idempotency-Key")+" "+string(raw))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		if _, members, ok := d.BodyMembers(r.Method, r.URL.Path); ok {
			for k := range body {
				if !slices.Contains(members, k) {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"code":"unknown_field","detail":"` + k + `"}`))
					return
				}
			}
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	c.Bodies = d
	ctx := t.Context()
	create := c.Do(ctx, Call{Method: "POST", Path: api + "/pools", Kind: history.KindPoolCreate, Key: "pc",
		Body: map[string]any{"pool_id": "p1", "name": "n", "members": []string{"a1", "a2"}}})
	closed := c.Do(ctx, Call{Method: "POST", Path: api + "/pools/p1/close", Key: "cl", Body: map[string]any{"refund_to": "a1"}})
	cancel := c.Do(ctx, Call{Method: "POST", Path: api + "/missions/m1/cancel", Key: "mc", Body: map[string]any{"actual_cost": 1}})
	rated := c.Do(ctx, Call{Method: "POST", Path: api + "/missions/m1/rate", Key: "mr", Body: map[string]any{"rating": 0.5}})
	consume := c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Key: "co", Body: map[string]any{"agent_id": "a1", "amount": 1}})
	for name, r := range map[string]Reply{"create": create, "close": closed, "cancel": cancel, "rate (undocumented route)": rated} {
		if r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if consume.Status != http.StatusBadRequest {
		t.Errorf("a body SPEC names was fitted: consume answered %d", consume.Status)
	}
	want := []string{
		`/api/credits/pools pc {"name":"n","pool_id":"p1"}`,
		`/api/credits/pools/p1/members pc-member-0 {"agent_id":"a1"}`,
		`/api/credits/pools/p1/members pc-member-1 {"agent_id":"a2"}`,
		`/api/credits/pools/p1/close cl {"agent_id":"a1"}`,
		`/api/credits/missions/m1/cancel mc {}`,
		`/api/credits/missions/m1/rate mr {"rating":0.5}`,
		`/api/credits/consume co {"agent_id":"a1","amount":1}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	kinds := []history.Kind{}
	for _, op := range c.History.Ops() {
		kinds = append(kinds, op.Kind)
	}
	if kinds[1] != history.KindPoolMember || kinds[2] != history.KindPoolMember {
		t.Errorf("the member adds are recorded as %v", kinds)
	}
	notes := strings.Join(c.Fitted(), "\n")
	for _, n := range []string{"refund_to sent as agent_id", "members added one by one", "actual_cost left out"} {
		if !strings.Contains(notes, n) {
			t.Errorf("the fitted notes do not say %q:\n%s", n, notes)
		}
	}
}

// A member that carries meaning and has no documented name to go under is
// sent as written (the backend's refusal then says the body is not its
// shape), and a refused create adds no members.
func TestAMemberWithoutADocumentedPlaceIsSentAsWritten(t *testing.T) {
	d := docs{"POST /api/credits/pools": {"pool_id"}, "POST /api/credits/pools/{}/close": {"reason"}}
	f, ok := fitBody(d, "POST", api+"/pools/p1/close", map[string]any{"refund_to": "a1", "name": "x"})
	if !ok || f.body["refund_to"] != "a1" || f.body["name"] != nil || len(f.members) != 0 {
		t.Fatalf("close fitted to %+v", f)
	}
	// No members route documented: the members stay in the create.
	f, _ = fitBody(d, "POST", api+"/pools", map[string]any{"pool_id": "p1", "members": []any{"a1"}})
	if f.body["members"] == nil || f.members != nil {
		t.Fatalf("create fitted to %+v", f)
	}
}
