package main

import (
	"context"
	"flag"
	"time"

	"github.com/creditgate/creditgate/gates/signoff"
)

// cmdKnee maps the knee search's flags to gates/signoff.
func cmdKnee(args []string) int {
	fs := flag.NewFlagSet("knee", flag.ContinueOnError)
	o := signoff.KneeOptions{}
	fs.Float64Var(&o.From, "from", 200, "first rate (req/s)")
	fs.Float64Var(&o.Step, "step", 200, "rate increment (req/s)")
	fs.Float64Var(&o.Max, "max", 5000, "stop at this rate")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "load per step (after a 3 s ramp)")
	fs.IntVar(&o.Concurrency, "concurrency", 300, "max in-flight requests")
	fs.Float64Var(&o.P95Ms, "p95-ms", 500, "P95 bound (ms)")
	fs.Float64Var(&o.P99Ms, "p99-ms", 50, "P99 bound (ms)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	return signoff.Knee(context.Background(), o)
}
