package d_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// onceOnly is D58's fixture for the restart round trip: what SPEC §5
// allows once — a collaboration id recorded, a mission finished — done
// before the kill -9 and asked for again after it, when a backend that
// rebuilds those facts only in memory (not from its journal) has
// forgotten them. Judged from the answers: the agents' balances.
type onceOnly struct {
	collab       map[string]any
	collabAgents []string
	mission      string
	missionAgent string
	balances     map[string]int64
	problems     []string
}

// onceOnlyBefore records a collaboration of two fresh agents and a
// mission started and cancelled, and reads their balances.
func onceOnlyBefore(ctx context.Context, env *harness.Env) *onceOnly {
	o := &onceOnly{balances: map[string]int64{}}
	team := env.ID("gate-d-once")
	for i := 0; i < 2; i++ {
		a := fmt.Sprintf("%s-member-%d", team, i)
		err := env.C.CreateAgent(ctx, a, 100)
		harness.Ensure(err == nil, "the once-only agent %s must be created: %v", a, err)
		o.collabAgents = append(o.collabAgents, a)
	}
	o.collab = map[string]any{"collaboration_id": team + "-collab", "team_id": team, "mission_id": team + "-m",
		"agent_ids": o.collabAgents, "contribution_scores": map[string]any{o.collabAgents[0]: json.Number("0.8"), o.collabAgents[1]: json.Number("0.6")}}
	r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/synergie/collaborations", Kind: history.KindCollaboration,
		Entity: team + "-collab", Key: team + "-collab-1", Body: o.collab})
	harness.Accepted(r, "the collaboration %s before the kill -9", team+"-collab")

	o.missionAgent = team + "-pilot"
	err := env.C.CreateAgent(ctx, o.missionAgent, 100)
	harness.Ensure(err == nil, "the once-only agent %s must be created: %v", o.missionAgent, err)
	o.mission = team + "-mission"
	r = env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/missions", Kind: history.KindMissionStart, Entity: o.mission,
		Key: o.mission + "-start", Body: map[string]any{"mission_id": o.mission, "agent_id": o.missionAgent, "mission_type": "general", "complexity": "medium"}})
	harness.Accepted(r, "the mission %s before the kill -9", o.mission)
	r = env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/missions/" + o.mission + "/cancel", Kind: history.KindMissionCancel,
		Entity: o.mission, Key: o.mission + "-cancel", Body: map[string]any{}})
	harness.Accepted(r, "the cancel of mission %s before the kill -9", o.mission)
	for _, a := range append(append([]string(nil), o.collabAgents...), o.missionAgent) {
		b, err := env.C.BalanceMilli(ctx, a)
		harness.Ensure(err == nil, "the balance of %s must be readable: %v", a, err)
		o.balances[a] = b
	}
	return o
}

// after asks again, after the restart: the same collaboration id under a
// new key and with none, the mission ended again under a new key (cancel,
// fail, complete at 0). Nothing may move money.
func (o *onceOnly) after(ctx context.Context, env *harness.Env) harness.Measure {
	sent := 0
	send := func(what string, call scenarios.Call, agents ...string) {
		r := env.C.Do(ctx, call)
		sent++
		for _, a := range agents {
			b, err := env.C.BalanceMilli(ctx, a)
			if err != nil {
				o.problems = append(o.problems, fmt.Sprintf("%s: the balance of %s is not readable: %v", what, a, err))
				continue
			}
			if b != o.balances[a] {
				o.problems = append(o.problems, fmt.Sprintf("%s answered %d %s and moved %s's balance %s → %s", what, r.Status,
					strings.TrimSpace(string(r.Raw[:min(len(r.Raw), 100)])), a, money.FormatMilli(o.balances[a]), money.FormatMilli(b)))
				o.balances[a] = b
			}
		}
	}
	id, _ := o.collab["collaboration_id"].(string)
	send("collaboration "+id+" again under a new key", scenarios.Call{Method: "POST", Path: "/api/credits/synergie/collaborations",
		Kind: history.KindCollaboration, Role: history.NoWrite, Entity: id, Key: id + "-again", Body: o.collab}, o.collabAgents...)
	send("collaboration "+id+" again without a key", scenarios.Call{Method: "POST", Path: "/api/credits/synergie/collaborations",
		Kind: history.KindCollaboration, Role: history.NoWrite, Entity: id, Body: o.collab}, o.collabAgents...)
	for _, end := range []struct {
		name string
		kind history.Kind
		body map[string]any
	}{
		{"cancel", history.KindMissionCancel, map[string]any{}},
		{"fail", history.KindMissionFail, map[string]any{}},
		{"complete", history.KindMissionComplete, map[string]any{"actual_cost": json.Number("0")}},
	} {
		send("mission "+o.mission+" "+end.name+" again", scenarios.Call{Method: "POST", Path: "/api/credits/missions/" + o.mission + "/" + end.name,
			Kind: end.kind, Entity: o.mission, Key: o.mission + "-" + end.name + "-again", Body: end.body}, o.missionAgent)
	}
	return harness.Measure{OK: len(o.problems) == 0, Samples: sent, Measured: len(o.problems), Threshold: 0,
		Detail: fmt.Sprintf("before the kill -9: collaboration %s recorded, mission %s cancelled; after the restart %d requests asked for them again (the collaboration under a new key and with none, the mission cancelled, failed and completed again); the agents' balances read after each\n%s",
			id, o.mission, sent, strings.Join(o.problems, "\n"))}
}
