package karma

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Defaults and hard limits of Config. A zero field means its default.
const (
	DefaultTimeout = 100 * time.Millisecond
	MaxTimeout     = 2 * time.Second

	DefaultBreakerFailures = 3
	MaxBreakerFailures     = 1000

	DefaultBreakerCooldown = 2 * time.Second
	MaxBreakerCooldown     = 10 * time.Minute

	DefaultCacheTTL = 5 * time.Minute
	MaxCacheTTL     = 24 * time.Hour

	DefaultCacheMaxAgents = 10_000
	MaxCacheMaxAgents     = 1_000_000

	DefaultMaxInFlight = 64
	MaxMaxInFlight     = 4096

	DefaultProbeInterval = time.Second
	MinProbeInterval     = time.Millisecond
	MaxProbeInterval     = time.Minute

	// DefaultFallback is the original system's CI for an agent KARMA cannot rate.
	DefaultFallback = 0.5

	// MaxAgentIDBytes bounds the agent id put into a request path; longer ids
	// are never sent and get the cache or fallback score.
	MaxAgentIDBytes = 256
)

// ErrInvalidConfig is wrapped by every error of Config.Validate.
var ErrInvalidConfig = errors.New("karma: invalid config")

// Config configures a Client. The zero value is valid and means KARMA is
// disabled: every Score is the fallback and Status reports "disabled".
// Any other zero field takes its default.
type Config struct {
	// URL is KARMA's base URL, e.g. "http://127.0.0.1:8001". Empty disables KARMA.
	URL string
	// Timeout bounds one request, connect to last body byte. Default 100ms, hard max 2s.
	Timeout time.Duration
	// BreakerFailures is the number of consecutive failures that opens the breaker. Default 3.
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before one half-open
	// probe is let through. Default 2s.
	BreakerCooldown time.Duration
	// CacheTTL is how long a live score may be served as "cache" when KARMA
	// fails. Default 5m.
	CacheTTL time.Duration
	// CacheMaxAgents bounds the cache; the oldest-written entry is evicted. Default 10k.
	CacheMaxAgents int
	// MaxInFlight bounds concurrent requests to KARMA; a Score that finds no
	// free slot takes the cache or fallback at once instead of queueing. Default 64.
	MaxInFlight int
	// ProbeInterval is how often the background prober (Start) checks
	// /healthz once the breaker may probe. Default 1s.
	ProbeInterval time.Duration
	// Fallback is the score used when KARMA fails and nothing is cached.
	// Zero means the default 0.5: a fallback of exactly 0 would punish every
	// agent for an outage of KARMA, so it cannot be chosen by accident.
	Fallback float64
	// Transport is the HTTP seam (chaos wrappers, tests). Nil means a
	// dedicated http.Transport with timeouts derived from Timeout.
	Transport http.RoundTripper
	// Now is the clock for the breaker cooldown and the cache TTL. Nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults with KARMA disabled (URL empty); set URL to enable it.
func DefaultConfig() Config {
	return Config{
		Timeout:         DefaultTimeout,
		BreakerFailures: DefaultBreakerFailures,
		BreakerCooldown: DefaultBreakerCooldown,
		CacheTTL:        DefaultCacheTTL,
		CacheMaxAgents:  DefaultCacheMaxAgents,
		MaxInFlight:     DefaultMaxInFlight,
		ProbeInterval:   DefaultProbeInterval,
		Fallback:        DefaultFallback,
	}
}

// Validate checks the config against the hard limits. Zero fields are valid (defaults).
func (c Config) Validate() error {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil {
			return fmt.Errorf("%w: url: %v", ErrInvalidConfig, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("%w: url %q must be http or https", ErrInvalidConfig, c.URL)
		}
		if u.Host == "" {
			return fmt.Errorf("%w: url %q has no host", ErrInvalidConfig, c.URL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%w: url %q must not have a query or fragment", ErrInvalidConfig, c.URL)
		}
	}
	checks := []struct {
		name     string
		v, limit int64
		unit     string
	}{
		{"timeout", int64(c.Timeout), int64(MaxTimeout), "duration"},
		{"breaker failures", int64(c.BreakerFailures), MaxBreakerFailures, ""},
		{"breaker cooldown", int64(c.BreakerCooldown), int64(MaxBreakerCooldown), "duration"},
		{"cache ttl", int64(c.CacheTTL), int64(MaxCacheTTL), "duration"},
		{"cache max agents", int64(c.CacheMaxAgents), MaxCacheMaxAgents, ""},
		{"max in flight", int64(c.MaxInFlight), MaxMaxInFlight, ""},
		{"probe interval", int64(c.ProbeInterval), int64(MaxProbeInterval), "duration"},
	}
	for _, ch := range checks {
		show := func(n int64) any {
			if ch.unit == "duration" {
				return time.Duration(n)
			}
			return n
		}
		if ch.v < 0 {
			return fmt.Errorf("%w: %s %v must not be negative", ErrInvalidConfig, ch.name, show(ch.v))
		}
		if ch.v > ch.limit {
			return fmt.Errorf("%w: %s %v above the hard limit %v", ErrInvalidConfig, ch.name, show(ch.v), show(ch.limit))
		}
	}
	if c.ProbeInterval != 0 && c.ProbeInterval < MinProbeInterval {
		return fmt.Errorf("%w: probe interval %v below %v", ErrInvalidConfig, c.ProbeInterval, MinProbeInterval)
	}
	if math.IsNaN(c.Fallback) || c.Fallback < 0 || c.Fallback > 1 {
		return fmt.Errorf("%w: fallback %v outside [0,1]", ErrInvalidConfig, c.Fallback)
	}
	return nil
}

// withDefaults fills every zero field with its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = d.BreakerFailures
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = d.BreakerCooldown
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = d.CacheTTL
	}
	if c.CacheMaxAgents == 0 {
		c.CacheMaxAgents = d.CacheMaxAgents
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = d.ProbeInterval
	}
	if c.Fallback == 0 {
		c.Fallback = d.Fallback
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
