package signoff

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios/load"
)

// KneeOptions is one knee search.
type KneeOptions struct {
	From, Step, Max float64       // rates (req/s): first, increment, last
	Duration        time.Duration // load per step (after a 3 s ramp)
	Concurrency     int           // max in-flight requests
	P95Ms, P99Ms    float64       // latency bounds
	Stdout          io.Writer     // the table (default: the process's)
}

// Knee finds the highest constant rate at which the target keeps P95 and
// P99 under their bounds with ≥ 99% of the rate achieved: it steps the
// rate up until a step fails, one fresh target (from the environment) for
// the whole search. It returns 0 when some rate met every bound.
func Knee(ctx context.Context, o KneeOptions) int {
	w := o.Stdout
	if w == nil {
		w = os.Stdout
	}
	cfg := target.ConfigFromEnv()
	t, err := target.New(ctx, cfg)
	if t != nil {
		defer t.Terminate(context.Background())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditgate: booting the target: %v\n", err)
		return 1
	}
	fmt.Fprintf(w, "knee search against %s target %s: %s per step, concurrency %d, bounds P95 < %g ms and P99 < %g ms, achieved ≥ 99%%\n",
		t.Kind(), t.BaseURL(), o.Duration, o.Concurrency, o.P95Ms, o.P99Ms)
	fmt.Fprintf(w, "| rate (req/s) | achieved | P50 ms | P95 ms | P99 ms | max ms | unexpected | ok |\n|---|---|---|---|---|---|---|---|\n")
	knee := 0.0
	for i, rate := 0, o.From; rate <= o.Max; i, rate = i+1, rate+o.Step {
		c := load.DefaultConfig()
		c.BaseURL, c.Token, c.Seed, c.Concurrency = t.BaseURL(), t.Token(), uint64(42+i), o.Concurrency
		c.KeyPrefix = fmt.Sprintf("knee%d", i)
		c.Rate, c.Duration = rate, o.Duration+3*time.Second
		c.Phases = []load.Phase{
			{Name: "ramp", Duration: 3 * time.Second, Pacer: load.Ramp(rate/10, rate, 3*time.Second), Warmup: true},
			{Name: "steady", Duration: o.Duration, Pacer: load.Constant(rate)},
		}
		c.Progress = nil
		res, err := load.Run(ctx, c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "creditgate: rate %g: %v\n", rate, err)
			return 1
		}
		st := reports.FromHDR(res.Overall)
		ok := st.P95 < o.P95Ms && st.P99 < o.P99Ms && res.RateRatio() >= 0.99 && res.Unexpected == 0
		fmt.Fprintf(w, "| %.0f | %.1f | %.2f | %.2f | %.2f | %.1f | %d | %v |\n", rate, res.AchievedRate, st.P50, st.P95, st.P99, st.Max, res.Unexpected, ok)
		if !ok {
			break
		}
		knee = rate
	}
	if knee == 0 {
		fmt.Fprintf(w, "\nno rate met the bounds (first step %g req/s)\n", o.From)
		return 1
	}
	fmt.Fprintf(w, "\nknee: %.0f req/s (the highest step meeting every bound)\n", knee)
	return 0
}
