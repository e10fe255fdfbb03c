package scenarios

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
)

// The recording client records every request through the one history:
// reads with their agent and value, mutations with key, kind, outcome from
// history.Classify, and call ≤ return on one base. It judges nothing.
func TestClientRecordsEveryRequestThroughTheOneHistory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case api + "/balance/a1":
			_, _ = w.Write([]byte(`{"agent_id":"a1","balance":12.345}`))
		case api + "/consume":
			if r.Header.Get("Idempotency-Key") == "ns-k2" {
				w.Header().Set("Idempotent-Replayed", "true")
			}
			_, _ = w.Write([]byte(`{"event_id":"e1"}`))
		case api + "/refund":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"code":"already_decided","winner":{"decision_event_id":"d1"}}`))
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	c.NS = "ns-"
	ctx := t.Context()
	c.Get(ctx, api+"/balance/a1")
	c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Key: "k1", Agent: "a1", AmountMilli: 1500, Body: map[string]any{}})
	c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Key: "k2", Role: history.Retry, Body: map[string]any{}})
	c.Do(ctx, Call{Method: "POST", Path: api + "/refund", Kind: history.KindRefund, Key: "k3", Body: map[string]any{}})
	r := c.Decide(ctx, "r1", "bob", true, "", "k4")
	if r.Op.Outcome != history.Refused || r.Op.WinnerEventID != "d1" || r.Op.Entity != "r1" {
		t.Fatalf("decision reply op: %+v", r.Op)
	}
	ops := c.History.Ops()
	if len(ops) != 5 {
		t.Fatalf("%d ops recorded, want 5", len(ops))
	}
	want := []struct {
		kind    history.Kind
		outcome history.Outcome
		key     string
	}{
		{history.KindReadBalance, history.OK, ""},
		{history.KindConsume, history.OK, "ns-k1"},
		{history.KindConsume, history.Replayed, "ns-k2"},
		{history.KindRefund, history.Unknown, "ns-k3"},
		{history.KindApprove, history.Refused, "ns-k4"},
	}
	seen := map[uint64]bool{}
	for i, w := range want {
		o := ops[i]
		if o.Kind != w.kind || o.Outcome != w.outcome || o.Key != w.key {
			t.Errorf("op %d: %s %s %q, want %s %s %q", i, o.Kind, o.Outcome, o.Key, w.kind, w.outcome, w.key)
		}
		if o.CallNs > o.ReturnNs || o.ReturnNs > int64(time.Minute) {
			t.Errorf("op %d: times %d..%d", i, o.CallNs, o.ReturnNs)
		}
		if seen[o.ID] || o.ID == 0 {
			t.Errorf("op %d: id %d not unique", i, o.ID)
		}
		seen[o.ID] = true
	}
	if ops[0].Agent != "a1" || !ops[0].HasRead || ops[0].ReadMilli != 12_345 {
		t.Errorf("balance read: %+v", ops[0])
	}
	if ops[1].Agent != "a1" || ops[1].AmountMilli != 1500 || ops[1].EventID != "e1" {
		t.Errorf("consume: %+v", ops[1])
	}
}

// Behind a cluster's proxy one instance's "healthy" says nothing about the
// instance the next request lands on: with Instances set, health is the
// worst state over every instance, and an instance that does not answer is
// worse than a degraded one.
func TestHealthOfAClusterIsTheWorstInstanceState(t *testing.T) {
	serve := func(state string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"status":"ok","state":"` + state + `"}`))
		}))
	}
	healthy, degraded := serve("healthy"), serve("degraded")
	defer healthy.Close()
	defer degraded.Close()
	down := serve("healthy")
	down.Close()
	ctx := t.Context()
	for _, tc := range []struct {
		instances []string
		want      string
	}{
		{nil, "healthy"}, // the proxy (here: BaseURL) alone
		{[]string{healthy.URL, healthy.URL}, "healthy"},
		{[]string{healthy.URL, degraded.URL, healthy.URL}, "degraded"},
		{[]string{degraded.URL, down.URL, healthy.URL}, ""},
	} {
		c := NewClient(healthy.URL, "")
		c.Instances = tc.instances
		if got := c.HealthState(ctx); got != tc.want {
			t.Errorf("instances %v: health %q, want %q", tc.instances, got, tc.want)
		}
	}
	c := NewClient(healthy.URL, "")
	c.Instances = []string{healthy.URL, degraded.URL}
	if st, _ := c.WaitHealth(ctx, 300*time.Millisecond, "healthy"); st != "degraded" {
		t.Errorf("WaitHealth with one instance degraded returned %q", st)
	}
}

// A key sent in the body (SPEC §3: header or idempotency_key member) is
// namespaced like a header key, travels without the header, and the
// history records it as the op's key.
func TestKeyInBodyTravelsInTheBodyAndIsRecorded(t *testing.T) {
	var header, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Idempotency-Key")
		b := make([]byte, 512)
		n, _ := r.Body.Read(b)
		body = string(b[:n])
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"event_id":"e1"}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	c.NS = "ns-"
	r := c.Do(t.Context(), Call{Method: "POST", Path: api + "/consume", Key: "k1", KeyInBody: true,
		Body: map[string]any{"agent_id": "a1", "idempotency_key": "stale"}})
	if header != "" || body != `{"idempotency_key":"ns-k1","agent_id":"a1"}` || r.Op.Key != "ns-k1" {
		t.Fatalf("header %q body %s op key %q", header, body, r.Op.Key)
	}
	if got := string(WithBodyKey([]byte(`{}`), "k")); got != `{"idempotency_key":"k"}` {
		t.Fatalf("empty object: %s", got)
	}
}
