package load

import (
	"fmt"
	"io"
	"time"
)

// Progress is a snapshot passed to Config.Progress every ProgressEvery.
type Progress struct {
	Phase      string
	Elapsed    time.Duration // since the attack start
	Remaining  time.Duration
	TargetRate float64 // the pacer's rate now, hits/s
	Rate       float64 // completed requests per second since the last report
	Completed  int64
	OK         int64
	Expected   int64
	Errors     int64         // unexpected
	P95        time.Duration // overall so far (the phase's during warmup)
}

// PrintProgress returns a Progress callback that writes one line per report to w.
func PrintProgress(w io.Writer) func(Progress) {
	return func(p Progress) {
		fmt.Fprintf(w, "load [%s] %s elapsed, %s left: %.1f req/s (target %.1f), p95 %s, %d ok, %d expected, %d errors\n",
			p.Phase, p.Elapsed.Round(time.Second), p.Remaining.Round(time.Second), p.Rate, p.TargetRate,
			p.P95.Round(10*time.Microsecond), p.OK, p.Expected, p.Errors)
	}
}
