package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// BlackoutResult is scenario 4 for one KARMA failure mode.
type BlackoutResult struct {
	Mode     string
	Requests int
	OK       int
	// Answered is every acknowledged consume's karma_source with the time
	// since the blackout's first consume was sent, in order.
	Answered   []SourceAt
	MaxLatency time.Duration
	P99        time.Duration
	// HealthDuring is the backend's health state while KARMA was down.
	HealthDuring string
	// OriginalHealthDuring is GET /api/credits/health (the original's
	// route) read at the same time: its clients read status "ok" as alive.
	OriginalHealthDuring Reply
	Failures             []string
}

// First is the karma_source of the first acknowledged consume ("" when
// none was).
func (r BlackoutResult) First() string {
	if len(r.Answered) == 0 {
		return ""
	}
	return r.Answered[0].Source
}

// Sources counts the acknowledged consumes by karma_source.
func (r BlackoutResult) Sources() map[string]int {
	out := map[string]int{}
	for _, a := range r.Answered {
		out[a.Source]++
	}
	return out
}

// SourceAt is one acknowledged consume's karma_source and when it was
// sent, counted from the blackout's first consume.
type SourceAt struct {
	Source string
	At     time.Duration
}

// Blackout sends n consumes of amountMilli while KARMA is in a failure
// mode (the caller switched it) and records how the backend coped.
func Blackout(ctx context.Context, c *Client, mode, agent string, n int, amountMilli int64) BlackoutResult {
	res := BlackoutResult{Mode: mode}
	var lats []time.Duration
	start := time.Now()
	for i := 0; i < n; i++ {
		at := time.Since(start)
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/consume", Kind: history.KindConsume, Route: "POST /consume (karma " + mode + ")",
			Agent: agent, AmountMilli: amountMilli,
			Key: fmt.Sprintf("karma-%s-%s-%03d", mode, agent, i), Body: map[string]any{"agent_id": agent, "amount": money.Credits(amountMilli), "reason": "karma blackout"}})
		res.Requests++
		lats = append(lats, r.Latency)
		if !r.OK() {
			if len(res.Failures) < 5 {
				res.Failures = append(res.Failures, fmt.Sprintf("%d %s %v", r.Status, r.Raw, r.Err))
			}
			continue
		}
		res.OK++
		meta, _ := r.Body["metadata"].(map[string]any)
		src, _ := meta["karma_source"].(string)
		res.Answered = append(res.Answered, SourceAt{Source: or(src, "missing"), At: at})
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if len(lats) > 0 {
		res.MaxLatency = lats[len(lats)-1]
		res.P99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	res.HealthDuring = c.HealthState(ctx)
	res.OriginalHealthDuring = c.Get(ctx, api+"/health")
	return res
}

// FallbackCount reads fallback_count from GET /karma/status: the sum over
// the instances of a cluster (each counts its own fallbacks). ok is false
// when an answer lacks a numeric fallback_count.
func (c *Client) FallbackCount(ctx context.Context) (n int64, ok bool) {
	bases := c.Instances
	if len(bases) == 0 {
		bases = []string{""}
	}
	for _, b := range bases {
		r := c.Do(ctx, Call{Method: "GET", Path: api + "/karma/status", Base: b})
		num, isNum := r.Body["fallback_count"].(json.Number)
		v, err := num.Int64()
		if !r.OK() || !isNum || err != nil {
			return 0, false
		}
		n += v
	}
	return n, true
}

// HealthState reads the backend's health state (healthy | degraded |
// failed) from /api/health: the "state" field, where creditd keeps it since
// "status" carries the original's "ok"; a target without "state" (an older
// creditd) is read from "status". With Instances set it asks each instance
// and returns the worst state ("" when one did not answer).
func (c *Client) HealthState(ctx context.Context) string {
	if len(c.Instances) == 0 {
		return c.healthOf(ctx, "")
	}
	worst := ""
	for i, u := range c.Instances {
		st := c.healthOf(ctx, u)
		if i == 0 || healthRank(st) > healthRank(worst) {
			worst = st
		}
	}
	return worst
}

func (c *Client) healthOf(ctx context.Context, base string) string {
	r := c.Do(ctx, Call{Method: "GET", Path: "/api/health", Base: base})
	if st := r.Str("state"); st != "" {
		return st
	}
	return r.Str("status")
}

// healthRank orders states from best to worst; anything unknown (failed,
// no answer) is worst.
func healthRank(st string) int {
	switch st {
	case "healthy":
		return 0
	case "degraded":
		return 1
	}
	return 2
}

// WaitHealth polls HealthState until it is one of want or the timeout
// passes; it returns the last state seen.
func (c *Client) WaitHealth(ctx context.Context, timeout time.Duration, want ...string) (string, time.Duration) {
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		last = c.HealthState(ctx)
		if slices.Contains(want, last) {
			return last, time.Since(start)
		}
		select {
		case <-ctx.Done():
			return last, time.Since(start)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last, time.Since(start)
}
