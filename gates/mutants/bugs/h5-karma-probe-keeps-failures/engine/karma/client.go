//go:build mutant

// Seeded bug h5-karma-probe-keeps-failures (blind hunt 5): a success resets
// the consecutive-failure count only when it carries a score (the reset sits
// inside `if store`): the background health probe that closes the breaker
// after a blackout leaves the count at the breaker limit, so with no score
// traffic KARMA stays "degraded" (GET /karma/status: breaker closed,
// consecutive_failures 3) and GET /health stays state "degraded" forever
// after KARMA came back; only a later consume clears it. Breaks SPEC §5
// (KARMA: "Health shows KARMA degraded during a blackout and recovers by
// itself").

package karma

// recordSuccess closes the breaker: any answer proves KARMA is back, even a
// late one from a request sent before the breaker opened.
func (c *Client) recordSuccess(probe bool, agentID string, v float64, store bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if probe {
		c.probeInFlight = false
	}
	c.breaker = BreakerClosed
	c.lastSuccess = now
	if store {
		// A score came back: KARMA rates agents again.
		c.consecutiveFailures = 0
		c.cache.put(agentID, v, now)
	}
}
