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

// RaceResult is what one approval race sent: racers approving or
// rejecting one pending request at once. The answers are in the client
// history (Ops); gates/audit.ApprovalRaces judges them.
type RaceResult struct {
	RequestID string
	Ops       []uint64 // history ids of the racers' operations
	Latencies []time.Duration
}

// RequestApproval opens a pending request to add amountMilli and returns
// its id.
func (c *Client) RequestApproval(ctx context.Context, agent, requester string, amountMilli int64, justification, key string) (string, Reply) {
	body := map[string]any{"action_type": "add", "agent_id": agent, "amount": money.Credits(amountMilli), "reason": "gate", "requester_id": requester}
	if justification != "" {
		body["justification"] = justification
	}
	r := c.Do(ctx, Call{Method: "POST", Path: api + "/approvals", Kind: history.KindApprovalRequest, Key: key, Body: body,
		Agent: agent, AmountMilli: amountMilli})
	return r.Str("request_id"), r
}

// Decide sends one approve (or reject) by approver.
func (c *Client) Decide(ctx context.Context, id, approver string, approve bool, justification, key string) Reply {
	return c.DecideAt(ctx, id, approver, approve, justification, key, nil)
}

// DecideAt is Decide with the request's version the decider saw sent as
// expected_version (SPEC §5's optimistic concurrency); nil sends none.
func (c *Client) DecideAt(ctx context.Context, id, approver string, approve bool, justification, key string, version any) Reply {
	return c.decide(ctx, id, approver, approve, justification, key, version, false)
}

// DecideIfMatch is Decide with the request's version the decider saw sent
// as the If-Match header (SPEC §5), an entity tag as RFC 9110 writes it
// ("3"), and no expected_version.
func (c *Client) DecideIfMatch(ctx context.Context, id, approver string, approve bool, justification, key string, version any) Reply {
	return c.decide(ctx, id, approver, approve, justification, key, version, true)
}

// decide sends one decision with version (nil: none) in the body's
// expected_version or, inHeader, in If-Match.
func (c *Client) decide(ctx context.Context, id, approver string, approve bool, justification, key string, version any, inHeader bool) Reply {
	verb, kind := "reject", history.KindReject
	if approve {
		verb, kind = "approve", history.KindApprove
	}
	body := map[string]any{"approver_id": approver}
	if justification != "" {
		body["justification"] = justification
	}
	call := Call{Method: "POST", Path: api + "/approvals/" + id + "/" + verb, Kind: kind, Entity: id,
		Route: "POST /approvals/{id}/" + verb, Key: key, Body: body, Token: c.approverToken(approver)}
	switch {
	case version == nil:
	case inHeader:
		call.IfMatch = fmt.Sprintf("%q", fmt.Sprint(version))
	default:
		body["expected_version"] = version
	}
	return c.Do(ctx, call)
}

// DecideAsRequester sends an approval with the client's own (requesting)
// identity: with auth that is the token's principal, in dev mode the body's
// approver_id.
func (c *Client) DecideAsRequester(ctx context.Context, id, requester, key string) Reply {
	return c.Do(ctx, Call{Method: "POST", Path: api + "/approvals/" + id + "/approve", Kind: history.KindApprove, Entity: id,
		Route: "POST /approvals/{id}/approve", Key: key, Body: map[string]any{"approver_id": requester, "justification": "mine"}})
}

// Race sends racers approve/reject calls (seeded mix) on one request at
// once and returns what it sent; it judges nothing.
func Race(ctx context.Context, c *Client, rng *rand.Rand, id string, racers int, keyPrefix string) RaceResult {
	res := RaceResult{RequestID: id}
	approve := make([]bool, racers)
	for i := range approve {
		approve[i] = rng.IntN(3) != 0
	}
	// Half the racers (seeded) send the version they all saw as
	// expected_version: a loser must still get already_decided naming the
	// winner (SPEC §5), whatever a stale version would otherwise say. The
	// version is read first; a backend that serves no request view gets
	// no versions.
	var seen any
	if r := c.Get(ctx, api+"/approvals/"+id); r.OK() {
		seen = r.Body["version"]
	}
	versions := make([]any, racers)
	for i := range versions {
		if rng.IntN(2) == 0 {
			versions[i] = seen
		}
	}
	replies := make([]Reply, racers)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			replies[i] = c.DecideAt(ctx, id, fmt.Sprintf("approver-%02d", i), approve[i], "race", fmt.Sprintf("%s-%s-r%02d", keyPrefix, id, i), versions[i])
		}(i)
	}
	close(gate)
	wg.Wait()
	for _, r := range replies {
		res.Ops = append(res.Ops, r.Op.ID)
		res.Latencies = append(res.Latencies, r.Latency)
	}
	return res
}

// LateDecisions sends one more decision on each request, after every race
// on it returned: the real-time rule RT3 (gates/audit) requires each to be
// refused already_decided. It returns the replies in the order of ids.
func LateDecisions(ctx context.Context, c *Client, ids []string, keyPrefix string) []Reply {
	out := make([]Reply, len(ids))
	for i, id := range ids {
		out[i] = c.Decide(ctx, id, "late-approver", i%2 == 0, "late", fmt.Sprintf("%s-%s-late", keyPrefix, id))
	}
	return out
}
