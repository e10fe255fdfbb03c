package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// tolerated are refusals that do not stop the mixed workload (a drained
// agent, a decided request); the gates judge the history either way.
var tolerated = map[string]bool{"insufficient_credits": true, "already_decided": true}

// RefusedError is a request a workload could not go on from: the caller
// judges its answer (a refused fixture fails, or is not measured where the
// SPEC leaves the request's shape to the backend).
type RefusedError struct {
	What  string
	Reply Reply
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: %d %s %v", e.What, e.Reply.Status, e.Reply.Raw, e.Reply.Err)
}

// Mixed exercises every other kind of mutation on existing agents —
// refunds, withdrawals, approvals approved and rejected, missions that
// complete, fail and cancel, a pool's whole life — so projections have
// something to disagree about. It returns the first unexpected refusal.
func Mixed(ctx context.Context, c *Client, rng *rand.Rand, agents []string, prefix string) error {
	// post sends one mutation; it reports whether it was acknowledged (a
	// tolerated refusal is not an error, but what builds on the refused
	// command is not sent: an engine that overdrew in the storm refuses a
	// mission start, and its end would only meet a 404).
	post := func(path string, kind history.Kind, key string, body map[string]any) (bool, error) {
		agent, _ := body["agent_id"].(string)
		entity, _ := body["mission_id"].(string)
		if entity == "" {
			entity, _ = body["pool_id"].(string)
		}
		r := c.Do(ctx, Call{Method: "POST", Path: api + path, Kind: kind, Key: prefix + "-" + key, Body: body, Agent: agent, Entity: entity})
		if !r.OK() && !(r.Op.Outcome == history.Refused && tolerated[r.Code()]) {
			return false, &RefusedError{What: fmt.Sprintf("%s %s", kind, path), Reply: r}
		}
		return r.OK(), nil
	}
	for i, a := range agents {
		steps := []struct {
			path string
			kind history.Kind
			key  string
			body map[string]any
		}{
			// A refund large enough that the mission estimate below is covered
			// even after the storm drained the agent.
			{"/refund", history.KindRefund, fmt.Sprintf("refund-%d", i), map[string]any{"agent_id": a, "amount": money.Credits(int64(70+rng.IntN(20)) * 1000), "reason": "refund"}},
			{"/withdraw", history.KindWithdraw, fmt.Sprintf("withdraw-%d", i), map[string]any{"agent_id": a, "amount": money.Credits(500), "reason": "withdraw"}},
			{"/missions", history.KindMissionStart, fmt.Sprintf("mission-%d", i), map[string]any{"mission_id": fmt.Sprintf("%s-m-%d", prefix, i), "agent_id": a,
				"mission_type": []string{"general", "code_review", "research"}[i%3], "complexity": []string{"low", "medium", "high"}[rng.IntN(3)]}},
		}
		started := false
		for _, s := range steps {
			ok, err := post(s.path, s.kind, s.key, s.body)
			if err != nil {
				return err
			}
			started = ok && s.kind == history.KindMissionStart
		}
		end := []string{"complete", "fail", "cancel"}[i%3]
		endKind := []history.Kind{history.KindMissionComplete, history.KindMissionFail, history.KindMissionCancel}[i%3]
		// The actual cost crosses its boundaries: 0 (a complete refunds the
		// whole estimate), 1 credit, and more than any estimate (refunds
		// nothing).
		actual := []int64{0, 1_000, 10_000_000}[(i/3)%3]
		if started {
			if _, err := post(fmt.Sprintf("/missions/%s-m-%d/%s", prefix, i, end), endKind, fmt.Sprintf("mission-end-%d", i),
				map[string]any{"actual_cost": money.Credits(actual)}); err != nil {
				return err
			}
		}
		if i%2 == 0 { // approvals: every other approved, the rest rejected
			id, r := c.RequestApproval(ctx, a, prefix+"-requester", (500+int64(rng.IntN(100)))*1000, "", fmt.Sprintf("%s-ap-%d", prefix, i))
			if id == "" {
				return fmt.Errorf("approval request: %d %s", r.Status, r.Raw)
			}
			if r := c.Decide(ctx, id, prefix+"-approver", i%4 == 0, "mixed", fmt.Sprintf("%s-ap-dec-%d", prefix, i)); !r.OK() {
				return fmt.Errorf("approval decision: %d %s", r.Status, r.Raw)
			}
		}
	}
	if len(agents) >= 2 {
		pool := prefix + "-pool"
		for _, s := range []struct {
			path string
			kind history.Kind
			body map[string]any
		}{
			{"/pools", history.KindPoolCreate, map[string]any{"pool_id": pool, "name": "gate pool", "members": agents[:2]}},
			{"/pools/" + pool + "/allocate", history.KindPoolAllocate, map[string]any{"amount": money.Credits(100_000), "reason": "fund"}},
			{"/pools/" + pool + "/consume", history.KindPoolConsume, map[string]any{"agent_id": agents[0], "amount": money.Credits(30_000), "reason": "use"}},
			{"/pools/" + pool + "/refund", history.KindPoolRefund, map[string]any{"amount": money.Credits(5_000), "reason": "back"}},
			{"/pools/" + pool + "/close", history.KindPoolClose, map[string]any{"refund_to": agents[1]}},
		} {
			ok, err := post(s.path, s.kind, s.kind.String(), s.body)
			if err != nil {
				return err
			}
			if !ok && s.kind == history.KindPoolCreate {
				break // nothing to allocate to, move or close
			}
		}
	}
	return nil
}
