//go:build mutant

// Seeded bug h7-karma-open-skips-cache (blind hunt 7): while the breaker is open, Score answers the
// fallback 0.5 at once instead of the cached live score. Breaks SPEC §5 (KARMA down: fall back to
// the cached score, else 0.5): the first consumes of an outage (before the breaker opens) are still
// answered from the cache, every later one of the same agent with the fallback — and a reward's
// KARMA weight with it. A client sees: a consume scored live (0.35), KARMA erroring, consumes 1–3
// karma_source cache, 4 on fallback.

package karma

import (
	"context"
	"net/url"
	"unicode/utf8"
)

// Score returns agentID's score. It never fails: when KARMA is disabled,
// unreachable, slow, erroring, answering garbage or behind an open breaker,
// it returns the cached live score (if younger than CacheTTL) or the
// fallback. It returns within about Config.Timeout, and at once while the
// breaker is open. A call cut short because ctx was canceled is not counted
// against KARMA.
func (c *Client) Score(ctx context.Context, agentID string) Score {
	if c.base == "" || agentID == "" || len(agentID) > MaxAgentIDBytes || !utf8.ValidString(agentID) {
		return c.cacheOrFallback(agentID)
	}
	if ctx.Err() != nil {
		return c.cacheOrFallback(agentID)
	}
	probe, ok := c.admit()
	if !ok {
		// Breaker open: KARMA is down, answer at once with the fallback.
		c.fallback.Add(1)
		return Score{Value: c.cfg.Fallback, Source: SourceFallback}
	}
	v, err := c.call(ctx, "/v1/score/"+url.PathEscape(agentID), agentID)
	if err == nil {
		c.recordSuccess(probe, agentID, v, true)
		c.live.Add(1)
		return Score{Value: v, Source: SourceLive}
	}
	c.recordFailure(ctx, probe, err)
	return c.cacheOrFallback(agentID)
}
