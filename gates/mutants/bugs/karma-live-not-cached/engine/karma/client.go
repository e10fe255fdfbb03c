//go:build mutant

// Seeded bug karma-live-not-cached (gate D): Score records a live answer
// as a success but does not store it in the cache (store false, as for a
// health probe), so during a blackout every agent gets the fallback CI
// instead of its cached live score.

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
		c.recordSuccess(probe, agentID, v, false)
		c.live.Add(1)
		return Score{Value: v, Source: SourceLive}
	}
	c.recordFailure(ctx, probe, err)
	return c.cacheOrFallback(agentID)
}
