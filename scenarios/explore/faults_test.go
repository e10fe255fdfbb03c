package explore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios"
)

type fakeFaults struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeFaults) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}
func (f *fakeFaults) Kill(context.Context) error    { return f.note(FaultKill) }
func (f *fakeFaults) Restart(context.Context) error { return f.note(FaultRestart) }
func (f *fakeFaults) PowerCut(context.Context) error {
	return fmt.Errorf("%w: no power-loss layer here", ErrUnavailable)
}
func (f *fakeFaults) Karma(_ context.Context, m KarmaMode) error { return f.note("karma " + m.Kind) }
func (f *fakeFaults) TrapBatch(_ context.Context, marker string, _ time.Duration, fail bool) (<-chan struct{}, func(context.Context) error, error) {
	caught := make(chan struct{})
	close(caught)
	end := "released"
	if fail {
		end = "cut"
	}
	return caught, func(context.Context) error { return f.note(end) }, f.note(fmt.Sprintf("trap %s fail=%v", marker, fail))
}

// Faults land among the commands, at most MaxFaults of them, some inside a
// concurrent group right after a refusal; an unavailable kind is recorded
// skipped with its reason and never drawn again.
func TestExploreLandsBoundedFaultsAmongConcurrentCommands(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" || strings.HasSuffix(r.URL.Path, "/agents"):
			fmt.Fprint(w, `{"balance":100}`)
		default:
			time.Sleep(time.Millisecond)
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"code":"insufficient_credits","detail":"no"}`)
		}
	}))
	defer srv.Close()
	f := &fakeFaults{}
	batchFails := 0
	for seed := uint64(1); seed <= 4; seed++ {
		run, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: seed, Commands: 400,
			Settings: DefaultSettings(), Principals: Principals("x-"), Faults: f})
		if err != nil {
			t.Fatal(err)
		}
		injected, skipped, groups, mid := 0, 0, map[int]bool{}, 0
		for _, c := range run.Commands {
			switch {
			case c.Fault != "" && c.Skip != "":
				skipped++
				if c.Fault != FaultPowerCut {
					t.Errorf("seed %d: %s skipped: %s", seed, c.Fault, c.Skip)
				}
			case c.Fault == FaultBatchFails:
				injected++
				batchFails++
				// Its window spans the group it failed: the judge reads
				// each member without an answer as possibly executed.
				g := run.Commands[c.N-1]
				for k := c.N - 1; k > 0 && g.Group == 0; k-- {
					g = run.Commands[k]
				}
				if g.Group == 0 || g.CallNs < c.CallNs || g.ReturnNs > c.ReturnNs {
					t.Errorf("seed %d: #%d %s does not span the group before it (#%d, group %d)", seed, c.N, c.Fault, g.N, g.Group)
				}
			case c.Fault != "" && c.Fault != FaultKarmaUp:
				injected++
				if strings.Contains(c.Note, "in flight") {
					mid++
				}
			case c.Group != 0:
				groups[c.Group] = true
			}
		}
		if injected == 0 || injected > DefaultMaxFaults || skipped > 1 || len(groups) == 0 {
			t.Errorf("seed %d: %d faults injected, %d skipped, %d groups", seed, injected, skipped, len(groups))
		}
		t.Logf("seed %d: %d faults (%d inside a group), %d groups", seed, injected, mid, len(groups))
	}
	if batchFails == 0 {
		t.Errorf("no failed batch sync in 4 seeds")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	armed := 0
	for _, c := range f.calls {
		switch {
		case strings.HasPrefix(c, "trap "):
			armed++
		case c == "cut" || c == "released":
			armed--
		case armed != 0:
			t.Errorf("%s while %d sync trap(s) were armed", c, armed)
		}
	}
	if armed != 0 {
		t.Errorf("%d sync trap(s) never ended", armed)
	}
}
