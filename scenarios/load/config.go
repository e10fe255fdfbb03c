package load

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/creditgate/creditgate/scenarios/loopback"
)

// Phase is a named stretch of the attack with its own pacer, which starts at
// its phase's beginning (time 0 of the pacer = start of the phase).
type Phase struct {
	Name     string
	Duration time.Duration
	Pacer    Pacer
	// Warmup phases are measured in their own phase histogram only: they
	// count neither in the overall and per-endpoint histograms nor in the
	// achieved rate.
	Warmup bool
}

// Mix weighs the operations of the plan (relative weights, not percentages).
type Mix struct {
	Consume, Refund, Refill    int // POST /consume, /refund, /add (small top-up)
	Balance, History, Balances int // GET /balance/{id}, /history/{id}?limit=20, /balances
	Approval, Collaboration    int // POST /approvals + approve; POST /synergie/collaborations
}

func (m Mix) total() int {
	return m.Consume + m.Refund + m.Refill + m.Balance + m.History + m.Balances + m.Approval + m.Collaboration
}

// DefaultMix is mostly consumes and reads; the refill keeps agents solvent
// (refill share × RefillAmount > consume share × mean consume); approvals
// and collaborations create per-request state on the server and stay rare.
var DefaultMix = Mix{
	Consume: 40, Refund: 5, Refill: 3,
	Balance: 25, History: 10, Balances: 5,
	Approval: 1, Collaboration: 1,
}

// Config is one load profile. The zero value is valid once BaseURL is set:
// every zero field takes the value of DefaultConfig. Run validates it.
type Config struct {
	// BaseURL of the backend, e.g. http://127.0.0.1:8000. Its host must be a
	// loopback address or "localhost" unless AllowRemote is set.
	BaseURL string
	// APIPrefix of the credit API (default "/api/credits").
	APIPrefix string
	// Token is sent as "Authorization: Bearer <Token>" when set.
	Token string
	// ApproverToken is used for approval decisions (four-eyes: the approver
	// must be a different principal than the requester); defaults to Token.
	ApproverToken string
	// AllowRemote permits a non-loopback BaseURL (a user's own backend).
	AllowRemote bool

	// Seed drives every random choice (operation plan, amounts, retries).
	Seed uint64
	// Concurrency is the number of workers, i.e. the maximum number of
	// hits in flight (a hit's concurrent duplicate rides with it). When all
	// are busy, due hits wait and the wait counts in their latency.
	Concurrency int
	// Phases of the attack, in order. When empty, one phase "steady" of
	// Duration at Constant(Rate).
	Phases   []Phase
	Rate     float64
	Duration time.Duration

	// Mix of operations; zero means DefaultMix.
	Mix Mix
	// Agents is the number of agents created in setup (default 20).
	Agents int
	// RetryShare is the share of mutations (consume, refund, refill) that are
	// sent twice with the same Idempotency-Key: half right after the original
	// returned, half concurrently with it. Negative disables (default 0.05).
	RetryShare float64
	// KeyPrefix namespaces idempotency keys, agent ids and collaboration ids.
	// Default "cg<seed>"; set a unique one (e.g. the run id) when reusing a
	// backend across runs with the same seed.
	KeyPrefix string
	// ConsumeMaxMilli bounds consume/refund amounts (default 5000 = 5 credits).
	ConsumeMaxMilli int64
	// RefillMilli is the top-up amount of a refill (default 100 credits,
	// always below the 500-credit approval threshold).
	RefillMilli int64
	// SetupMilli is added to each agent after creation (default 400 credits).
	SetupMilli int64

	// RequestTimeout bounds every request (default 10s); a timeout is
	// recorded with outcome "unknown".
	RequestTimeout time.Duration
	// Interval of the timeseries and of the HDR interval log (default 1s).
	Interval time.Duration
	// IntervalLogPath, when set, receives the HDR interval log (one
	// histogram per Interval, microseconds).
	IntervalLogPath string
	// HistoryPath, when set, receives every request of the run as JSONL
	// while it runs (scenarios/history records; dropped ones too), so a
	// long run's whole history is on disk whatever HistoryCap keeps in
	// memory.
	HistoryPath string
	// Progress, when set, is called every ProgressEvery (default 10s).
	Progress      func(Progress)
	ProgressEvery time.Duration
	// HistoryCap bounds the recorded mutation history (default 2,000,000).
	HistoryCap int
	// ErrorSamples bounds the kept samples of each error class (default 10).
	ErrorSamples int
}

// Hard limits; Validate refuses anything beyond them.
const (
	maxConcurrency = 10_000
	maxDuration    = 24 * time.Hour
	maxPhases      = 64
	maxAgents      = 10_000
	maxTotalHits   = 50_000_000
	maxHistoryCap  = 20_000_000
)

// DefaultConfig is a short steady run at 100 hits/s and concurrency 50.
func DefaultConfig() Config {
	return Config{
		APIPrefix:       "/api/credits",
		Seed:            42,
		Concurrency:     50,
		Rate:            100,
		Duration:        30 * time.Second,
		Mix:             DefaultMix,
		Agents:          20,
		RetryShare:      0.05,
		ConsumeMaxMilli: 5_000,
		RefillMilli:     100_000,
		SetupMilli:      400_000,
		RequestTimeout:  10 * time.Second,
		Interval:        time.Second,
		ProgressEvery:   10 * time.Second,
		HistoryCap:      2_000_000,
		ErrorSamples:    10,
	}
}

// ProfileFor returns the gate-E profile for concurrency 50, 100 or 300 (any
// positive value works): target rate 2×concurrency hits/s, a warmup ramp of
// 10% (at most 30s), a steady phase, and a spike phase of 10% (at least 5s)
// that doubles the rate for its middle third.
func ProfileFor(concurrency int, total time.Duration) Config {
	c := DefaultConfig()
	c.Concurrency = concurrency
	rate := float64(2 * concurrency)
	c.Rate, c.Duration = rate, total
	warm := min(total/10, 30*time.Second)
	spike := max(total/10, 5*time.Second)
	steady := total - warm - spike
	if steady <= 0 {
		c.Phases = nil // too short for phases: one steady phase
		return c
	}
	c.Phases = []Phase{
		{Name: "warmup", Duration: warm, Pacer: Ramp(rate/10, rate, warm), Warmup: true},
		{Name: "steady", Duration: steady, Pacer: Constant(rate)},
		{Name: "spike", Duration: spike, Pacer: Spike(rate, 2*rate, spike/3, spike/3)},
	}
	return c
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.APIPrefix == "" {
		c.APIPrefix = d.APIPrefix
	}
	if c.ApproverToken == "" {
		c.ApproverToken = c.Token
	}
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if len(c.Phases) == 0 {
		if c.Rate == 0 {
			c.Rate = d.Rate
		}
		if c.Duration == 0 {
			c.Duration = d.Duration
		}
		c.Phases = []Phase{{Name: "steady", Duration: c.Duration, Pacer: Constant(c.Rate)}}
	} else {
		c.Duration = 0
		for _, p := range c.Phases {
			c.Duration += p.Duration
		}
	}
	if c.Mix.total() == 0 {
		c.Mix = d.Mix
	}
	if c.Agents == 0 {
		c.Agents = d.Agents
	}
	if c.RetryShare == 0 {
		c.RetryShare = d.RetryShare
	}
	if c.RetryShare < 0 {
		c.RetryShare = 0
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = fmt.Sprintf("cg%d", c.Seed)
	}
	if c.ConsumeMaxMilli == 0 {
		c.ConsumeMaxMilli = d.ConsumeMaxMilli
	}
	if c.RefillMilli == 0 {
		c.RefillMilli = d.RefillMilli
	}
	if c.SetupMilli == 0 {
		c.SetupMilli = d.SetupMilli
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = d.ProgressEvery
	}
	if c.HistoryCap == 0 {
		c.HistoryCap = d.HistoryCap
	}
	if c.ErrorSamples == 0 {
		c.ErrorSamples = d.ErrorSamples
	}
	return c
}

// Validate reports the first problem of c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := CheckTarget(c.BaseURL, c.AllowRemote); err != nil {
		return err
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return fmt.Errorf("load: concurrency %d outside [1, %d]", c.Concurrency, maxConcurrency)
	case len(c.Phases) > maxPhases:
		return fmt.Errorf("load: %d phases, at most %d", len(c.Phases), maxPhases)
	case c.Duration <= 0 || c.Duration > maxDuration:
		return fmt.Errorf("load: duration %s outside (0, %s]", c.Duration, maxDuration)
	case c.Agents < 2 || c.Agents > maxAgents:
		return fmt.Errorf("load: agents %d outside [2, %d] (collaborations need two)", c.Agents, maxAgents)
	case math.IsNaN(c.RetryShare) || c.RetryShare > 1:
		return fmt.Errorf("load: retry share %v outside [0, 1]", c.RetryShare)
	case c.ConsumeMaxMilli < 1 || c.RefillMilli < 1 || c.SetupMilli < 1:
		return errors.New("load: amounts must be positive")
	case c.RefillMilli >= 500_000 || c.SetupMilli >= 500_000:
		return errors.New("load: refill and setup amounts must stay below the 500-credit approval threshold")
	case c.RequestTimeout < time.Millisecond || c.RequestTimeout > 5*time.Minute:
		return fmt.Errorf("load: request timeout %s outside [1ms, 5m]", c.RequestTimeout)
	case c.Interval < 100*time.Millisecond:
		return fmt.Errorf("load: interval %s below 100ms", c.Interval)
	case c.HistoryCap < 1 || c.HistoryCap > maxHistoryCap:
		return fmt.Errorf("load: history cap %d outside [1, %d]", c.HistoryCap, maxHistoryCap)
	case c.Mix.Consume < 0 || c.Mix.Refund < 0 || c.Mix.Refill < 0 || c.Mix.Balance < 0 ||
		c.Mix.History < 0 || c.Mix.Balances < 0 || c.Mix.Approval < 0 || c.Mix.Collaboration < 0:
		return errors.New("load: negative mix weight")
	}
	for i, p := range c.Phases {
		if p.Duration <= 0 {
			return fmt.Errorf("load: phase %d (%q) has no duration", i, p.Name)
		}
		if err := p.Pacer.validate(); err != nil {
			return fmt.Errorf("load: phase %q: %w", p.Name, err)
		}
	}
	// Bound the total number of hits (and so the plan and the history).
	var hits float64
	for _, p := range c.Phases {
		hits += p.Pacer.maxRate() * p.Duration.Seconds()
	}
	if hits > maxTotalHits {
		return fmt.Errorf("load: schedule of up to %.0f hits exceeds %d", hits, maxTotalHits)
	}
	return nil
}

// pacer is the whole schedule: the phases' pacers back to back.
func (c Config) pacer() Pacer {
	p := newPacer(nil)
	var at time.Duration
	for _, ph := range c.Phases {
		p = p.Then(at, ph.Pacer.Truncate(ph.Duration))
		at += ph.Duration
	}
	return p.Truncate(at)
}

// ErrNotLoopback is returned for a target outside 127.0.0.0/8, ::1 and
// localhost without AllowRemote (the harness's one rule, scenarios/loopback).
var ErrNotLoopback = loopback.ErrNotLoopback

// CheckTarget refuses a base URL that is not http(s) on a loopback host
// unless allowRemote is set.
func CheckTarget(baseURL string, allowRemote bool) error {
	return loopback.CheckURL("load: base URL", baseURL, allowRemote)
}
