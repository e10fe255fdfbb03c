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

// RaceResult is one approval race: racers approving or rejecting one
// pending request at once.
type RaceResult struct {
	RequestID string
	Winners   int // 2xx answers
	Decided   int // 409 already_decided answers that name the winner
	Other     []string
	Latencies []time.Duration
	// WinnerEventID is the decision event id of the 2xx answer.
	WinnerEventID string
	// LoserNamedWinner: every already_decided body named the same winner.
	LoserNamedWinner bool
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
	verb, kind := "reject", history.KindReject
	if approve {
		verb, kind = "approve", history.KindApprove
	}
	body := map[string]any{"approver_id": approver}
	if justification != "" {
		body["justification"] = justification
	}
	return c.Do(ctx, Call{Method: "POST", Path: api + "/approvals/" + id + "/" + verb, Kind: kind, Entity: id,
		Route: "POST /approvals/{id}/" + verb, Key: key, Body: body, Token: c.approverToken(approver)})
}

// DecideAsRequester sends an approval with the client's own (requesting)
// identity: with auth that is the token's principal, in dev mode the body's
// approver_id.
func (c *Client) DecideAsRequester(ctx context.Context, id, requester, key string) Reply {
	return c.Do(ctx, Call{Method: "POST", Path: api + "/approvals/" + id + "/approve", Kind: history.KindApprove, Entity: id,
		Route: "POST /approvals/{id}/approve", Key: key, Body: map[string]any{"approver_id": requester, "justification": "mine"}})
}

// Race sends racers approve/reject calls (seeded mix) on one request at once.
func Race(ctx context.Context, c *Client, rng *rand.Rand, id string, racers int, keyPrefix string) RaceResult {
	res := RaceResult{RequestID: id, LoserNamedWinner: true}
	approve := make([]bool, racers)
	for i := range approve {
		approve[i] = rng.IntN(3) != 0
	}
	replies := make([]Reply, racers)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			replies[i] = c.Decide(ctx, id, fmt.Sprintf("approver-%02d", i), approve[i], "race", fmt.Sprintf("%s-%s-r%02d", keyPrefix, id, i))
		}(i)
	}
	close(gate)
	wg.Wait()
	winnerIDs := map[string]bool{}
	for _, r := range replies {
		res.Latencies = append(res.Latencies, r.Latency)
		switch {
		case r.OK():
			res.Winners++
			res.WinnerEventID = r.Str("decision_event_id")
		case r.Status == 409 && r.Code() == "already_decided":
			res.Decided++
			w, _ := r.Body["winner"].(map[string]any)
			id, _ := w["decision_event_id"].(string)
			winnerIDs[id] = true
		default:
			res.Other = append(res.Other, fmt.Sprintf("%d %s", r.Status, r.Raw))
		}
	}
	if len(winnerIDs) > 1 || (res.WinnerEventID != "" && len(winnerIDs) == 1 && !winnerIDs[res.WinnerEventID]) {
		res.LoserNamedWinner = false
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
