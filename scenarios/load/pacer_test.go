package load

import (
	"math"
	"testing"
	"time"
)

func within(t *testing.T, what string, got, want, tol time.Duration) {
	t.Helper()
	if d := got - want; d < -tol || d > tol {
		t.Errorf("%s = %s, want %s ± %s", what, got, want, tol)
	}
}

// countHits counts scheduled hits in [from, to).
func countHits(p Pacer, from, to time.Duration) int {
	n := 0
	for i := uint64(0); i < 10_000_000; i++ {
		t, ok := p.HitAt(i)
		if !ok || t >= to {
			break
		}
		if t >= from {
			n++
		}
	}
	return n
}

func TestConstantPacerSpacesHitsEvenlyFromTheStart(t *testing.T) {
	p := Constant(100)
	for _, i := range []uint64{0, 1, 10, 12345} {
		got, ok := p.HitAt(i)
		if !ok {
			t.Fatalf("hit %d not scheduled", i)
		}
		within(t, "HitAt", got, time.Duration(i)*10*time.Millisecond, time.Microsecond)
		wait, stop := p.Pace(0, i)
		if stop || wait != got {
			t.Errorf("Pace(0, %d) = %s, %v; want the schedule %s", i, wait, stop, got)
		}
	}
	if w, _ := p.Pace(time.Second, 5); w != 0 {
		t.Errorf("a pacer behind schedule must send at once, waited %s", w)
	}
	if r := p.Rate(time.Hour); r != 100 {
		t.Errorf("Rate = %v", r)
	}
	if n := countHits(p.Truncate(2*time.Second), 0, time.Hour); n != 200 {
		t.Errorf("2s at 100/s scheduled %d hits, want 200", n)
	}
}

func TestRampPacerIntegratesTheLinearRate(t *testing.T) {
	p := Ramp(0, 100, 10*time.Second)
	// N(t) = 5t² over the ramp: hit 50 at √10 s, 500 hits in 10 s.
	got, _ := p.HitAt(50)
	within(t, "HitAt(50)", got, time.Duration(math.Sqrt(10)*1e9), time.Microsecond)
	if n := countHits(p, 0, 10*time.Second); n != 500 {
		t.Errorf("ramp scheduled %d hits in 10s, want 500", n)
	}
	if r := p.Rate(5 * time.Second); math.Abs(r-50) > 1e-9 {
		t.Errorf("Rate(5s) = %v, want 50", r)
	}
	if r := p.Rate(20 * time.Second); r != 100 {
		t.Errorf("after the ramp the rate holds at 100, got %v", r)
	}
	// A falling ramp must also be monotone and integrate right.
	down := Ramp(100, 0, 10*time.Second)
	if n := countHits(down, 0, time.Hour); n != 500 {
		t.Errorf("falling ramp scheduled %d hits, want 500", n)
	}
}

func TestSpikePacerHasASquareSpike(t *testing.T) {
	p := Spike(10, 100, 2*time.Second, time.Second).Truncate(5 * time.Second)
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{time.Second, 10}, {2500 * time.Millisecond, 100}, {4 * time.Second, 10}, {5 * time.Second, 0}} {
		if r := p.Rate(c.at); math.Abs(r-c.want) > 1e-9 {
			t.Errorf("Rate(%s) = %v, want %v", c.at, r, c.want)
		}
	}
	if n := countHits(p, 0, 2*time.Second); n != 20 {
		t.Errorf("before the spike: %d hits, want 20", n)
	}
	if n := countHits(p, 2*time.Second, 3*time.Second); n != 100 {
		t.Errorf("in the spike: %d hits, want 100", n)
	}
	if n := countHits(p, 3*time.Second, time.Hour); n != 20 {
		t.Errorf("after the spike: %d hits, want 20 (truncated at 5s)", n)
	}
	if _, stop := p.Pace(0, 140); !stop {
		t.Error("the pacer must stop after its last hit")
	}
}

func TestPhasesRunBackToBackWithMonotoneSchedule(t *testing.T) {
	c := Config{Phases: []Phase{
		{Name: "warmup", Duration: time.Second, Pacer: Ramp(0, 100, time.Second), Warmup: true},
		{Name: "steady", Duration: 2 * time.Second, Pacer: Constant(100)},
		{Name: "spike", Duration: time.Second, Pacer: Spike(100, 300, 250*time.Millisecond, 500*time.Millisecond)},
	}}.withDefaults()
	p := c.pacer()
	if got := countHits(p, 0, time.Second); got != 50 {
		t.Errorf("warmup hits %d, want 50", got)
	}
	if got := countHits(p, time.Second, 3*time.Second); got != 200 {
		t.Errorf("steady hits %d, want 200", got)
	}
	if got := countHits(p, 3*time.Second, time.Hour); got != 25+150+25 {
		t.Errorf("spike phase hits %d, want 200", got)
	}
	prev := time.Duration(-1)
	for i := uint64(0); ; i++ {
		at, ok := p.HitAt(i)
		if !ok {
			break
		}
		if at < prev {
			t.Fatalf("hit %d at %s before hit %d at %s", i, at, i-1, prev)
		}
		prev = at
	}
	if p.End() != 4*time.Second {
		t.Errorf("End = %s", p.End())
	}
}
