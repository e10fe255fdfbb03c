package load

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPlanIsAPureFunctionOfTheSeed(t *testing.T) {
	a, b := Plan(42, 5000), Plan(42, 5000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed produced different operation sequences")
	}
	if c := Plan(43, 5000); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds produced the same operation sequence")
	}
	if p := Plan(42, 100); !reflect.DeepEqual(p, a[:100]) {
		t.Fatal("a shorter plan is not a prefix of a longer one")
	}
}

func TestPlanCoversTheMixWithUniqueKeysAndSomeRetries(t *testing.T) {
	c := DefaultConfig()
	ops := c.Plan(20_000)
	c = c.withDefaults()
	kinds := map[OpKind]int{}
	keys := map[string]bool{}
	retries := map[RetryMode]int{}
	mutations := 0
	for _, op := range ops {
		kinds[op.Kind]++
		if k := c.Key(op); k != "" {
			if keys[k] {
				t.Fatalf("idempotency key %s used by two planned ops", k)
			}
			keys[k] = true
		}
		if op.Kind.Mutation() {
			mutations++
		}
		retries[op.Retry]++
		if op.Kind == KindCollaboration {
			seen := map[int]bool{}
			for _, m := range op.Members {
				if seen[m] {
					t.Fatalf("collaboration %d repeats member %d", op.ID, m)
				}
				seen[m] = true
			}
			if len(op.Members) < 2 || len(op.ScoresPct) != len(op.Members) {
				t.Fatalf("collaboration %d has %d members", op.ID, len(op.Members))
			}
		}
		if (op.Kind == KindRefill || op.Kind == KindConsume || op.Kind == KindRefund) && op.AmountMilli >= 500_000 {
			t.Fatalf("op %d amount %d would be gated", op.ID, op.AmountMilli)
		}
	}
	for _, k := range []OpKind{KindConsume, KindRefund, KindRefill, KindBalance, KindHistory, KindBalances, KindApproval, KindCollaboration} {
		if kinds[k] == 0 {
			t.Errorf("kind %s never planned in 20000 ops", k)
		}
	}
	if retries[RetryImmediate] == 0 || retries[RetryConcurrent] == 0 {
		t.Errorf("retries %v: want both immediate and concurrent", retries)
	}
	if share := float64(retries[RetryImmediate]+retries[RetryConcurrent]) / float64(kinds[KindConsume]+kinds[KindRefund]+kinds[KindRefill]); share < 0.03 || share > 0.07 {
		t.Errorf("retry share %.3f, want ≈ 0.05", share)
	}
}

func TestAmountsAreSentAsExactDecimalCredits(t *testing.T) {
	c := DefaultConfig()
	for milli, want := range map[int64]string{1: "0.001", 1500: "1.5", 100_000: "100", 12_340: "12.34", 1_234_567_891: "1234567.891"} {
		_, _, body := c.request(Op{Kind: KindConsume, AmountMilli: milli})
		if lit := `"amount":` + want + `,`; !strings.Contains(string(body), lit) {
			t.Errorf("consume of %d milli sends %s, want %s", milli, body, lit)
		}
	}
}

func TestNonLoopbackTargetsAreRefusedUnlessAllowed(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8000", "http://127.3.4.5", "http://localhost:1", "http://[::1]:80"} {
		if err := CheckTarget(u, false); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8000", "http://example.com", "https://8.8.8.8", "http://localhost.example.com"} {
		if err := CheckTarget(u, false); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err %v, want ErrNotLoopback", u, err)
		}
		if err := CheckTarget(u, true); err != nil {
			t.Errorf("%s with AllowRemote: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1", "127.0.0.1:80", "http://"} {
		if CheckTarget(u, true) == nil {
			t.Errorf("%s accepted", u)
		}
	}
	// Run refuses before sending anything.
	c := DefaultConfig()
	c.BaseURL = "http://192.0.2.1:8000" // TEST-NET-1, never contacted
	if _, err := Run(t.Context(), c); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Run against a remote host: %v, want ErrNotLoopback", err)
	}
}

func TestValidateBoundsTheProfile(t *testing.T) {
	base := DefaultConfig()
	base.BaseURL = "http://127.0.0.1:1"
	if err := base.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"concurrency":  func(c *Config) { c.Concurrency = maxConcurrency + 1 },
		"duration":     func(c *Config) { c.Duration = 25 * time.Hour },
		"gated refill": func(c *Config) { c.RefillMilli = 500_000 },
		"rate":         func(c *Config) { c.Rate = 1e9 },
		"hits":         func(c *Config) { c.Rate = 90_000; c.Duration = 24 * time.Hour },
	} {
		c := base
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, n := range []int{50, 100, 300} {
		p := ProfileFor(n, 10*time.Minute)
		p.BaseURL = base.BaseURL
		if err := p.Validate(); err != nil {
			t.Errorf("profile %d: %v", n, err)
		}
	}
}
