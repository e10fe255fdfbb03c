package explore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// Every drawn setting must be one creditd accepts (threshold ≤ HIGH ≤
// CRITICAL ≤ maximum, synergie base × 1.5 below the threshold, base ≤ cap,
// timeouts ≥ 1 s) and round-trip exactly through its CREDITD_* form.
func TestDrawnSettingsAreValidAndExact(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		s := DrawSettings(rand.New(rand.NewPCG(seed, 1)))
		if !(s.ThresholdMilli > 0 && s.ThresholdMilli <= s.HighMilli && s.HighMilli <= s.CriticalMilli && s.CriticalMilli < s.MaxAmountMilli) {
			t.Fatalf("seed %d: unordered bounds %+v", seed, s)
		}
		if s.SynergieBase*3/2 >= s.ThresholdMilli || s.SynergieBase > s.SynergieCap || s.SynergieBase <= 0 {
			t.Fatalf("seed %d: synergie base %d, cap %d, threshold %d", seed, s.SynergieBase, s.SynergieCap, s.ThresholdMilli)
		}
		for _, d := range []time.Duration{s.TimeoutMedium, s.TimeoutHigh, s.TimeoutCritical} {
			if d < time.Second {
				t.Fatalf("seed %d: timeout %s", seed, d)
			}
		}
		for k, v := range s.Env() {
			if strings.HasPrefix(k, "CREDITD_APPROVAL_TIMEOUT") {
				continue
			}
			if m, ok := parseMilli(v); !ok || m <= 0 {
				t.Fatalf("seed %d: %s=%s does not parse back", seed, k, v)
			}
		}
		if m, _ := parseMilli(s.Env()["CREDITD_APPROVAL_THRESHOLD"]); m != s.ThresholdMilli {
			t.Fatalf("seed %d: threshold %d rendered %s", seed, s.ThresholdMilli, s.Env()["CREDITD_APPROVAL_THRESHOLD"])
		}
	}
}

// The grammar covers every body schema of the shipped OpenAPI document
// (read as a file, never imported) and the reserved '#'.
func TestGrammarCasesCoverTheDocument(t *testing.T) {
	doc, err := os.ReadFile("../../engine/httpapi/openapi.json")
	if err != nil {
		t.Skip("no openapi.json beside the module: ", err)
	}
	n := 0
	cases, err := GrammarCases(doc, "agent", func() string { n++; return "x" + string(rune('a'+n%26)) })
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	var hash, nested bool
	for _, c := range cases {
		if strings.HasSuffix(c.Name, ": valid base body") {
			routes[c.Method+" "+c.Path] = true
		}
		if strings.Contains(c.Key, "#") && !c.Valid {
			hash = true
		}
		if strings.Contains(c.Name, "at depth 4") {
			nested = true
		}
	}
	if len(routes) < 20 || !hash || !nested || len(cases) < 800 {
		t.Fatalf("%d cases over %d routes (reserved '#': %v, depth 4: %v)", len(cases), len(routes), hash, nested)
	}
}

// The fault plan is drawn from the seed alone, bounded, and never draws a
// kind the target could not take.
func TestFaultPlanIsSeededAndBounded(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		cfg := Config{Seed: seed, Commands: 900, MaxFaults: DefaultMaxFaults}
		a, b := newFaultPlan(cfg), newFaultPlan(cfg)
		if len(a.at) < 3 || len(a.at) > DefaultMaxFaults || fmt.Sprint(a.at) != fmt.Sprint(b.at) {
			t.Fatalf("seed %d: plan %v vs %v", seed, a.at, b.at)
		}
		for _, n := range a.at {
			if n < 30 || n >= cfg.Commands {
				t.Fatalf("seed %d: a fault at command %d", seed, n)
			}
		}
		a.unavail[FaultPowerCut], a.unavail[FaultKarmaDown] = "no layer", "no stub"
		for i := 0; i < 50; i++ {
			if k := a.drawKind(i%2 == 0); k == FaultPowerCut || k == FaultKarmaDown || k == "" {
				t.Fatalf("seed %d: drew %q", seed, k)
			}
		}
	}
}
