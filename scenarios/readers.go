package scenarios

import (
	"context"
	"sync"
	"time"
)

// PollReads reads the balances and, every third read, the newest history
// entries of agents round robin from workers goroutines, pausing between
// reads, until ctx is done, and returns how many reads were sent. Every
// read is recorded with its value and its call and return times, for the
// real-time rules of gates/audit; a read that
// fails (an agent not yet created, a backend being restarted) is recorded
// as such and judged by nobody.
func PollReads(ctx context.Context, c *Client, agents []string, workers int, pause time.Duration) int {
	if len(agents) == 0 {
		return 0
	}
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				if a := agents[i%len(agents)]; i%3 == 2 {
					c.Get(ctx, api+"/history/"+a+"?limit=5")
				} else {
					c.Get(ctx, api+"/balance/"+a)
				}
				mu.Lock()
				n++
				mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		}(w)
	}
	wg.Wait()
	return n
}
