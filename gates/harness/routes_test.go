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
