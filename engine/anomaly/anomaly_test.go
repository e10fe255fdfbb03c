package anomaly

import (
	"crypto/sha256"
	"errors"
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// feed observes the amounts for one agent in order.
func feed(d *Detector, agent string, amounts ...int64) {
	for _, a := range amounts {
		d.Observe(agent, a)
	}
}

func TestNeverFlagsBeforeMinSamples(t *testing.T) {
	for _, minSamples := range []int{1, 3, 5, 20} {
		t.Run(strconv.Itoa(minSamples), func(t *testing.T) {
			d := New(Config{MinSamples: minSamples})
			for i := 0; i < minSamples; i++ {
				// Enormous amounts must not be flagged while warming up.
				if v := d.Check("a", 1_000_000_000); v.Detected && i < minSamples {
					t.Fatalf("flagged after %d samples (< MinSamples %d): %+v", i, minSamples, v)
				}
				d.Observe("a", 1000)
			}
			if v := d.Check("a", 1_000_000_000); !v.Detected {
				t.Fatalf("not flagged after MinSamples=%d samples", minSamples)
			}
		})
	}
}

func TestFlagsTenTimesTheMeanWithReasonMeanFactor(t *testing.T) {
	tests := []struct {
		name    string
		history []int64
		amount  int64
		want    Verdict
	}{
		{"exactly 10x constant", []int64{1000, 1000, 1000, 1000, 1000}, 10_000, Verdict{true, 10, ReasonMeanFactor}},
		{"far above", []int64{1000, 1000, 1000, 1000, 1000}, 50_000, Verdict{true, 50, ReasonMeanFactor}},
		{"10x varying mean", []int64{500, 1500, 1000, 800, 1200}, 10_000, Verdict{true, 10, ReasonMeanFactor}},
		{"just below 10x constant is not flagged (std 0)", []int64{1000, 1000, 1000, 1000, 1000}, 9_999, Verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Config{})
			feed(d, "a", tt.history...)
			if got := d.Check("a", tt.amount); got != tt.want {
				t.Fatalf("Check(%d) = %+v, want %+v", tt.amount, got, tt.want)
			}
		})
	}
}

func TestFlagsZScoreAboveBound(t *testing.T) {
	d := New(Config{})
	// mean 1000, sample std ≈ 10.5
	feed(d, "a", 990, 1010, 1000, 990, 1010, 1000, 990, 1010, 1000, 1000)
	_, mean, std := d.Stats("a")
	amount := int64(math.Ceil(mean + 5*std))
	v := d.Check("a", amount)
	if !v.Detected || v.Reason != ReasonZScore || v.Score <= 4 {
		t.Fatalf("Check(%d) with mean %.1f std %.1f = %+v, want z_score > 4", amount, mean, std, v)
	}
	if v := d.Check("a", int64(mean+3*std)); v.Detected {
		t.Fatalf("z ≈ 3 flagged: %+v", v)
	}
}

func TestNormalAmountsAreNotFlagged(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	d := New(Config{})
	flagged := 0
	for i := 0; i < 10_000; i++ {
		amount := int64(10_000 + rng.NormFloat64()*1_000) // mean 10 credits, sd 1 credit
		if d.Check("a", amount).Detected {
			flagged++
		}
		d.Observe("a", amount)
	}
	// A normal sample beyond 4 sd has probability ≈ 3e-5; allow a couple.
	if flagged > 3 {
		t.Fatalf("%d of 10000 normal amounts flagged", flagged)
	}
}

func TestFlaggedSamplesDoNotShiftTheNorm(t *testing.T) {
	d := New(Config{})
	feed(d, "a", 1000, 1000, 1000, 1000, 1000)
	for i := 0; i < 50; i++ {
		if v := d.Check("a", 10_000); !v.Detected {
			t.Fatalf("injection %d at 10x the norm not flagged: %+v", i, v)
		}
		d.Observe("a", 10_000)
	}
	if n, mean, _ := d.Stats("a"); n != 5 || mean != 1000 {
		t.Fatalf("stats moved by flagged samples: n=%d mean=%v", n, mean)
	}
	if got := d.Flagged("a"); got != 50 {
		t.Fatalf("Flagged = %d, want 50", got)
	}
}

func TestCheckDoesNotMutate(t *testing.T) {
	d := New(Config{})
	feed(d, "a", 1000, 2000, 3000, 4000, 5000)
	before := digest(d)
	for _, amt := range []int64{1, 3000, 1_000_000, -5} {
		d.Check("a", amt)
		d.Check("unknown", amt)
	}
	if digest(d) != before {
		t.Fatal("Check changed the detector state")
	}
}

func TestStatsMatchTwoPassComputation(t *testing.T) {
	d := New(Config{})
	xs := []int64{1200, 800, 1000, 1100, 900, 1050, 950}
	feed(d, "a", xs...)
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (float64(x) - mean) * (float64(x) - mean)
	}
	std := math.Sqrt(ss / float64(len(xs)-1))
	n, gm, gs := d.Stats("a")
	if n != int64(len(xs)) || math.Abs(gm-mean) > 1e-9 || math.Abs(gs-std) > 1e-9 {
		t.Fatalf("Stats = %d %v %v, want %d %v %v", n, gm, gs, len(xs), mean, std)
	}
}

func TestMemoryBoundedEvictsLeastRecentlyObserved(t *testing.T) {
	d := New(Config{MaxAgents: 3})
	feed(d, "a", 1)
	feed(d, "b", 1)
	feed(d, "c", 1)
	feed(d, "a", 1) // a is now most recent; b is least recent
	feed(d, "d", 1)
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	if n, _, _ := d.Stats("b"); n != 0 {
		t.Fatal("least recently observed agent b was not evicted")
	}
	for _, id := range []string{"a", "c", "d"} {
		if n, _, _ := d.Stats(id); n == 0 {
			t.Fatalf("agent %s evicted", id)
		}
	}
}

func TestReplayOfSameSequenceYieldsIdenticalStateAndVerdicts(t *testing.T) {
	type op struct {
		agent  string
		amount int64
	}
	rng := rand.New(rand.NewSource(7))
	var ops []op
	for i := 0; i < 20_000; i++ {
		amt := int64(1 + rng.Intn(50_000))
		if rng.Intn(50) == 0 {
			amt *= 20
		}
		ops = append(ops, op{"agent-" + strconv.Itoa(rng.Intn(300)), amt})
	}
	run := func() ([]Verdict, [32]byte) {
		d := New(Config{MaxAgents: 200}) // exercise eviction too
		vs := make([]Verdict, 0, len(ops))
		for _, o := range ops {
			vs = append(vs, d.Check(o.agent, o.amount))
			d.Observe(o.agent, o.amount)
		}
		return vs, digest(d)
	}
	v1, d1 := run()
	v2, d2 := run()
	if d1 != d2 {
		t.Fatal("same sequence folded twice gives different digests")
	}
	flagged := 0
	for i := range v1 {
		if v1[i] != v2[i] {
			t.Fatalf("verdict %d differs on replay: %+v vs %+v", i, v1[i], v2[i])
		}
		if err := v1[i].Validate(); err != nil {
			t.Fatalf("verdict %d breaks the contract: %v", i, err)
		}
		if v1[i].Detected {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatal("stream with injected anomalies produced no flags")
	}
}

func TestDigestIndependentOfAgentInsertionMapOrder(t *testing.T) {
	// Same per-agent sequences and same Observe order → same digest across
	// independently built maps (Go randomises map iteration).
	for i := 0; i < 5; i++ {
		a, b := New(Config{}), New(Config{})
		for j := 0; j < 100; j++ {
			id := "agent-" + strconv.Itoa(j)
			a.Observe(id, int64(j+1))
			b.Observe(id, int64(j+1))
		}
		if digest(a) != digest(b) {
			t.Fatal("digest depends on map iteration order")
		}
	}
}

func TestGuardTurnsFailuresIntoErrors(t *testing.T) {
	tests := []struct {
		name    string
		f       func() Verdict
		wantErr bool
	}{
		{"panic", func() Verdict { panic("boom") }, true},
		{"NaN score", func() Verdict { return Verdict{Detected: true, Score: math.NaN(), Reason: ReasonZScore} }, true},
		{"+Inf score", func() Verdict { return Verdict{Detected: true, Score: math.Inf(1), Reason: ReasonMeanFactor} }, true},
		{"negative score", func() Verdict { return Verdict{Score: -1} }, true},
		{"unknown reason", func() Verdict { return Verdict{Detected: true, Score: 1, Reason: "vibes"} }, true},
		{"reason without detection", func() Verdict { return Verdict{Reason: ReasonZScore} }, true},
		{"nil func", nil, true},
		{"healthy detection", func() Verdict { return Verdict{Detected: true, Score: 12, Reason: ReasonMeanFactor} }, false},
		{"healthy no detection", func() Verdict { return Verdict{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Guard(tt.f)
			if tt.wantErr {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				if v != (Verdict{}) {
					t.Fatalf("failed guard returned non-zero verdict %+v", v)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}

// failingChecker is what chaos injects through the Checker seam.
type failingChecker struct{ nan bool }

func (f failingChecker) Check(string, int64) Verdict {
	if f.nan {
		return Verdict{Detected: true, Score: math.NaN(), Reason: ReasonZScore}
	}
	panic("detector exploded")
}
func (failingChecker) Observe(string, int64) { panic("observe exploded") }

func TestGuardIsolatesInjectedCheckerFailures(t *testing.T) {
	for _, c := range []Checker{failingChecker{}, failingChecker{nan: true}, New(Config{})} {
		_, err := Guard(func() Verdict { return c.Check("a", 1000) })
		_, healthy := c.(*Detector)
		if healthy != (err == nil) {
			t.Fatalf("%T: Guard err = %v", c, err)
		}
		err = GuardObserve(func() { c.Observe("a", 1000) })
		if healthy != (err == nil) {
			t.Fatalf("%T: GuardObserve err = %v", c, err)
		}
		if err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("GuardObserve err %v does not wrap ErrUnavailable", err)
		}
	}
}

func TestConfigValidateRejectsNonsense(t *testing.T) {
	bad := []Config{
		{MinSamples: -1}, {MaxAgents: -1}, {MeanFactor: math.NaN()}, {MeanFactor: -2},
		{MeanFactor: 1}, {ZScore: math.Inf(1)}, {ZScore: -1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want error", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config invalid: %v", err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
	if got := New(Config{}).Config(); got != DefaultConfig() {
		t.Errorf("zero Config effective = %+v, want defaults", got)
	}
}

func digest(d *Detector) [32]byte {
	h := sha256.New()
	d.AppendDigest(h)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func BenchmarkCheckObserve(b *testing.B) {
	d := New(Config{})
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "agent-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := ids[i%len(ids)]
		d.Check(id, int64(1000+i%100))
		d.Observe(id, int64(1000+i%100))
	}
}
