package eoc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"time"
)

// Bands of the score (SPEC §5, orig).
const (
	BandCriticalLow  = "critical_low"  // score < 0.3
	BandLow          = "low"           // 0.3 ≤ score < 0.5
	BandOptimal      = "optimal"       // 0.5 ≤ score ≤ 0.7
	BandHigh         = "high"          // 0.7 < score ≤ 0.85
	BandCriticalHigh = "critical_high" // score > 0.85
)

// Band boundaries.
const (
	CriticalLowBelow  = 0.3
	OptimalLow        = 0.5
	OptimalHigh       = 0.7
	CriticalHighAbove = 0.85
)

// Regulation states reported by Snapshot.
const (
	StateStable     = "stable"     // regulation is neutral
	StateRegulating = "regulating" // the last decision changed the regulation
	StateHolding    = "holding"    // regulation is off neutral and was kept
)

// Formula constants (see docs/anomaly-eoc.md). They are fixed, not
// configurable, because the safety bounds are proved from them.
const (
	idleLevel      = 0.40 // window score of an idle, error-free system
	loadWeight     = 0.20 // × √load, load from 0 to NominalRate
	overloadWeight = 0.35 // added linearly from 1× to 2× NominalRate
	errorWeight    = 0.50 // × error rate
	anomalyWeight  = 0.08 // × anomaly rate; 0.40+0.20+0.08 = 0.68 < 0.7

	// backpressureRelaxBelow: backpressure decreases when the smoothed
	// pressure is at or below this (hysteresis under OptimalHigh).
	backpressureRelaxBelow = 0.65

	// maxPending bounds closed windows awaiting their decision; beyond it
	// the newest two merge (only if the engine stops folding decisions).
	maxPending = 16

	// maxIdleSteps caps the idle windows folded in one decision; after this
	// many the EWMA sits at the idle fixed point to float precision.
	maxIdleSteps = 1000

	// Regulation values and Step are rounded to multiples of 1/perQuantum so
	// repeated ±Step never drifts.
	perQuantum = 1e6
)

// Regulation limits and the neutral regulation.
const (
	RegenerationMin     = 0.5
	RegenerationMax     = 1.5
	RegenerationNeutral = 1.0
	BackpressureMax     = 0.5
)

// Defaults of Config; a zero field means its default.
const (
	DefaultWindow      = 10 * time.Second
	DefaultAlpha       = 0.3
	DefaultNominalRate = 1000.0 // ops/s; set it to the capacity the deployment is sized for
	DefaultStep        = 0.05
)

// Config tunes the score. Its zero value is valid: every zero field takes its
// default.
type Config struct {
	// Window is the length of one scoring window; windows are aligned to
	// multiples of Window since the Unix epoch.
	Window time.Duration
	// Alpha is the EWMA weight of the newest window, in (0,1].
	Alpha float64
	// NominalRate is the operation rate (ops/s) the system is sized for:
	// load 1.0. Overload (and with it backpressure) starts above it.
	NominalRate float64
	// Step is the largest change of each regulation value per window, in
	// (0, 0.5].
	Step float64
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Window: DefaultWindow, Alpha: DefaultAlpha, NominalRate: DefaultNominalRate, Step: DefaultStep}
}

// Validate reports a field out of range.
func (c Config) Validate() error {
	switch {
	case c.Window < 0:
		return errors.New("eoc: Window must be ≥ 0")
	case c.Window != 0 && c.Window < time.Millisecond:
		return errors.New("eoc: Window must be at least 1ms")
	case !finite(c.Alpha) || c.Alpha < 0 || c.Alpha > 1:
		return errors.New("eoc: Alpha must be in (0,1]")
	case !finite(c.NominalRate) || c.NominalRate < 0:
		return errors.New("eoc: NominalRate must be finite and > 0")
	case !finite(c.Step) || c.Step < 0 || c.Step > 0.5 || (c.Step != 0 && c.Step < 1/perQuantum):
		return errors.New("eoc: Step must be in [1e-6,0.5]")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Alpha == 0 {
		c.Alpha = d.Alpha
	}
	if c.NominalRate == 0 {
		c.NominalRate = d.NominalRate
	}
	if c.Step == 0 {
		c.Step = d.Step
	}
	c.Step = quantize(c.Step)
	return c
}

// Regulation is what the score drives. The neutral value is
// {RegenerationFactor: 1, Backpressure: 0}.
type Regulation struct {
	// RegenerationFactor scales credit regeneration, in [0.5, 1.5].
	RegenerationFactor float64 `json:"regeneration_factor"`
	// Backpressure is the share of incoming load to shed, in [0, 0.5].
	Backpressure float64 `json:"backpressure"`
}

// Neutral is the regulation of a system in the optimal band.
var Neutral = Regulation{RegenerationFactor: RegenerationNeutral}

// Observation is one operation as the engine saw it.
type Observation struct {
	At time.Time // event time; zero times are ignored
	// Anomaly: the operation was flagged by the anomaly detector.
	Anomaly bool
	// Error: the operation failed for a reason that signals stress (see
	// docs/anomaly-eoc.md: server-side failures, not business outcomes and
	// never the engine's own backpressure shedding).
	Error bool
}

// Decision is the result of closing one window: the payload of an
// eoc.regulated event. The engine journals every Decision returned by Due
// (Changed or not) and folds it with ApplyRegulated.
type Decision struct {
	WindowStart time.Time `json:"window_start"` // first instant of the scored window
	WindowEnd   time.Time `json:"window_end"`   // end (exclusive)
	// Windows is the number of EWMA steps this decision folds: idle windows
	// since the previous decision (at most 1000) plus the scored window.
	Windows   int64 `json:"windows"`
	Ops       int64 `json:"ops"`
	Anomalies int64 `json:"anomalies"`
	Errors    int64 `json:"errors"`
	// Score and Pressure are the smoothed values after this decision.
	Score    float64 `json:"score"`
	Pressure float64 `json:"pressure"`
	Band     string  `json:"band"`
	// Previous and Regulation are the regulation before and after.
	Previous   Regulation `json:"previous"`
	Regulation Regulation `json:"regulation"`
	Changed    bool       `json:"changed"`
}

type window struct {
	start, end int64 // unix nanos, [start,end)
	ops        int64
	anomalies  int64
	errors     int64
}

// State is the EoC fold. Not safe for concurrent use.
type State struct {
	cfg      Config
	windowNs int64

	// folded (journaled) state
	score, pressure float64
	reg             Regulation
	windows         int64 // EWMA steps folded
	decisions       int64 // decisions folded
	lastEnd         int64 // end of the last folded window, unix nanos
	hasEnd          bool
	lastChanged     bool

	// volatile
	open    window
	hasOpen bool
	pending []window // closed, not yet folded, oldest first; ≤ maxPending
}

// New returns the initial state: score and pressure 0.5 (optimal), neutral
// regulation. It panics if cfg is invalid: the caller validates at startup.
func New(cfg Config) *State {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	return &State{cfg: cfg, windowNs: int64(cfg.Window), score: 0.5, pressure: 0.5, reg: Neutral}
}

// Config returns the effective configuration (defaults filled in).
func (s *State) Config() Config { return s.cfg }

// Observe counts one operation into the open window. When o.At is at or past
// the open window's end, that window is closed (its Decision becomes due) and
// a new window containing o.At is opened. Operations timestamped before the
// end of the last folded decision are already accounted for and are ignored,
// so the engine may observe every replayed operation after replay; those
// timestamped before the open window (a clock step back) count into it.
func (s *State) Observe(o Observation) {
	if o.At.IsZero() {
		return
	}
	t := o.At.UnixNano()
	if s.hasEnd && t < s.lastEnd {
		return
	}
	if s.hasOpen && t >= s.open.end {
		s.closeOpen()
	}
	if !s.hasOpen {
		start := floorDiv(t, s.windowNs) * s.windowNs
		s.open = window{start: start, end: start + s.windowNs}
		s.hasOpen = true
	}
	s.open.ops++
	if o.Anomaly {
		s.open.anomalies++
	}
	if o.Error {
		s.open.errors++
	}
}

// closeOpen queues the open window for its decision. At maxPending queued
// windows the new one merges into the newest queued one.
func (s *State) closeOpen() {
	if n := len(s.pending); n >= maxPending {
		last := &s.pending[n-1]
		last.end = s.open.end
		last.ops += s.open.ops
		last.anomalies += s.open.anomalies
		last.errors += s.open.errors
	} else {
		s.pending = append(s.pending, s.open)
	}
	s.hasOpen = false
}

// Due returns the Decision for the oldest window that is over by now and
// not yet folded: a closed window, or the open one when now is at or past
// its end. It changes nothing (only folds do: Observe and ApplyRegulated),
// so it returns the same Decision until ApplyRegulated folds it; the engine
// loops until Due reports false. Windows without operations produce no
// Decision; their (idle) effect is folded into the next one.
func (s *State) Due(now time.Time) (Decision, bool) {
	switch {
	case len(s.pending) > 0:
		return s.decide(s.pending[0]), true
	case s.hasOpen && !now.IsZero() && now.UnixNano() >= s.open.end:
		return s.decide(s.open), true
	}
	return Decision{}, false
}

// decide computes the Decision for w from the folded state without changing
// it.
func (s *State) decide(w window) Decision {
	score, pressure, reg := s.score, s.pressure, s.reg
	var steps int64
	if s.hasEnd && w.start > s.lastEnd {
		idle := (w.start - s.lastEnd) / s.windowNs
		for i := int64(0); i < idle && i < maxIdleSteps; i++ {
			p, q := windowInputs(0, 0, 0)
			score, pressure = s.smooth(score, pressure, p, q)
			reg = s.regulate(reg, score, pressure)
			steps++
		}
	}
	dur := float64(w.end-w.start) / float64(time.Second)
	load := float64(w.ops) / float64(dur*s.cfg.NominalRate)
	p, q := windowInputs(load, ratio(w.errors, w.ops), ratio(w.anomalies, w.ops))
	score, pressure = s.smooth(score, pressure, p, q)
	reg = s.regulate(reg, score, pressure)
	steps++
	return Decision{
		WindowStart: time.Unix(0, w.start).UTC(),
		WindowEnd:   time.Unix(0, w.end).UTC(),
		Windows:     steps,
		Ops:         w.ops,
		Anomalies:   w.anomalies,
		Errors:      w.errors,
		Score:       score,
		Pressure:    pressure,
		Band:        BandOf(score),
		Previous:    s.reg,
		Regulation:  reg,
		Changed:     reg != s.reg,
	}
}

// windowInputs returns the window's pressure P (anomaly-free, from load and
// error rate) and anomaly contribution Q. The window score is clamp(P+Q).
func windowInputs(load, errRate, anomalyRate float64) (p, q float64) {
	l := clamp(load, 0, 2)
	p = idleLevel +
		float64(loadWeight*math.Sqrt(math.Min(l, 1))) +
		float64(overloadWeight*math.Max(l-1, 0)) +
		float64(errorWeight*clamp(errRate, 0, 1))
	q = float64(anomalyWeight * clamp(anomalyRate, 0, 1))
	return clamp(p, 0, 1), q
}

// smooth folds one window into the EWMAs of score and pressure.
func (s *State) smooth(score, pressure, p, q float64) (float64, float64) {
	a := s.cfg.Alpha
	raw := clamp(p+q, 0, 1)
	score = clamp(score+float64(a*(raw-score)), 0, 1)
	pressure = clamp(pressure+float64(a*(p-pressure)), 0, 1)
	return score, pressure
}

// regulate moves each regulation value by at most Step toward where the
// smoothed score (regeneration) or the anomaly-free pressure (backpressure)
// asks for.
func (s *State) regulate(r Regulation, score, pressure float64) Regulation {
	st := s.cfg.Step
	switch {
	case score > OptimalHigh:
		r.RegenerationFactor -= st
	case score < OptimalLow:
		r.RegenerationFactor += st
	default: // optimal: relax toward neutral
		r.RegenerationFactor = toward(r.RegenerationFactor, RegenerationNeutral, st)
	}
	switch {
	case pressure > OptimalHigh:
		r.Backpressure += st
	case pressure <= backpressureRelaxBelow:
		r.Backpressure = toward(r.Backpressure, 0, st)
	}
	r.RegenerationFactor = clamp(quantize(r.RegenerationFactor), RegenerationMin, RegenerationMax)
	r.Backpressure = clamp(quantize(r.Backpressure), 0, BackpressureMax)
	return r
}

// ErrInvalidDecision is wrapped when ApplyRegulated refuses a decision.
var ErrInvalidDecision = errors.New("eoc: invalid eoc.regulated decision")

// Validate reports a decision that could not have come from Due.
func (d Decision) Validate() error {
	r := d.Regulation
	switch {
	case !inUnit(d.Score) || !inUnit(d.Pressure):
		return fmt.Errorf("%w: score %v / pressure %v not in [0,1]", ErrInvalidDecision, d.Score, d.Pressure)
	case !finite(r.RegenerationFactor) || r.RegenerationFactor < RegenerationMin || r.RegenerationFactor > RegenerationMax:
		return fmt.Errorf("%w: regeneration factor %v out of [%v,%v]", ErrInvalidDecision, r.RegenerationFactor, RegenerationMin, RegenerationMax)
	case !finite(r.Backpressure) || r.Backpressure < 0 || r.Backpressure > BackpressureMax:
		return fmt.Errorf("%w: backpressure %v out of [0,%v]", ErrInvalidDecision, r.Backpressure, BackpressureMax)
	case d.Windows < 1:
		return fmt.Errorf("%w: windows %d < 1", ErrInvalidDecision, d.Windows)
	case !d.WindowEnd.After(d.WindowStart):
		return fmt.Errorf("%w: window end %v not after start %v", ErrInvalidDecision, d.WindowEnd, d.WindowStart)
	}
	return nil
}

// ApplyRegulated folds a journaled eoc.regulated decision: the state adopts
// its score, pressure and regulation as written, so replay reproduces the
// live state exactly. A decision failing Validate is refused and changes
// nothing. Windows the decision covers (closed or open) leave the state.
func (s *State) ApplyRegulated(d Decision) error {
	if err := d.Validate(); err != nil {
		return err
	}
	s.lastChanged = d.Regulation != s.reg
	s.score, s.pressure, s.reg = d.Score, d.Pressure, d.Regulation
	s.windows += d.Windows
	s.decisions++
	if end := d.WindowEnd.UnixNano(); !s.hasEnd || end > s.lastEnd {
		s.lastEnd, s.hasEnd = end, true
	}
	drop := 0
	for drop < len(s.pending) && s.pending[drop].end <= s.lastEnd {
		drop++
	}
	s.pending = append(s.pending[:0], s.pending[drop:]...)
	// The open window was decided at its end (Due on the clock, with no
	// operation after it): it is folded, live and on replay alike.
	if s.hasOpen && s.open.end <= s.lastEnd {
		s.hasOpen = false
	}
	return nil
}

// Score is the smoothed score in [0,1].
func (s *State) Score() float64 { return s.score }

// Band is the band of Score.
func (s *State) Band() string { return BandOf(s.score) }

// Regulation is the regulation in force.
func (s *State) Regulation() Regulation { return s.reg }

// BandOf names the band of a score.
func BandOf(score float64) string {
	switch {
	case score < CriticalLowBelow:
		return BandCriticalLow
	case score < OptimalLow:
		return BandLow
	case score <= OptimalHigh:
		return BandOptimal
	case score <= CriticalHighAbove:
		return BandHigh
	default:
		return BandCriticalHigh
	}
}

// Snapshot is the folded state in API form.
type Snapshot struct {
	Score      float64    `json:"score"`
	Pressure   float64    `json:"pressure"`
	Band       string     `json:"band"`
	State      string     `json:"state"` // stable | regulating | holding
	Regulation Regulation `json:"regulation"`
	Windows    int64      `json:"windows"`
	Decisions  int64      `json:"decisions"`
	// LastWindowEnd is the end of the last folded window; zero before the
	// first decision.
	LastWindowEnd time.Time `json:"last_window_end"`
}

// Snapshot returns the folded state (the open window is not included).
func (s *State) Snapshot() Snapshot {
	st := StateStable
	switch {
	case s.lastChanged:
		st = StateRegulating
	case s.reg != Neutral:
		st = StateHolding
	}
	var end time.Time
	if s.hasEnd {
		end = time.Unix(0, s.lastEnd).UTC()
	}
	return Snapshot{
		Score: s.score, Pressure: s.pressure, Band: BandOf(s.score), State: st,
		Regulation: s.reg, Windows: s.windows, Decisions: s.decisions, LastWindowEnd: end,
	}
}

// AppendDigest writes the folded state to h in canonical order (floats as
// IEEE-754 bits, integers big-endian). The volatile open window is excluded.
func (s *State) AppendDigest(h hash.Hash) {
	var b [8]byte
	u64 := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte("eoc/v1\x00"))
	u64(math.Float64bits(s.score))
	u64(math.Float64bits(s.pressure))
	u64(math.Float64bits(s.reg.RegenerationFactor))
	u64(math.Float64bits(s.reg.Backpressure))
	u64(uint64(s.windows))
	u64(uint64(s.decisions))
	u64(uint64(s.lastEnd))
	var flags uint64
	if s.hasEnd {
		flags |= 1
	}
	if s.lastChanged {
		flags |= 2
	}
	u64(flags)
}

func toward(v, target, step float64) float64 {
	switch {
	case v > target:
		return math.Max(v-step, target)
	case v < target:
		return math.Min(v+step, target)
	}
	return v
}

func quantize(v float64) float64 { return math.Round(v*perQuantum) / perQuantum }

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Min(math.Max(v, lo), hi)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func inUnit(f float64) bool { return finite(f) && f >= 0 && f <= 1 }
