package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// StormConfig is scenario 1: agents × credits, workers × consumes of random
// amounts, with a seeded share of retries (some concurrent).
type StormConfig struct {
	Agents, Credits    int
	Workers, PerWorker int
	MaxAmount          int     // credits per consume, 1..MaxAmount (plus a random 3-decimal fraction)
	RetryShare         float64 // 0 = no retry injection
	KeyPrefix          string
	Keyless            int // extra consumes sent without an idempotency key
}

// DefaultStorm is the original setup: 10 agents × 1000 credits, 50 workers
// × 20 consumes.
func DefaultStorm(workers int, retry bool) StormConfig {
	c := StormConfig{Agents: 10, Credits: 1000, Workers: workers, PerWorker: 20, MaxAmount: 60, KeyPrefix: "storm", Keyless: 20}
	if retry {
		c.RetryShare = 0.2
	}
	return c
}

// AgentID is the id of the storm's i-th agent.
func (cfg StormConfig) AgentID(i int) string { return fmt.Sprintf("%s-agent-%02d", cfg.KeyPrefix, i) }

// AgentIDs are the ids of the storm's agents (known before they exist, so
// readers can poll them during the storm).
func (cfg StormConfig) AgentIDs() []string {
	ids := make([]string, cfg.Agents)
	for i := range ids {
		ids[i] = cfg.AgentID(i)
	}
	return ids
}

// StormResult is what scenario 1 measured.
type StormResult struct {
	AgentIDs   []string
	Requests   int
	OK         int
	Refused    int // refusals the storm provokes (insufficient_credits)
	Unexpected int // any other answer (other refusals, unknown outcomes)
	// Retries counts copies sent with an earlier request's key (sequential
	// retries and concurrent duplicates). Whether they returned the original
	// event is judged by gates/audit over the history, not here.
	Retries    int
	Elapsed    time.Duration
	Throughput float64 // requests/s over the storm
}

// Storm runs scenario 1 against the client's target.
func Storm(ctx context.Context, c *Client, rng *rand.Rand, cfg StormConfig) (StormResult, error) {
	res := StormResult{}
	for i := 0; i < cfg.Agents; i++ {
		id := cfg.AgentID(i)
		if err := c.CreateAgent(ctx, id, cfg.Credits); err != nil {
			return res, err
		}
		res.AgentIDs = append(res.AgentIDs, id)
	}
	// Plan every operation up front from the seed, so the same seed gives the
	// same operations whatever the scheduling.
	type op struct {
		agent   string
		milli   int
		key     string
		retry   bool
		concDup bool
	}
	plans := make([][]op, cfg.Workers)
	for w := range plans {
		for j := 0; j < cfg.PerWorker; j++ {
			o := op{agent: res.AgentIDs[rng.IntN(len(res.AgentIDs))], milli: 1000*(1+rng.IntN(cfg.MaxAmount)) + rng.IntN(1000),
				key: fmt.Sprintf("%s-w%03d-%03d", cfg.KeyPrefix, w, j)}
			if cfg.RetryShare > 0 && rng.Float64() < cfg.RetryShare {
				o.retry = true
				o.concDup = rng.IntN(2) == 0
			}
			plans[w] = append(plans[w], o)
		}
	}
	var mu sync.Mutex
	tally := func(r Reply) {
		mu.Lock()
		defer mu.Unlock()
		res.Requests++
		switch {
		case r.Op.Outcome.Acked():
			res.OK++
		case r.Op.Outcome == history.Refused && r.Code() == "insufficient_credits":
			res.Refused++
		default:
			res.Unexpected++
		}
	}
	c.ResetLatency()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range plans {
		wg.Add(1)
		go func(ops []op) {
			defer wg.Done()
			for _, o := range ops {
				call := Call{Method: "POST", Path: api + "/consume", Key: o.key, Kind: history.KindConsume, Route: "POST /consume",
					Agent: o.agent, AmountMilli: int64(o.milli),
					Body: map[string]any{"agent_id": o.agent, "amount": money.Credits(int64(o.milli)), "reason": "storm"}}
				if o.concDup {
					// Two copies in flight at once: exactly one event may result.
					dup := call
					dup.Role = history.ConcurrentDuplicate
					var r1, r2 Reply
					var inner sync.WaitGroup
					inner.Add(2)
					go func() { defer inner.Done(); r1 = c.Do(ctx, call) }()
					go func() { defer inner.Done(); r2 = c.Do(ctx, dup) }()
					inner.Wait()
					tally(r1)
					tally(r2)
					mu.Lock()
					res.Retries++
					mu.Unlock()
					continue
				}
				r := c.Do(ctx, call)
				tally(r)
				if o.retry && r.OK() {
					retry := call
					retry.Role = history.Retry
					tally(c.Do(ctx, retry))
					mu.Lock()
					res.Retries++
					mu.Unlock()
				}
			}
		}(plans[w])
	}
	wg.Wait()
	for i := 0; i < cfg.Keyless; i++ {
		a := res.AgentIDs[i%len(res.AgentIDs)]
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Route: "POST /consume", Agent: a, AmountMilli: 500,
			Body: map[string]any{"agent_id": a, "amount": money.Credits(500), "reason": "keyless"}})
		tally(r)
	}
	res.Elapsed = time.Since(start)
	res.Throughput = float64(res.Requests) / res.Elapsed.Seconds()
	return res, nil
}

// HotSpotResult is many concurrent consumes on one agent released at once.
type HotSpotResult struct {
	Agent        string
	Accepted     int
	Insufficient int
	Other        []string
	FinalMilli   int64
}

// HotSpot funds one agent with credits and releases workers consumes of
// amountMilli at the same instant: at most credits/amount may succeed.
func HotSpot(ctx context.Context, c *Client, agent string, credits, workers int, amountMilli int64) (HotSpotResult, error) {
	res := HotSpotResult{Agent: agent}
	if err := c.CreateAgent(ctx, agent, credits); err != nil {
		return res, err
	}
	replies := make([]Reply, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			replies[w] = c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Route: "POST /consume", Agent: agent, AmountMilli: amountMilli,
				Key: fmt.Sprintf("hotspot-%s-%03d", agent, w), Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "hot spot"}})
		}(w)
	}
	close(start)
	wg.Wait()
	for _, r := range replies {
		switch {
		case r.OK():
			res.Accepted++
		case r.Code() == "insufficient_credits":
			res.Insufficient++
		default:
			res.Other = append(res.Other, fmt.Sprintf("%d %s", r.Status, r.Raw))
		}
	}
	r := c.Get(ctx, api+"/balance/"+agent)
	if !r.OK() {
		return res, fmt.Errorf("balance: %d %s", r.Status, r.Raw)
	}
	m, err := money.FromJSON(r.Body["balance"])
	if err != nil {
		return res, fmt.Errorf("balance: %w in %s", err, r.Raw)
	}
	res.FinalMilli = m
	return res, nil
}
