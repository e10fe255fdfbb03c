package eoc

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// segment is a stretch of steady traffic.
type segment struct {
	rate        float64 // ops/s; 0 = idle
	anomalyFrac float64
	errorFrac   float64
	dur         time.Duration
}

// run is the engine's live loop in miniature: observe each op, then fold
// every due decision (as if journaled). It returns the decisions in order and
// the time after the last segment.
type run struct {
	s         *State
	now       time.Time
	i         int64 // op counter, spreads fractions evenly
	decisions []Decision
	check     func(d Decision, prev Regulation) // invariant hook per decision
}

func newRun(cfg Config) *run { return &run{s: New(cfg), now: t0} }

func (r *run) fold(now time.Time) {
	for {
		d, ok := r.s.Due(now)
		if !ok {
			return
		}
		prev := r.s.Regulation()
		if err := r.s.ApplyRegulated(d); err != nil {
			panic(err)
		}
		r.decisions = append(r.decisions, d)
		if r.check != nil {
			r.check(d, prev)
		}
	}
}

// frac reports whether op i is in the fraction f, spread evenly.
func frac(i int64, f float64) bool {
	return math.Floor(float64(i+1)*f) > math.Floor(float64(i)*f)
}

func (r *run) play(segs ...segment) {
	for _, sg := range segs {
		end := r.now.Add(sg.dur)
		if sg.rate <= 0 {
			r.now = end
			r.fold(r.now)
			continue
		}
		gap := time.Duration(float64(time.Second) / sg.rate)
		for ; r.now.Before(end); r.now = r.now.Add(gap) {
			r.s.Observe(Observation{At: r.now, Anomaly: frac(r.i, sg.anomalyFrac), Error: frac(r.i, sg.errorFrac)})
			r.i++
			r.fold(r.now)
		}
	}
}

func digest(s *State) [32]byte {
	h := sha256.New()
	s.AppendDigest(h)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestAnomaliesAloneKeepScoreInSafeBandAndNeverThrottle(t *testing.T) {
	for _, nominal := range []float64{100, DefaultNominalRate} {
		for _, af := range []float64{1.0, 0.5, 0.1} {
			for _, rf := range []float64{0.0005, 0.01, 0.1, 0.5, 1.0} { // share of nominal
				rate := rf * nominal
				name := fmt.Sprintf("nominal=%v/anomaly=%v/rate=%v", nominal, af, rate)
				t.Run(name, func(t *testing.T) {
					r := newRun(Config{NominalRate: nominal})
					r.check = func(d Decision, _ Regulation) {
						if d.Score < 0.3 || d.Score > 0.7 {
							t.Fatalf("score %v left the safe band 0.3–0.7 under anomalies alone", d.Score)
						}
						if d.Regulation.Backpressure != 0 {
							t.Fatalf("anomalies alone caused backpressure %v", d.Regulation.Backpressure)
						}
					}
					r.play(segment{rate: rate, anomalyFrac: af, dur: 30 * time.Minute})
					if len(r.decisions) == 0 {
						t.Fatal("no window closed in 30 minutes")
					}
				})
			}
		}
	}
}

func TestAnomaliesCannotRaiseBackpressureEvenUnderLoad(t *testing.T) {
	// Same overload with and without anomalies: anomalies change the score
	// but never the backpressure.
	plain, anom := newRun(Config{}), newRun(Config{})
	plain.play(segment{rate: 1400, dur: 5 * time.Minute}, segment{rate: 300, dur: 5 * time.Minute})
	anom.play(segment{rate: 1400, anomalyFrac: 1, dur: 5 * time.Minute}, segment{rate: 300, anomalyFrac: 1, dur: 5 * time.Minute})
	if len(plain.decisions) != len(anom.decisions) {
		t.Fatalf("decision counts differ: %d vs %d", len(plain.decisions), len(anom.decisions))
	}
	for i := range plain.decisions {
		if a, b := plain.decisions[i].Regulation.Backpressure, anom.decisions[i].Regulation.Backpressure; a != b {
			t.Fatalf("window %d: backpressure %v with anomalies vs %v without", i, b, a)
		}
	}
}

func TestErrorsMoveScoreAndRegulationInBoundedSteps(t *testing.T) {
	cfg := Config{}
	r := newRun(cfg)
	step := r.s.Config().Step
	r.check = func(d Decision, prev Regulation) {
		lim := step*float64(d.Windows) + 1e-12
		if dr := math.Abs(d.Regulation.RegenerationFactor - prev.RegenerationFactor); dr > lim {
			t.Fatalf("regeneration moved %v in %d windows (Step %v)", dr, d.Windows, step)
		}
		if db := math.Abs(d.Regulation.Backpressure - prev.Backpressure); db > lim {
			t.Fatalf("backpressure moved %v in %d windows (Step %v)", db, d.Windows, step)
		}
	}
	r.play(segment{rate: 500, errorFrac: 1, dur: 10 * time.Minute})
	snap := r.s.Snapshot()
	if snap.Band != BandCriticalHigh {
		t.Fatalf("100%% errors: band %s (score %v), want critical_high", snap.Band, snap.Score)
	}
	if snap.Regulation != (Regulation{RegenerationFactor: RegenerationMin, Backpressure: BackpressureMax}) {
		t.Fatalf("sustained errors: regulation %+v, want the limits", snap.Regulation)
	}
	// The very first window can move backpressure at most one Step.
	if first := r.decisions[0].Regulation.Backpressure; first > step {
		t.Fatalf("first window backpressure %v > Step", first)
	}
	r.play(segment{rate: 500, dur: 10 * time.Minute})
	snap = r.s.Snapshot()
	if snap.Regulation != Neutral || snap.Band != BandOptimal || snap.State != StateStable {
		t.Fatalf("after errors stop: %+v, want neutral, optimal, stable", snap)
	}
}

func TestOverloadRaisesBackpressureAndRelaxesAfterwards(t *testing.T) {
	r := newRun(Config{NominalRate: 100})
	r.play(segment{rate: 300, dur: 5 * time.Minute})
	if bp := r.s.Regulation().Backpressure; bp <= 0 {
		t.Fatalf("3× nominal load: backpressure %v, want > 0", bp)
	}
	r.play(segment{rate: 50, dur: 10 * time.Minute})
	if bp := r.s.Regulation().Backpressure; bp != 0 {
		t.Fatalf("back at half nominal: backpressure %v, want 0", bp)
	}
}

func TestIdleWindowsDecayTowardIdleLevel(t *testing.T) {
	r := newRun(Config{})
	r.play(segment{rate: 500, errorFrac: 1, dur: 2 * time.Minute})
	hi := r.s.Score()
	r.play(segment{dur: 10 * time.Minute}, segment{rate: 1, dur: 11 * time.Second})
	last := r.decisions[len(r.decisions)-1]
	if last.Windows < 50 {
		t.Fatalf("decision after 10 idle minutes folds %d windows, want ≥ 50", last.Windows)
	}
	if s := r.s.Score(); s >= hi || math.Abs(s-idleLevel) > 0.01 {
		t.Fatalf("score after idle = %v (was %v), want ≈ %v", s, hi, idleLevel)
	}
}

func TestReplayOfJournaledDecisionsReproducesLiveState(t *testing.T) {
	live := newRun(Config{})
	live.play(
		segment{rate: 200, anomalyFrac: 0.3, errorFrac: 0.05, dur: 3 * time.Minute},
		segment{rate: 1500, errorFrac: 0.4, dur: 3 * time.Minute},
		segment{dur: 7 * time.Minute},
		segment{rate: 20, anomalyFrac: 1, dur: 3 * time.Minute},
	)
	live.fold(live.now.Add(time.Hour)) // close the last open window
	// Journal round trip: decisions are written as JSON and read back.
	raw, err := json.Marshal(live.decisions)
	if err != nil {
		t.Fatal(err)
	}
	var journaled []Decision
	if err := json.Unmarshal(raw, &journaled); err != nil {
		t.Fatal(err)
	}
	replay := New(Config{})
	for i, d := range journaled {
		if err := replay.ApplyRegulated(d); err != nil {
			t.Fatalf("decision %d refused on replay: %v", i, err)
		}
	}
	if a, b := live.s.Snapshot(), replay.Snapshot(); a != b {
		t.Fatalf("replayed snapshot differs:\nlive   %+v\nreplay %+v", a, b)
	}
	if digest(live.s) != digest(replay) {
		t.Fatal("replayed digest differs from live digest")
	}
}

func TestSameObservationsFoldedTwiceGiveIdenticalSnapshot(t *testing.T) {
	segs := []segment{
		{rate: 700, anomalyFrac: 0.2, errorFrac: 0.01, dur: 4 * time.Minute},
		{rate: 2000, errorFrac: 0.5, dur: 2 * time.Minute},
		{dur: 3 * time.Minute},
		{rate: 3, anomalyFrac: 0.5, dur: 4 * time.Minute},
	}
	a, b := newRun(Config{}), newRun(Config{})
	a.play(segs...)
	b.play(segs...)
	if a.s.Snapshot() != b.s.Snapshot() || digest(a.s) != digest(b.s) {
		t.Fatal("same observations gave different states")
	}
	if len(a.decisions) != len(b.decisions) {
		t.Fatal("same observations gave different decision counts")
	}
	for i := range a.decisions {
		if a.decisions[i] != b.decisions[i] {
			t.Fatalf("decision %d differs: %+v vs %+v", i, a.decisions[i], b.decisions[i])
		}
	}
}

func TestDueRepeatsTheDecisionUntilApplied(t *testing.T) {
	s := New(Config{})
	s.Observe(Observation{At: t0})
	if _, ok := s.Due(t0.Add(time.Second)); ok {
		t.Fatal("decision due before the window closed")
	}
	d1, ok := s.Due(t0.Add(10 * time.Second))
	if !ok {
		t.Fatal("no decision after the window closed")
	}
	d2, _ := s.Due(t0.Add(11 * time.Second))
	if d1 != d2 {
		t.Fatalf("Due changed its answer before Apply: %+v vs %+v", d1, d2)
	}
	before := s.Snapshot()
	if s.Snapshot() != before || before.Decisions != 0 {
		t.Fatal("Due mutated the folded state")
	}
	// A second window closing before the first is folded queues behind it:
	// each window gets its own decision, none is counted twice.
	s.Observe(Observation{At: t0.Add(12 * time.Second)})
	s.Observe(Observation{At: t0.Add(13 * time.Second)})
	s.Observe(Observation{At: t0.Add(25 * time.Second)})
	if err := s.ApplyRegulated(d1); err != nil {
		t.Fatal(err)
	}
	d3, ok := s.Due(t0.Add(25 * time.Second))
	if !ok || d3.Ops != 2 || !d3.WindowStart.Equal(t0.Add(10*time.Second)) || d3.Windows != 1 {
		t.Fatalf("second decision = %+v ok=%v, want 2 ops in [+10s,+20s)", d3, ok)
	}
	if err := s.ApplyRegulated(d3); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Due(t0.Add(25 * time.Second)); ok {
		t.Fatal("decision still due after Apply")
	}
	// Operations already covered by folded decisions are not counted again.
	s.Observe(Observation{At: t0.Add(5 * time.Second)})
	d4, ok := s.Due(t0.Add(time.Hour))
	if !ok || d4.Ops != 1 || !d4.WindowStart.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("after replayed op: decision %+v ok=%v, want only the op at +25s", d4, ok)
	}
}

// Due is asked on the clock (the engine's sweeper asks with no operation
// after the window), but only folds may change the state: a window decided
// that way must be gone on replay too, where no Due ever runs, or the
// replayed engine decides it a second time.
func TestADecisionTakenOnTheClockFoldsTheSameLiveAndOnReplay(t *testing.T) {
	live, replay := New(Config{}), New(Config{})
	for _, s := range []*State{live, replay} {
		s.Observe(Observation{At: t0})
		s.Observe(Observation{At: t0.Add(3 * time.Second), Anomaly: true})
	}
	before := live.Snapshot()
	pendingBefore, openBefore := len(live.pending), live.hasOpen
	d, ok := live.Due(t0.Add(15 * time.Second))
	if !ok || d.Ops != 2 {
		t.Fatalf("Due at +15s = %+v ok=%v, want the 2 ops of [0,10s)", d, ok)
	}
	if live.Snapshot() != before || len(live.pending) != pendingBefore || live.hasOpen != openBefore {
		t.Fatal("Due changed the state: only folds may")
	}
	for _, s := range []*State{live, replay} {
		if err := s.ApplyRegulated(d); err != nil {
			t.Fatal(err)
		}
		s.Observe(Observation{At: t0.Add(25 * time.Second)})
	}
	dl, okl := live.Due(t0.Add(time.Hour))
	dr, okr := replay.Due(t0.Add(time.Hour))
	if okl != okr || dl != dr {
		t.Fatalf("after the same folds live and replay decide differently:\nlive   %+v %v\nreplay %+v %v", dl, okl, dr, okr)
	}
	if !dl.WindowStart.Equal(t0.Add(20*time.Second)) || dl.Ops != 1 {
		t.Fatalf("next decision %+v, want only the op at +25s in [20s,30s)", dl)
	}
}

func TestApplyRegulatedRefusesImpossibleDecisions(t *testing.T) {
	good := Decision{WindowStart: t0, WindowEnd: t0.Add(10 * time.Second), Windows: 1, Score: 0.5, Pressure: 0.5, Regulation: Neutral}
	bad := map[string]func(d *Decision){
		"NaN score":           func(d *Decision) { d.Score = math.NaN() },
		"score above 1":       func(d *Decision) { d.Score = 1.5 },
		"negative pressure":   func(d *Decision) { d.Pressure = -0.1 },
		"backpressure > max":  func(d *Decision) { d.Regulation.Backpressure = 0.6 },
		"regeneration < min":  func(d *Decision) { d.Regulation.RegenerationFactor = 0.1 },
		"zero windows":        func(d *Decision) { d.Windows = 0 },
		"end not after start": func(d *Decision) { d.WindowEnd = d.WindowStart },
	}
	for name, mut := range bad {
		t.Run(name, func(t *testing.T) {
			s := New(Config{})
			before := digest(s)
			d := good
			mut(&d)
			if err := s.ApplyRegulated(d); err == nil {
				t.Fatal("accepted")
			}
			if digest(s) != before {
				t.Fatal("refused decision changed the state")
			}
		})
	}
	if err := New(Config{}).ApplyRegulated(good); err != nil {
		t.Fatalf("valid decision refused: %v", err)
	}
}

func TestBandBoundaries(t *testing.T) {
	tests := []struct {
		score float64
		want  string
	}{
		{0, BandCriticalLow}, {0.2999, BandCriticalLow}, {0.3, BandLow}, {0.4999, BandLow},
		{0.5, BandOptimal}, {0.7, BandOptimal}, {0.7001, BandHigh}, {0.85, BandHigh},
		{0.8501, BandCriticalHigh}, {1, BandCriticalHigh},
	}
	for _, tt := range tests {
		if got := BandOf(tt.score); got != tt.want {
			t.Errorf("BandOf(%v) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Window: -1}, {Window: time.Microsecond}, {Alpha: -0.1}, {Alpha: 1.1}, {Alpha: math.NaN()},
		{NominalRate: -1}, {NominalRate: math.Inf(1)}, {Step: 0.6}, {Step: 1e-9}, {Step: math.NaN()},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want error", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config invalid: %v", err)
	}
	if got := New(Config{}).Config(); got != DefaultConfig() {
		t.Errorf("zero Config effective = %+v, want defaults", got)
	}
}

// TestPropertyBoundsHoldOverRandomStreams folds many seeded random streams and
// checks every decision against the invariants. Anomaly-only streams (no
// errors, load ≤ nominal) must additionally stay in the safe band with zero
// backpressure from the very first window.
func TestPropertyBoundsHoldOverRandomStreams(t *testing.T) {
	const seed = 42
	rng := rand.New(rand.NewSource(seed))
	streams := 300
	if testing.Short() {
		streams = 60
	}
	for n := 0; n < streams; n++ {
		cfg := Config{
			Window:      time.Duration(1+rng.Intn(30)) * time.Second,
			Alpha:       0.05 + 0.95*rng.Float64(),
			NominalRate: float64(10 + rng.Intn(500)),
			Step:        0.01 + 0.2*rng.Float64(),
		}
		anomalyOnly := n%2 == 0
		var segs []segment
		for k := 0; k < 1+rng.Intn(8); k++ {
			sg := segment{dur: time.Duration(1+rng.Intn(300)) * time.Second}
			if rng.Intn(5) > 0 {
				sg.rate = cfg.NominalRate * rng.Float64() * 3
				sg.anomalyFrac = rng.Float64()
				sg.errorFrac = rng.Float64()
			}
			if anomalyOnly {
				sg.rate = math.Min(sg.rate, cfg.NominalRate*0.999)
				sg.errorFrac = 0
			}
			segs = append(segs, sg)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("stream %d (SEED=%d go test -run TestPropertyBoundsHoldOverRandomStreams ./engine/eoc), cfg %+v: %s",
				n, seed, cfg, fmt.Sprintf(format, args...))
		}
		r := newRun(cfg)
		step := r.s.Config().Step
		r.check = func(d Decision, prev Regulation) {
			if !inUnit(d.Score) || !inUnit(d.Pressure) {
				fail("score %v / pressure %v outside [0,1]", d.Score, d.Pressure)
			}
			if err := d.Validate(); err != nil {
				fail("Due produced an invalid decision: %v", err)
			}
			if d.Band != BandOf(d.Score) {
				fail("band %s for score %v", d.Band, d.Score)
			}
			lim := step*float64(d.Windows) + 1e-9
			if math.Abs(d.Regulation.RegenerationFactor-prev.RegenerationFactor) > lim ||
				math.Abs(d.Regulation.Backpressure-prev.Backpressure) > lim {
				fail("regulation %+v → %+v exceeds Step %v × %d windows", prev, d.Regulation, step, d.Windows)
			}
			if anomalyOnly {
				if d.Score < 0.3 || d.Score > 0.7 {
					fail("anomaly-only score %v outside 0.3–0.7", d.Score)
				}
				if d.Regulation.Backpressure != 0 {
					fail("anomaly-only backpressure %v", d.Regulation.Backpressure)
				}
			}
		}
		r.play(segs...)
		r.fold(r.now.Add(24 * time.Hour))
	}
}

func BenchmarkObserveDue(b *testing.B) {
	s := New(Config{})
	at := t0
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Millisecond)
		s.Observe(Observation{At: at, Anomaly: true})
		if d, ok := s.Due(at); ok {
			_ = s.ApplyRegulated(d)
		}
	}
}
