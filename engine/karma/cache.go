package karma

import (
	"container/list"
	"time"
)

// scoreCache holds the last live score per agent, bounded to max entries;
// when full, the entry written longest ago is evicted. Not safe for
// concurrent use: the Client guards it with its mutex.
type scoreCache struct {
	max     int
	entries map[string]*list.Element // of *cacheEntry
	order   *list.List               // front = written longest ago
}

type cacheEntry struct {
	agentID string
	value   float64
	at      time.Time
}

func newScoreCache(max int) *scoreCache {
	return &scoreCache{max: max, entries: make(map[string]*list.Element), order: list.New()}
}

func (c *scoreCache) put(agentID string, value float64, at time.Time) {
	if el, ok := c.entries[agentID]; ok {
		e := el.Value.(*cacheEntry)
		e.value, e.at = value, at
		c.order.MoveToBack(el)
		return
	}
	for c.order.Len() >= c.max {
		oldest := c.order.Front()
		delete(c.entries, oldest.Value.(*cacheEntry).agentID)
		c.order.Remove(oldest)
	}
	c.entries[agentID] = c.order.PushBack(&cacheEntry{agentID: agentID, value: value, at: at})
}

// get returns the entry if it was written less than ttl before now.
func (c *scoreCache) get(agentID string, now time.Time, ttl time.Duration) (float64, bool) {
	el, ok := c.entries[agentID]
	if !ok {
		return 0, false
	}
	e := el.Value.(*cacheEntry)
	if now.Sub(e.at) >= ttl {
		return 0, false
	}
	return e.value, true
}

func (c *scoreCache) len() int { return c.order.Len() }
