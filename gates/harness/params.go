package harness

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
)

// Params are the live-test parameters (orig names), read from LIVE_TEST_*
// and overridable by flags after `--` (e.g. `ginkgo ./gates/a -- -seed=7`).
type Params struct {
	Concurrency        int
	Duration           time.Duration
	RetryInjection     bool
	Seed               uint64
	KarmaEnabled       bool
	MLAnomalyInjection bool
	// Rate is gate E's target request rate (req/s).
	Rate float64
}

var (
	flagConcurrency = flag.Int("concurrency", envInt("LIVE_TEST_CONCURRENCY", 50), "parallel workers: 50, 100 or 300 (LIVE_TEST_CONCURRENCY)")
	flagDuration    = flag.Duration("duration", envDur("LIVE_TEST_DURATION", time.Minute), "gate E load duration; 30m for the nightly soak (LIVE_TEST_DURATION)")
	flagRetry       = flag.Bool("retry-injection", envBool("LIVE_TEST_RETRY_INJECTION", true), "resend a share of mutations with the same idempotency key (LIVE_TEST_RETRY_INJECTION)")
	flagSeed        = flag.Uint64("seed", uint64(envInt("LIVE_TEST_SEED", 42)), "seed of every random choice (LIVE_TEST_SEED)")
	flagKarma       = flag.Bool("karma-enabled", envBool("LIVE_TEST_KARMA_ENABLED", true), "run the KARMA stub and its blackouts (LIVE_TEST_KARMA_ENABLED)")
	flagML          = flag.Bool("ml-anomaly-injection", envBool("LIVE_TEST_ML_ANOMALY_INJECTION", true), "inject anomalous consumes (LIVE_TEST_ML_ANOMALY_INJECTION)")
	flagRate        = flag.Float64("rate", envFloat("LIVE_TEST_RATE", 150), "gate E target rate in requests/s (LIVE_TEST_RATE)")
)

// Load returns the parameters after flag parsing.
func Load() Params {
	return Params{Concurrency: *flagConcurrency, Duration: *flagDuration, RetryInjection: *flagRetry,
		Seed: *flagSeed, KarmaEnabled: *flagKarma, MLAnomalyInjection: *flagML, Rate: *flagRate}
}

// Validate rejects parameters that cannot make a meaningful run.
func (p Params) Validate() error {
	switch {
	case p.Concurrency < 1 || p.Concurrency > 1000:
		return fmt.Errorf("LIVE_TEST_CONCURRENCY=%d: want 1..1000 (profiles: 50, 100, 300)", p.Concurrency)
	case p.Duration < 5*time.Second || p.Duration > 24*time.Hour:
		return fmt.Errorf("LIVE_TEST_DURATION=%s: want 5s..24h", p.Duration)
	case p.Rate <= 0 || p.Rate > 100_000:
		return fmt.Errorf("LIVE_TEST_RATE=%g: want >0 and ≤100000", p.Rate)
	}
	return nil
}

// Repro is the one-line command that reruns a gate with these parameters.
func (p Params) Repro(gate string) string {
	env := []string{
		fmt.Sprintf("LIVE_TEST_SEED=%d", p.Seed),
		fmt.Sprintf("LIVE_TEST_CONCURRENCY=%d", p.Concurrency),
		fmt.Sprintf("LIVE_TEST_DURATION=%s", p.Duration),
		fmt.Sprintf("LIVE_TEST_RETRY_INJECTION=%t", p.RetryInjection),
		fmt.Sprintf("LIVE_TEST_KARMA_ENABLED=%t", p.KarmaEnabled),
		fmt.Sprintf("LIVE_TEST_ML_ANOMALY_INJECTION=%t", p.MLAnomalyInjection),
	}
	for _, k := range []string{"CREDITGATE_TARGET", "CREDITGATE_IMAGE", "CREDITGATE_URL", "CREDITGATE_BINARY", catalog.FocusEnv} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return strings.Join(env, " ") + " make gate-" + strings.ToLower(gate)
}

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

func envFloat(k string, d float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return d
}

func envBool(k string, d bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

func envDur(k string, d time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return v
	}
	return d
}
