package scenarios

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// Fill sends n keyed consumes of amountMilli on agent from workers
// goroutines (keys keyPrefix-00001 …) and returns how many were not
// acknowledged. It makes a journal or a key index long without caring
// about the answers' content.
func (c *Client) Fill(ctx context.Context, agent string, n, workers int, amountMilli int64, keyPrefix string) int {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				r := c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Key: fmt.Sprintf("%s-%05d", keyPrefix, i),
					Agent: agent, AmountMilli: amountMilli, Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "fill"}})
				if !r.OK() {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}
