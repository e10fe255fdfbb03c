package explore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// slowTrap is a fakeFaults whose failing trap catches its batch 200 ms
// after it is armed, and records when.
type slowTrap struct {
	fakeFaults
	mu    sync.Mutex
	traps []trapTimes
}

type trapTimes struct {
	marker          string
	armed, caughtAt int64
}

// caughtFor is when the failing trap on marker armed last before call
// caught its batch (0: none).
func (f *slowTrap) caughtFor(marker string, call int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at int64
	for _, tr := range f.traps {
		if tr.marker == marker && tr.armed <= call {
			at = tr.caughtAt
		}
	}
	return at
}

func (f *slowTrap) TrapBatch(ctx context.Context, marker string, hold time.Duration, fail bool) (<-chan struct{}, func(context.Context) error, error) {
	if !fail {
		return f.fakeFaults.TrapBatch(ctx, marker, hold, fail)
	}
	caught := make(chan struct{})
	f.mu.Lock()
	f.traps = append(f.traps, trapTimes{marker: marker, armed: time.Now().UnixNano()})
	i := len(f.traps) - 1
	f.mu.Unlock()
	go func() {
		time.Sleep(200 * time.Millisecond)
		f.mu.Lock()
		f.traps[i].caughtAt = time.Now().UnixNano()
		f.mu.Unlock()
		close(caught)
	}()
	return caught, func(context.Context) error { return f.note("cut") }, f.note("trap " + marker)
}

// The concurrent retry of a debit in the batch whose sync fails goes out
// where it tests something on any machine, and a group with a retry still
// has room for the reads of its agent: behind a holder, 30 ms after
// its original, inside the holder's hold (decided in the failing batch,
// waiting on the key), before the failing sync catches anything; without
// a holder, only once that sync has caught its original's batch (sent on a
// timer, it joins that batch on a loaded machine).
func TestExploreRetriesAFailingBatchsDebitWhereItsTimingIsKnown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "GET" || strings.HasSuffix(r.URL.Path, "/agents") {
			fmt.Fprint(w, `{"balance":100}`)
			return
		}
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"code":"insufficient_credits","detail":"no"}`)
	}))
	defer srv.Close()
	inBatch, afterCatch, reads := 0, 0, 0
	for seed := uint64(1); seed <= 16; seed++ {
		f := &slowTrap{}
		run, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: seed, Commands: 300,
			Settings: DefaultSettings(), Principals: Principals("x-"), Faults: f})
		if err != nil {
			t.Fatal(err)
		}
		members := map[int]int{}
		for _, c := range run.Commands {
			if c.Group > 0 {
				if members[c.Group]++; members[c.Group] > maxGroup {
					t.Errorf("seed %d: group %d has more than %d members: the judge tries every order of them", seed, c.Group, maxGroup)
				}
			}
		}
		for _, c := range run.Commands {
			if strings.Contains(c.Note, "a read while the debits wait for their sync") {
				reads++
			}
			if c.RetryOf < 0 {
				continue
			}
			orig := run.Commands[c.RetryOf]
			var body struct {
				Agent string `json:"agent_id"`
			}
			_ = json.Unmarshal(orig.Body, &body)
			at := f.caughtFor(strconv.Quote(body.Agent), orig.CallNs)
			caughtBetween := at != 0 && at <= c.CallNs
			switch {
			case strings.Contains(c.Note, "failing sync holds its batch"):
				afterCatch++
				if !caughtBetween {
					t.Errorf("seed %d: retry #%d went out %v after its original, before the failing sync caught the batch",
						seed, c.N, time.Duration(c.CallNs-orig.CallNs))
				}
			case strings.Contains(c.Note, "right behind it, in the batch that fails"):
				inBatch++
				if caughtBetween {
					t.Errorf("seed %d: retry #%d went out after the failing sync caught its original's batch: it can no longer join it", seed, c.N)
				}
			}
		}
	}
	if inBatch == 0 || afterCatch == 0 || reads == 0 {
		t.Fatalf("retries in the failing batch: %d, after its sync was caught: %d, reads during it: %d; want each", inBatch, afterCatch, reads)
	}
}

// The failed batch always holds a refusal its first debit causes: when the
// debits left after the group's cap all fit the balance together, the last
// asks for what the first leaves plus 0.001 (it would fit alone); a group
// that already overdraws is left as drawn.
func TestTheFailedBatchHoldsARefusalItsFirstDebitCauses(t *testing.T) {
	debit := func(amount string) prepared {
		return prepared{method: "POST", path: api + "/withdraw", body: map[string]any{"agent_id": "a", "amount": json.Number(amount)}}
	}
	read := prepared{method: "GET", path: api + "/balance/a"}
	for _, tc := range []struct {
		name    string
		preps   []prepared
		balance int64
		want    string // the last debit's amount afterwards
	}{
		{"two that fit after the cap", []prepared{debit("5"), {dup: true, method: "POST"}, debit("5"), read, read}, 10_000, "5.001"},
		{"a balance too small to split", []prepared{debit("0.001"), debit("0.001"), debit("0.001"), debit("0.001")}, 5, "0.005"},
		{"already overdrawn", []prepared{debit("4"), debit("4"), debit("4")}, 10_000, "4"},
		{"one debit: nothing to refuse behind", []prepared{debit("4"), read}, 10_000, "4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.preps[0].body
			got := refusedBehindFirst(tc.preps, tc.balance)
			last := -1
			for i, p := range got {
				if p.method == "POST" && !p.dup {
					last = i
				}
			}
			if a := got[last].body["amount"]; a != json.Number(tc.want) {
				t.Fatalf("last debit asks %v, want %s", a, tc.want)
			}
			if tc.want != "4" && got[last].path != api+"/consume" {
				t.Fatalf("a raised debit goes to %s, want consume (a withdrawal may be gated)", got[last].path)
			}
			if got[0].body["amount"] != first["amount"] {
				t.Fatalf("the first debit changed: %v", got[0].body)
			}
		})
	}
}
