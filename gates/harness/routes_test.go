package harness

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/gates/catalog"
)

// originalLike serves the original's routes the way a FastAPI service does:
// unknown paths answer {"detail":"Not Found"}, an unknown agent a 404 with
// its own detail, a body missing fields 422.
func originalLike(withDoc bool) http.Handler {
	mux := http.NewServeMux()
	notFound := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
	}
	for _, p := range []string{"/api/credits/agents", "/api/credits/consume", "/api/credits/refund", "/api/credits/add"} {
		mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"detail":[{"loc":["body","agent_id"],"msg":"field required"}]}`))
		})
	}
	for _, p := range []string{"/api/credits/balance/{id}", "/api/credits/history/{id}"} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Agent not found"}`))
		})
	}
	for _, p := range []string{"/api/credits/balances", "/api/credits/health", "/api/credits/info", "/api/credits/metrics", "/api/health"} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	}
	if withDoc {
		mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"openapi":"3.1.0","paths":{"/api/credits/consume":{"post":{}},"/api/credits/balance/{agent_id}":{"get":{}}}}`))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w) })
	return mux
}

func TestRouteDiscoveryFindsExactlyTheOriginalsRoutesByProbing(t *testing.T) {
	for _, withDoc := range []bool{false, true} {
		srv := httptest.NewServer(originalLike(withDoc))
		r := DiscoverRoutes(t.Context(), srv.URL, "")
		srv.Close()
		for _, route := range catalog.OriginalRoutes {
			if !r.Has(route) {
				t.Errorf("doc=%v: %s is served but discovery says not: %s", withDoc, route, r.Why(route))
			}
		}
		for _, route := range []string{catalog.Withdraw, catalog.Digest, catalog.Events, catalog.PoolClose, catalog.ApprovalGet} {
			if r.Has(route) {
				t.Errorf("doc=%v: %s is not served but discovery says it is", withDoc, route)
			}
		}
		n, m := r.Count()
		if n != len(catalog.OriginalRoutes) || m != len(catalog.AllRoutes) {
			t.Errorf("doc=%v: %s", withDoc, r.Summary())
		}
		if !strings.Contains(r.Why(catalog.Withdraw), `404 {"detail":"Not Found"}`) {
			t.Errorf("doc=%v: the reason does not quote the probe's answer: %s", withDoc, r.Why(catalog.Withdraw))
		}
		if withDoc != strings.Contains(r.Source, "OpenAPI document at /openapi.json") {
			t.Errorf("doc=%v: source %q", withDoc, r.Source)
		}
	}
}

func TestRouterNotFoundTellsAMissingRouteFromAnUnknownEntity(t *testing.T) {
	for body, missing := range map[string]bool{
		`{"detail":"Not Found"}`: true, `404 page not found`: true, `{"detail":"no route for GET /x","code":"not_found"}`: true,
		`{"detail":"agent a not found","code":"not_found"}`: false, `{"detail":"Agent not found"}`: false,
	} {
		if got := routerNotFound([]byte(body)); got != missing {
			t.Errorf("routerNotFound(%s) = %v, want %v", body, got, missing)
		}
	}
}

// A router whose answer for a path without a handler names the path in its
// own words ("no route /api/…") is learnt from a path nobody serves, so a
// route the backend lacks is not taken as served because its 404 is JSON
// with a code, as an unknown entity's is.
func TestRouteDiscoveryLearnsTheRoutersOwnNotFoundAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		if strings.HasPrefix(r.URL.Path, "/api/credits/balance/") {
			_, _ = w.Write([]byte(`{"code":"not_found","detail":"agent creditgate-probe-absent not found"}`))
			return
		}
		_, _ = w.Write([]byte(`{"code":"not_found","detail":"no route ` + r.URL.Path + `"}`))
	}))
	defer srv.Close()
	r := DiscoverRoutes(t.Context(), srv.URL, "")
	if !r.Has(catalog.Balance) {
		t.Errorf("GET /balance/{id} answers an unknown entity's 404: served, but discovery says not (%s)", r.Why(catalog.Balance))
	}
	if r.Has(catalog.Withdraw) || r.Has(catalog.PoolClose) {
		t.Errorf("routes answered the router's own 404 taken as served: %s", r.Summary())
	}
}

// The members of a request body are read from the document through $ref and
// allOf, and a concrete path finds its template, the most literal one when
// several match; a route documented without properties documents nothing.
func TestRouteDiscoveryReadsTheDocumentedRequestBodies(t *testing.T) {
	doc := `{"openapi":"3.0.3","paths":{
	  "/api/credits/pools/{pool_id}/close":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Close"}}}}}},
	  "/api/credits/pools/{pool_id}/{op}":{"post":{"requestBody":{"content":{"application/json":{"schema":{"properties":{"x":{}}}}}}}},
	  "/api/credits/missions":{"post":{"requestBody":{"content":{"application/json":{"schema":{"allOf":[{"$ref":"#/components/schemas/Keyed"},{"properties":{"mission_id":{},"agent_id":{}}}]}}}}}},
	  "/api/credits/missions/{id}/cancel":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object"}}}}}}},
	 "components":{"schemas":{"Close":{"properties":{"agent_id":{},"reason":{}}},"Keyed":{"properties":{"idempotency_key":{}}}}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/credits/openapi.json" {
			_, _ = w.Write([]byte(doc))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	r := DiscoverRoutes(t.Context(), srv.URL, "")
	for _, tc := range []struct {
		method, path, route, members string
		ok                           bool
	}{
		{"POST", "/api/credits/pools/p1/close", "POST /api/credits/pools/{}/close", "agent_id,reason", true},
		{"POST", "/api/credits/pools/p1/allocate", "POST /api/credits/pools/{}/{}", "x", true},
		{"POST", "/api/credits/missions", "POST /api/credits/missions", "agent_id,idempotency_key,mission_id", true},
		{"POST", "/api/credits/missions/m1/cancel", "", "", false},
		{"GET", "/api/credits/missions", "", "", false},
		{"POST", "/api/credits/consume", "", "", false},
	} {
		route, members, ok := r.BodyMembers(tc.method, tc.path)
		if ok != tc.ok || route != tc.route || strings.Join(members, ",") != tc.members {
			t.Errorf("%s %s: %q %v %v, want %q %s %v", tc.method, tc.path, route, members, ok, tc.route, tc.members, tc.ok)
		}
	}
	if !strings.Contains(r.Summary(), "it documents 3 request bodies") {
		t.Errorf("summary: %s", r.Summary())
	}
}

// The explorer asks per request whether its route is served: a concrete
// path is matched to the catalog route with the most literal segments, and
// a path no catalog route names counts as served.
func TestServesPathMatchesConcretePathsToTheServedRoutes(t *testing.T) {
	r := RoutesServing(catalog.Consume, catalog.Balance, catalog.ApprovalAudit)
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/credits/consume", true},
		{"GET", "/api/credits/balance/a1", true},
		{"GET", "/api/credits/approvals/audit?limit=5", true},
		{"GET", "/api/credits/approvals/r1", false},
		{"POST", "/api/credits/missions/m1/rate", false},
		{"POST", "/api/credits/withdraw", false},
		{"GET", "/api/credits/consume", true}, // no catalog route: not ours to withhold
	} {
		if got := r.ServesPath(c.method, c.path); got != c.want {
			t.Errorf("%s %s: served %v, want %v", c.method, c.path, got, c.want)
		}
	}
}
