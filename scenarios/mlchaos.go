package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// ChaosResult is scenario 5: anomalous consumes at 10× the norm.
type ChaosResult struct {
	Agent      string
	Normal     int
	Anomalous  int
	Flagged    int // anomalous consumes answered with anomaly_detected
	Blocked    int // anomalous consumes refused (must be 0)
	Throttled  int // 429/503 answers (must be 0)
	FalseFlags int // normal consumes flagged
	// Reported counts consume answers that carry metadata.anomaly_detected
	// at all (true or false): 0 means the backend does not expose its
	// verdict, and flagging cannot be judged.
	Reported     int
	ScoreMin     float64
	ScoreMax     float64
	Backpressure float64 // max regulation backpressure seen
	Samples      int
	// Big is the reply to the final consume of 10000 credits.
	Big Reply
}

// Funding is how ML chaos gives its agent the 20,000 credits of the final
// big consume: through an approval (at or above the threshold, adds are
// gated), or, on a backend without approval routes, through adds below the
// threshold.
type Funding int

const (
	FundByApproval Funding = iota
	FundByAdds
)

// fundMilli is what the agent receives; fundStepMilli is one add below
// SPEC §5's default threshold of 500 credits.
const (
	fundMilli     = 20_000_000
	fundStepMilli = 499_999
)

// sustainedAnomalies is the length of ML chaos' anomalies-only phase, at
// ten a second: 12 s, six EoC windows of 2 s.
const sustainedAnomalies = 120

// MLChaos builds an agent's norm, then interleaves normal consumes with
// anomalous ones at 10× the norm, then sends anomalous ones alone for 12 s,
// sampling GET /eoc throughout; finally it consumes 10000 credits at once.
func MLChaos(ctx context.Context, c *Client, rng *rand.Rand, agent string, rounds int, fund Funding) (ChaosResult, error) {
	res := ChaosResult{Agent: agent, ScoreMin: 1, ScoreMax: 0}
	if err := c.CreateAgent(ctx, agent, 1000); err != nil {
		return res, err
	}
	if fund == FundByAdds {
		for i, left := 0, int64(fundMilli); left > 0; i++ {
			step := min(left, fundStepMilli)
			r := c.Do(ctx, Call{Method: "POST", Path: api + "/add", Kind: history.KindAdd, Role: history.Setup, Agent: agent, AmountMilli: step,
				Key: fmt.Sprintf("ml-fund-%s-%03d", agent, i), Body: map[string]any{"agent_id": agent, "amount": money.Credits(step), "reason": "fund ML chaos"}})
			if !r.OK() {
				return res, fmt.Errorf("funding add %d: %d %s", i, r.Status, r.Raw)
			}
			left -= step
		}
	} else {
		id, r := c.RequestApproval(ctx, agent, "ml-requester", 20_000_000, "fund ML chaos", "ml-fund-"+agent)
		if id == "" {
			return res, fmt.Errorf("funding request: %d %s", r.Status, r.Raw)
		}
		if r := c.Decide(ctx, id, "ml-approver", true, "fund ML chaos", "ml-fund-ok-"+agent); !r.OK() {
			return res, fmt.Errorf("funding approval: %d %s", r.Status, r.Raw)
		}
	}
	consume := func(amountMilli int64, i int, kind string) Reply {
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Route: "POST /consume (" + kind + ")",
			Agent: agent, AmountMilli: amountMilli,
			Key: fmt.Sprintf("ml-%s-%s-%04d", kind, agent, i), Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "ml " + kind}})
		if r.HasAnomalyVerdict() {
			res.Reported++
		}
		return r
	}
	sample := func() {
		r := c.Get(ctx, api+"/eoc")
		if !r.OK() {
			return
		}
		s := Num(r.Body["score"])
		res.ScoreMin, res.ScoreMax = min(res.ScoreMin, s), max(res.ScoreMax, s)
		if reg, ok := r.Body["regulation"].(map[string]any); ok {
			res.Backpressure = max(res.Backpressure, Num(reg["backpressure"]))
		}
		res.Samples++
	}
	for i := 0; i < 10; i++ { // the norm: about 5 credits
		r := consume(4500+10*int64(rng.IntN(100)), i, "norm")
		if r.AnomalyDetected() {
			res.FalseFlags++
		}
		res.Normal++
	}
	for i := 0; i < rounds; i++ {
		r := consume(4500+10*int64(rng.IntN(100)), 100+i, "norm")
		res.Normal++
		if r.AnomalyDetected() {
			res.FalseFlags++
		}
		a := consume(50_000+10*int64(rng.IntN(1000)), i, "anomaly") // ≥ 10× the norm
		res.Anomalous++
		switch {
		case a.Status == 429 || a.Status == 503:
			res.Throttled++
		case !a.OK():
			res.Blocked++
		case a.AnomalyDetected():
			res.Flagged++
		}
		if i%5 == 0 {
			sample()
		}
	}
	// Sustained chaos: anomalies alone, ten a second for longer than a few
	// EoC windows, so a score that anomalies push down step by step (an
	// anomaly counted as an error) leaves the band within it. Blocks and
	// throttles count; flags do not (a backend may adapt its norm).
	for i, next := 0, time.Now(); i < sustainedAnomalies; i++ {
		time.Sleep(time.Until(next))
		next = next.Add(time.Second / 10)
		switch a := consume(50_000+10*int64(rng.IntN(1000)), 1000+i, "sustained"); {
		case a.Status == 429 || a.Status == 503:
			res.Throttled++
		case !a.OK():
			res.Blocked++
		}
		if i%5 == 0 {
			sample()
		}
	}
	time.Sleep(50 * time.Millisecond)
	sample()
	res.Big = consume(10_000_000, 0, "big")
	sample()
	return res, nil
}

// AnomalyDetected reports metadata.anomaly_detected of a consume's answer.
func (r Reply) AnomalyDetected() bool {
	meta, _ := r.Body["metadata"].(map[string]any)
	f, _ := meta["anomaly_detected"].(bool)
	return f
}

// HasAnomalyVerdict reports whether a consume's answer carries
// metadata.anomaly_detected at all (true or false).
func (r Reply) HasAnomalyVerdict() bool {
	meta, _ := r.Body["metadata"].(map[string]any)
	_, ok := meta["anomaly_detected"].(bool)
	return ok
}

// SteadyTenfold gives a new agent a steady norm (warm consumes of exactly 5
// credits: every running mean, median or moving average of them is 5) and
// then consumes exactly ten times it. Scenario 5 wants a consume at 10× the
// norm flagged, so the boundary itself must be; with warm the detector's
// minimum number of samples, that boundary too.
func SteadyTenfold(ctx context.Context, c *Client, agent string, warm int) (Reply, error) {
	if err := c.CreateAgent(ctx, agent, 1000); err != nil {
		return Reply{}, err
	}
	consume := func(amountMilli int64, key string) Reply {
		return c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Route: "POST /consume (tenfold)",
			Agent: agent, AmountMilli: amountMilli, Key: key,
			Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "ml tenfold"}})
	}
	for i := range warm {
		if r := consume(5_000, fmt.Sprintf("ml-steady-%s-%02d", agent, i)); !r.OK() {
			return r, fmt.Errorf("steady consume %d: %d %s", i, r.Status, r.Raw)
		}
	}
	return consume(50_000, "ml-tenfold-"+agent), nil
}
