package anomaly

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"sort"
)

// Reasons a sample is flagged.
const (
	ReasonMeanFactor = "mean_factor"
	ReasonZScore     = "z_score"
)

// Defaults of Config; a zero field means its default.
const (
	DefaultMinSamples = 5
	DefaultMeanFactor = 10.0
	DefaultZScore     = 4.0
	DefaultMaxAgents  = 100_000
)

// Config tunes the Detector. Its zero value is valid: every zero field takes
// its default.
type Config struct {
	// MinSamples is the number of folded samples an agent needs before any
	// of its amounts can be flagged.
	MinSamples int
	// MeanFactor flags an amount ≥ MeanFactor × the agent's running mean.
	MeanFactor float64
	// ZScore flags an amount whose z-score (amount−mean)/stddev is above it;
	// needs stddev > 0. One-sided: small amounts are never flagged.
	ZScore float64
	// MaxAgents bounds memory; beyond it the least recently observed agent is
	// forgotten.
	MaxAgents int
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		MinSamples: DefaultMinSamples,
		MeanFactor: DefaultMeanFactor,
		ZScore:     DefaultZScore,
		MaxAgents:  DefaultMaxAgents,
	}
}

// Validate reports a field that is negative, not finite, or makes no sense.
func (c Config) Validate() error {
	switch {
	case c.MinSamples < 0:
		return errors.New("anomaly: MinSamples must be ≥ 0")
	case c.MaxAgents < 0:
		return errors.New("anomaly: MaxAgents must be ≥ 0")
	case math.IsNaN(c.MeanFactor) || math.IsInf(c.MeanFactor, 0) || c.MeanFactor < 0:
		return errors.New("anomaly: MeanFactor must be finite and ≥ 0")
	case c.MeanFactor != 0 && c.MeanFactor <= 1:
		return errors.New("anomaly: MeanFactor must be > 1 (every amount would be flagged)")
	case math.IsNaN(c.ZScore) || math.IsInf(c.ZScore, 0) || c.ZScore < 0:
		return errors.New("anomaly: ZScore must be finite and ≥ 0")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MinSamples == 0 {
		c.MinSamples = d.MinSamples
	}
	if c.MeanFactor == 0 {
		c.MeanFactor = d.MeanFactor
	}
	if c.ZScore == 0 {
		c.ZScore = d.ZScore
	}
	if c.MaxAgents == 0 {
		c.MaxAgents = d.MaxAgents
	}
	return c
}

// Verdict is the answer for one amount.
type Verdict struct {
	Detected bool
	// Score is amount/mean for ReasonMeanFactor, the z-score for
	// ReasonZScore, and 0 when nothing was detected. Always finite and ≥ 0.
	Score float64
	// Reason is ReasonMeanFactor, ReasonZScore, or "" when not detected.
	Reason string
}

// Checker is the seam the engine calls through; *Detector implements it and
// tests or chaos inject failing ones. Implementations need not be safe for
// concurrent use: the engine calls them under its lock.
type Checker interface {
	Check(agentID string, amountMilli int64) Verdict
	Observe(agentID string, amountMilli int64)
}

var _ Checker = (*Detector)(nil)

// agent is one agent's Welford accumulator over its non-flagged samples.
type agent struct {
	id      string
	count   int64   // folded (non-flagged) samples
	mean    float64 // running mean of folded samples, milli-credits
	m2      float64 // sum of squared deviations (Welford)
	flagged int64   // samples flagged and therefore not folded
	seen    uint64  // tick of the last Observe; orders eviction
	elem    *list.Element
}

// Detector holds per-agent statistics. It is not safe for concurrent use.
type Detector struct {
	cfg    Config
	agents map[string]*agent
	lru    *list.List // front = most recently observed
	tick   uint64     // number of Observe calls that touched an agent
}

// New returns an empty Detector. It panics if cfg is invalid: the caller
// validates configuration at startup.
func New(cfg Config) *Detector {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Detector{cfg: cfg.withDefaults(), agents: make(map[string]*agent), lru: list.New()}
}

// Config returns the effective configuration (defaults filled in).
func (d *Detector) Config() Config { return d.cfg }

// Len is the number of agents currently tracked (≤ MaxAgents).
func (d *Detector) Len() int { return len(d.agents) }

// Check evaluates amountMilli against the agent's statistics before this
// sample. It does not mutate. Unknown agents, non-positive amounts and agents
// with fewer than MinSamples folded samples are never flagged.
func (d *Detector) Check(agentID string, amountMilli int64) Verdict {
	a := d.agents[agentID]
	if a == nil || amountMilli <= 0 {
		return Verdict{}
	}
	return d.check(a, float64(amountMilli))
}

func (d *Detector) check(a *agent, x float64) Verdict {
	if a.count < int64(d.cfg.MinSamples) || !(a.mean > 0) {
		return Verdict{}
	}
	if x >= float64(d.cfg.MeanFactor*a.mean) {
		if s := x / a.mean; finite(s) {
			return Verdict{Detected: true, Score: s, Reason: ReasonMeanFactor}
		}
	}
	if std := a.std(); std > 0 {
		if z := (x - a.mean) / std; z > d.cfg.ZScore && finite(z) {
			return Verdict{Detected: true, Score: z, Reason: ReasonZScore}
		}
	}
	return Verdict{}
}

// Observe is the fold step for one credit.consumed event. A sample that Check
// would flag is counted as flagged and not folded into the statistics; any
// other sample updates (count, mean, M2) by Welford's method. Non-positive
// amounts are ignored (consumes are always positive).
func (d *Detector) Observe(agentID string, amountMilli int64) {
	if amountMilli <= 0 {
		return
	}
	a := d.touch(agentID)
	x := float64(amountMilli)
	if d.check(a, x).Detected {
		a.flagged++
		return
	}
	a.count++
	delta := x - a.mean
	a.mean += float64(delta / float64(a.count))
	a.m2 += float64(delta * float64(x-a.mean))
	if a.m2 < 0 { // rounding can leave a tiny negative; variance is never negative
		a.m2 = 0
	}
}

// touch returns the agent's record, creating it (and evicting the least
// recently observed agent if at MaxAgents), and marks it most recent.
func (d *Detector) touch(agentID string) *agent {
	d.tick++
	if a := d.agents[agentID]; a != nil {
		a.seen = d.tick
		d.lru.MoveToFront(a.elem)
		return a
	}
	if len(d.agents) >= d.cfg.MaxAgents {
		old := d.lru.Back()
		oa := old.Value.(*agent)
		d.lru.Remove(old)
		delete(d.agents, oa.id)
	}
	a := &agent{id: agentID, seen: d.tick}
	a.elem = d.lru.PushFront(a)
	d.agents[agentID] = a
	return a
}

// Stats returns the agent's folded sample count, mean and sample standard
// deviation (0 below two samples), in milli-credits. Unknown agents are zero.
func (d *Detector) Stats(agentID string) (count int64, mean, std float64) {
	a := d.agents[agentID]
	if a == nil {
		return 0, 0, 0
	}
	return a.count, a.mean, a.std()
}

// Flagged returns how many of the agent's observed samples were flagged (and
// therefore not folded).
func (d *Detector) Flagged(agentID string) int64 {
	if a := d.agents[agentID]; a != nil {
		return a.flagged
	}
	return 0
}

func (a *agent) std() float64 {
	if a.count < 2 {
		return 0
	}
	return math.Sqrt(a.m2 / float64(a.count-1))
}

// AgentStats is one agent's state in canonical form.
type AgentStats struct {
	AgentID string
	Count   int64
	Mean    float64
	M2      float64
	Flagged int64
	// Seen orders eviction: the agent with the smallest Seen goes first.
	Seen uint64
}

// Snapshot returns every tracked agent, sorted by AgentID.
func (d *Detector) Snapshot() []AgentStats {
	out := make([]AgentStats, 0, len(d.agents))
	for _, a := range d.agents {
		out = append(out, AgentStats{a.id, a.count, a.mean, a.m2, a.flagged, a.seen})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgentID < out[j].AgentID })
	return out
}

// AppendDigest writes the detector's state to h in canonical order (agents
// sorted by id, floats as IEEE-754 bits, integers big-endian), so two
// detectors that folded the same sequence write the same bytes.
func (d *Detector) AppendDigest(h hash.Hash) {
	var b [8]byte
	u64 := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte("anomaly/v1\x00"))
	u64(d.tick)
	snap := d.Snapshot()
	u64(uint64(len(snap)))
	for _, s := range snap {
		u64(uint64(len(s.AgentID)))
		h.Write([]byte(s.AgentID))
		u64(uint64(s.Count))
		u64(math.Float64bits(s.Mean))
		u64(math.Float64bits(s.M2))
		u64(uint64(s.Flagged))
		u64(s.Seen)
	}
}

// ErrUnavailable is wrapped by every error of Guard and GuardObserve: the
// detector failed and the operation proceeds flagged
// `anomaly_detector: unavailable`.
var ErrUnavailable = errors.New("anomaly: detector unavailable")

// Validate reports a verdict that breaks the Verdict contract: a NaN,
// infinite or negative score, or a reason that does not match Detected.
func (v Verdict) Validate() error {
	if !finite(v.Score) || v.Score < 0 {
		return fmt.Errorf("%w: score %v is not a finite number ≥ 0", ErrUnavailable, v.Score)
	}
	switch {
	case v.Detected && v.Reason != ReasonMeanFactor && v.Reason != ReasonZScore:
		return fmt.Errorf("%w: detected with unknown reason %q", ErrUnavailable, v.Reason)
	case !v.Detected && v.Reason != "":
		return fmt.Errorf("%w: reason %q without detection", ErrUnavailable, v.Reason)
	}
	return nil
}

// Guard runs f (typically a Checker's Check) and isolates its failure: a
// panic or a verdict failing Verdict.Validate becomes an error wrapping
// ErrUnavailable and a zero Verdict.
func Guard(f func() Verdict) (v Verdict, err error) {
	if f == nil {
		return Verdict{}, fmt.Errorf("%w: no checker", ErrUnavailable)
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = Verdict{}, fmt.Errorf("%w: panic: %v", ErrUnavailable, r)
		}
	}()
	v = f()
	if err := v.Validate(); err != nil {
		return Verdict{}, err
	}
	return v, nil
}

// GuardObserve runs f (typically a Checker's Observe) and turns a panic into
// an error wrapping ErrUnavailable.
func GuardObserve(f func()) (err error) {
	if f == nil {
		return fmt.Errorf("%w: no checker", ErrUnavailable)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic: %v", ErrUnavailable, r)
		}
	}()
	f()
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
