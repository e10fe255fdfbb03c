package explore

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios"
)

// fakeBackend acknowledges every request with the fields the explorer
// reads back (balances, a mission estimate) and records what it got.
type fakeBackend struct {
	mu   sync.Mutex
	reqs []fakeReq
}

type fakeReq struct {
	method, path, header string
	body                 map[string]any
}

func (f *fakeBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeReq{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), body})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == api+"/agents":
		_, _ = w.Write([]byte(`{"balance":900}`))
	case r.URL.Path == api+"/missions":
		_, _ = w.Write([]byte(`{"payload":{"estimate_milli":5000}}`))
	case strings.HasSuffix(r.URL.Path, "/synergie/collaborations"):
		_, _ = w.Write([]byte(`{"rewards":[]}`))
	default:
		_, _ = w.Write([]byte(`{"balance_after":800}`))
	}
}

func exploreFake(t *testing.T, seed uint64) (*Run, *fakeBackend) {
	f := &fakeBackend{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := scenarios.NewClient(srv.URL, "")
	s := DefaultSettings()
	run, err := Explore(t.Context(), c, Config{Seed: seed, Commands: 900, Budget: 20 * time.Second, Prefix: "t-", Settings: s,
		Principals: Principals("t-")})
	if err != nil {
		t.Fatal(err)
	}
	return run, f
}

// The boundaries the blind bugs sat on are reached within one run of the
// explorer's size, from the seed alone: keys in the body (no header) whose
// retries keep the placement, refunds naming another agent's mission,
// non-members consuming from a pool, collaboration score keys outside
// agent_ids, and pools and balances at the threshold and the estimate.
func TestExplorerReachesTheBoundariesOfItsClasses(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 42} {
		run, f := exploreFake(t, seed)
		var bodyKeys, bodyRetries, crossRefund, nonMember, scoreOutside, poolAt, estimateAt int
		for _, c := range run.Commands {
			b := decodeMap(c.Body)
			if c.KeyInBody {
				bodyKeys++
				if b["idempotency_key"] != c.Key {
					t.Fatalf("seed %d #%d: key %q in the body, body %s", seed, c.N, c.Key, c.Body)
				}
				if c.RetryOf >= 0 {
					bodyRetries++
				}
			}
			if c.RetryOf >= 0 && c.KeyInBody != run.Commands[c.RetryOf].KeyInBody {
				t.Fatalf("seed %d #%d: a retry of #%d changed where its key travels", seed, c.N, c.RetryOf)
			}
			switch {
			case strings.Contains(c.Note, "another agent's mission"):
				crossRefund++
			case strings.Contains(c.Note, "by a non-member"):
				nonMember++
			case strings.Contains(c.Note, "score key outside agent_ids"):
				scoreOutside++
			case strings.Contains(c.Note, "pool to threshold"):
				poolAt++
			case strings.Contains(c.Note, "at the estimate"):
				estimateAt++
			}
		}
		for _, r := range f.reqs {
			if r.body != nil && r.body["idempotency_key"] != nil && r.header != "" {
				t.Fatalf("seed %d: %s %s sent its key in the body and the header", seed, r.method, r.path)
			}
		}
		counts := map[string]int{"body keys": bodyKeys, "body-keyed retries": bodyRetries, "cross-agent mission refunds": crossRefund,
			"non-member pool consumes": nonMember, "score keys outside the team": scoreOutside, "pools driven to the threshold": poolAt,
			"mission starts at the estimate": estimateAt}
		for what, n := range counts {
			if n == 0 {
				t.Errorf("seed %d: no %s in %d commands (%v)", seed, what, len(run.Commands), counts)
			}
		}
	}
}

// Every choice comes from the seed: two runs send the same commands.
func TestExplorerIsReproducibleFromItsSeed(t *testing.T) {
	a, _ := exploreFake(t, 7)
	b, _ := exploreFake(t, 7)
	if len(a.Commands) != len(b.Commands) {
		t.Fatalf("%d vs %d commands", len(a.Commands), len(b.Commands))
	}
	for i := range a.Commands {
		x, y := a.Commands[i], b.Commands[i]
		if x.Method != y.Method || x.Path != y.Path || string(x.Body) != string(y.Body) || x.Key != y.Key || x.Note != y.Note {
			t.Fatalf("#%d differs:\n%s %s %s %s\n%s %s %s %s", i, x.Method, x.Path, x.Body, x.Note, y.Method, y.Path, y.Body, y.Note)
		}
	}
}
