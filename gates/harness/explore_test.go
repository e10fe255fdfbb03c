package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
)

// The generated workload runs on a backend whose tokens the harness cannot
// choose only when the one token it was given may write there; otherwise
// B47/B48 are SKIP with a reason naming the token to give it, never judged
// on refusals.
func TestTheExplorerNeedsATokenThatMayWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		token  string
		writes bool
		why    string
	}{
		{"accepted", http.StatusCreated, "t-admin", true, ""},
		{"no token given", http.StatusUnauthorized, "", false, "no token (CREDITGATE_TOKEN is empty)"},
		{"a reader's token", http.StatusForbidden, "t-reader", false, "the token in CREDITGATE_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var auth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				auth = r.Header.Get("Authorization")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			e := &Env{TCfg: target.Config{Kind: target.KindURL}, NS: "r1b-", C: scenarios.NewClient(srv.URL, "")}
			if ok, _ := e.Has(catalog.CapWriter); !ok {
				t.Fatal("before the probe the writer must be assumed (routes are not known before the boot)")
			}
			e.probeWriter(context.Background(), tc.token, 0)
			if tc.token != "" && auth != "Bearer "+tc.token {
				t.Fatalf("the probe sent Authorization %q", auth)
			}
			ok, why := e.Has(catalog.CapWriter)
			if ok != tc.writes || !strings.Contains(why, tc.why) {
				t.Fatalf("writer %v (%q), want %v naming %q", ok, why, tc.writes, tc.why)
			}
		})
	}
}
