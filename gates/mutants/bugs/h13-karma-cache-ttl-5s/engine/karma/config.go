//go:build mutant

// Seeded bug h13-karma-cache-ttl-5s (blind hunt 13, in our engine): the
// default KARMA cache keeps a score 5 seconds, not the documented 5
// minutes, so an outage longer than that answers the default CI for agents
// scored just before it. Breaks SPEC §5 ("falls back to the cached score,
// else the default CI = 0.5") as docs/karma.md documents the cache. D47
// judged consumes in the first seconds of each outage only; it now also
// judges some 8 s after the live score.
package karma

import "time"

func DefaultConfig() Config {
	return Config{
		Timeout:         DefaultTimeout,
		BreakerFailures: DefaultBreakerFailures,
		BreakerCooldown: DefaultBreakerCooldown,
		CacheTTL:        5 * time.Second,
		CacheMaxAgents:  DefaultCacheMaxAgents,
		MaxInFlight:     DefaultMaxInFlight,
		ProbeInterval:   DefaultProbeInterval,
		Fallback:        DefaultFallback,
	}
}
