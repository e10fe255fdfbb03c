package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios/load"
)

// cmdKnee finds the highest constant rate at which the target keeps P95 and
// P99 under their bounds with ≥ 99% of the rate achieved: it steps the rate
// up until a step fails, one fresh target for the whole search.
func cmdKnee(args []string) int {
	fs := flag.NewFlagSet("knee", flag.ContinueOnError)
	from := fs.Float64("from", 200, "first rate (req/s)")
	step := fs.Float64("step", 200, "rate increment (req/s)")
	maxRate := fs.Float64("max", 5000, "stop at this rate")
	dur := fs.Duration("duration", 20*time.Second, "load per step (after a 3 s ramp)")
	conc := fs.Int("concurrency", 300, "max in-flight requests")
	p95Max := fs.Float64("p95-ms", 500, "P95 bound (ms)")
	p99Max := fs.Float64("p99-ms", 50, "P99 bound (ms)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	ctx := context.Background()
	cfg := target.ConfigFromEnv()
	t, err := target.New(ctx, cfg)
	if t != nil {
		defer t.Terminate(context.Background())
	}
	if err != nil {
		return fail("booting the target: %v", err)
	}
	fmt.Printf("knee search against %s target %s: %s per step, concurrency %d, bounds P95 < %g ms and P99 < %g ms, achieved ≥ 99%%\n",
		t.Kind(), t.BaseURL(), *dur, *conc, *p95Max, *p99Max)
	fmt.Printf("| rate (req/s) | achieved | P50 ms | P95 ms | P99 ms | max ms | unexpected | ok |\n|---|---|---|---|---|---|---|---|\n")
	knee := 0.0
	for i, rate := 0, *from; rate <= *maxRate; i, rate = i+1, rate+*step {
		c := load.DefaultConfig()
		c.BaseURL, c.Token, c.Seed, c.Concurrency = t.BaseURL(), t.Token(), uint64(42+i), *conc
		c.KeyPrefix = fmt.Sprintf("knee%d", i)
		c.Rate, c.Duration = rate, *dur+3*time.Second
		c.Phases = []load.Phase{
			{Name: "ramp", Duration: 3 * time.Second, Pacer: load.Ramp(rate/10, rate, 3*time.Second), Warmup: true},
			{Name: "steady", Duration: *dur, Pacer: load.Constant(rate)},
		}
		c.Progress = nil
		res, err := load.Run(ctx, c)
		if err != nil {
			return fail("rate %g: %v", rate, err)
		}
		st := reports.FromHDR(res.Overall)
		ok := st.P95 < *p95Max && st.P99 < *p99Max && res.RateRatio() >= 0.99 && res.Unexpected == 0
		fmt.Printf("| %.0f | %.1f | %.2f | %.2f | %.2f | %.1f | %d | %v |\n", rate, res.AchievedRate, st.P50, st.P95, st.P99, st.Max, res.Unexpected, ok)
		if !ok {
			break
		}
		knee = rate
	}
	if knee == 0 {
		fmt.Printf("\nno rate met the bounds (first step %g req/s)\n", *from)
		return 1
	}
	fmt.Printf("\nknee: %.0f req/s (the highest step meeting every bound)\n", knee)
	return 0
}
