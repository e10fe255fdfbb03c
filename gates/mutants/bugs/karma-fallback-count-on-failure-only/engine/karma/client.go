//go:build mutant

// Seeded bug karma-fallback-count-on-failure-only (gate D): fallback_count is
// counted where a KARMA call failed, not where the fallback score is served:
// while the breaker is open (most of a blackout) fallbacks are not counted.

package karma

import (
	"context"
	"net/url"
	"unicode/utf8"
)

func (c *Client) Score(ctx context.Context, agentID string) Score {
	if c.base == "" || agentID == "" || len(agentID) > MaxAgentIDBytes || !utf8.ValidString(agentID) {
		return c.cacheOrFallback(agentID)
	}
	if ctx.Err() != nil {
		return c.cacheOrFallback(agentID)
	}
	probe, ok := c.admit()
	if !ok {
		return c.cacheOrFallback(agentID)
	}
	v, err := c.call(ctx, "/v1/score/"+url.PathEscape(agentID), agentID)
	if err == nil {
		c.recordSuccess(probe, agentID, v, true)
		c.live.Add(1)
		return Score{Value: v, Source: SourceLive}
	}
	c.recordFailure(ctx, probe, err)
	s := c.cacheOrFallback(agentID)
	if s.Source == SourceFallback {
		c.fallback.Add(1)
	}
	return s
}

func (c *Client) cacheOrFallback(agentID string) Score {
	if agentID != "" {
		c.mu.Lock()
		v, ok := c.cache.get(agentID, c.cfg.Now(), c.cfg.CacheTTL)
		c.mu.Unlock()
		if ok {
			c.cached.Add(1)
			return Score{Value: v, Source: SourceCache}
		}
	}
	return Score{Value: c.cfg.Fallback, Source: SourceFallback}
}
