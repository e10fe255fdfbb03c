package engine_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
)

// HTTP renders a result from its typed payloads, never decoding JSON
// again: a retry answered after a restart (payloads decoded from the
// journal once by the engine) must carry the very values the original
// transaction's rules built.
func TestAReplayedResultCarriesTheTypedPayloadsOfTheOriginal(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, journalPath(t))
	e := openEngine(t, cfg)
	type call struct {
		key string
		run func(e *engine.Engine, req engine.Request) (engine.Result, error)
	}
	credit := engine.CreditInput{AgentID: "a", AmountMilli: 1_500, Reason: "r"}
	calls := []call{
		{"create-a", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.CreateAgent(ctx, req, "a", 1)
		}},
		{"create-b", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.CreateAgent(ctx, req, "b", 0.5)
		}},
		{"consume", func(e *engine.Engine, req engine.Request) (engine.Result, error) { return e.Consume(ctx, req, credit) }},
		{"add", func(e *engine.Engine, req engine.Request) (engine.Result, error) { return e.Add(ctx, req, credit) }},
		{"withdraw", func(e *engine.Engine, req engine.Request) (engine.Result, error) { return e.Withdraw(ctx, req, credit) }},
		{"approval", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.RequestApproval(ctx, req, engine.ApprovalInput{ActionType: "add", AgentID: "a", AmountMilli: 600_000, Reason: "big"})
		}},
		{"mission", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.StartMission(ctx, req, engine.MissionInput{MissionID: "m1", AgentID: "a", MissionType: "general", Complexity: "low"})
		}},
		{"pool", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.CreatePool(ctx, req, engine.PoolInput{PoolID: "p1", Name: "p", Members: []string{"a", "b"}})
		}},
		{"allocate", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.PoolMove(ctx, req, event.PoolAllocated, engine.PoolInput{PoolID: "p1", AmountMilli: 2_000, Reason: "fund"})
		}},
		{"collaboration", func(e *engine.Engine, req engine.Request) (engine.Result, error) {
			return e.RecordCollaboration(ctx, req, engine.CollaborationInput{CollaborationID: "c1", TeamID: "t", AgentIDs: []string{"a", "b"},
				ContributionScores: map[string]float64{"a": 0.6, "b": 0.4}})
		}},
	}
	originals := map[string]engine.Result{}
	for _, c := range calls {
		res, err := c.run(e, as("op", c.key))
		if err != nil {
			t.Fatalf("%s: %v", c.key, err)
		}
		if len(res.Payloads) != len(res.Events) {
			t.Fatalf("%s: %d payloads for %d events", c.key, len(res.Payloads), len(res.Events))
		}
		originals[c.key] = res
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openEngine(t, cfg)
	defer e.Close()
	for _, c := range calls {
		again, err := c.run(e, as("op", c.key))
		if err != nil || !again.Replayed {
			t.Fatalf("%s after a restart: replayed=%v err=%v", c.key, again.Replayed, err)
		}
		want := originals[c.key]
		for i := range want.Payloads {
			if !reflect.DeepEqual(again.Payloads[i], want.Payloads[i]) {
				t.Errorf("%s event %d (%s): replayed payload %#v, original %#v", c.key, i, want.Events[i].EventType, again.Payloads[i], want.Payloads[i])
			}
		}
	}
}
