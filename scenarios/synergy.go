package scenarios

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// SynergyResult is what scenario 2 measured.
type SynergyResult struct {
	Team       string
	AgentIDs   []string
	Recorded   int
	Duplicates int
	Failed     int
	// GrantedMilli and CappedMilli per agent as the API reports them.
	GrantedMilli map[string]int64
	CappedMilli  map[string]int64
}

// Synergy runs scenario 2: a team of n agents records collaborations; the
// first few ids are resent to check duplicates write nothing, the rest go
// in concurrent waves.
func Synergy(ctx context.Context, c *Client, rng *rand.Rand, team string, n, collaborations int) (SynergyResult, error) {
	res := SynergyResult{Team: team, GrantedMilli: map[string]int64{}, CappedMilli: map[string]int64{}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-member-%d", team, i)
		if err := c.CreateAgent(ctx, id, 100); err != nil {
			return res, err
		}
		res.AgentIDs = append(res.AgentIDs, id)
	}
	// The first five are sent one at a time (each resent, below); the rest
	// in waves of ten at once on the same agents and team, so the cap is
	// crossed by collaborations in flight together (a cap checked against
	// what a read model said before the command was decided overpays
	// only then).
	bodies := make([]map[string]any, collaborations)
	for i := range bodies {
		scores := map[string]any{}
		for _, a := range res.AgentIDs {
			scores[a] = float64(50+rng.IntN(51)) / 100
		}
		bodies[i] = map[string]any{"collaboration_id": fmt.Sprintf("%s-collab-%03d", team, i), "team_id": team,
			"mission_id": fmt.Sprintf("m-%d", i), "agent_ids": res.AgentIDs, "contribution_scores": scores}
	}
	var mu sync.Mutex
	record := func(i int) {
		body := bodies[i]
		collab := body["collaboration_id"].(string)
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/synergie/collaborations", Kind: history.KindCollaboration, Entity: collab,
			Key: fmt.Sprintf("%s-collab-key-%03d", team, i), Body: body})
		mu.Lock()
		defer mu.Unlock()
		if !r.OK() {
			res.Failed++
			return
		}
		res.Recorded++
		if i >= 5 {
			return
		}
		// The same collaboration again under a new key: must write nothing
		// (role NoWrite: acknowledged, but it must write nothing). The
		// first two are sent once more naming another team: the id is the
		// collaboration's, whatever team a repeat names (SPEC §5 scopes
		// only the cap per team).
		first := r
		again := []map[string]any{body}
		if i < 2 {
			other := maps.Clone(body)
			other["team_id"] = team + "-again"
			again = append(again, other)
		}
		for j, b := range again {
			r := c.Do(ctx, Call{Method: "POST", Path: api + "/synergie/collaborations", Kind: history.KindCollaboration, Entity: collab,
				Role: history.NoWrite, Key: fmt.Sprintf("%s-collab-dup-%03d-%d", team, i, j), Body: b})
			// SPEC §5: a duplicate collaboration_id is idempotent. Told by
			// our "duplicate": true, or by the original's answer again;
			// a repeat naming another team may also be refused 409 as
			// the id's content conflicting (either way nothing is paid).
			dup, _ := r.Body["duplicate"].(bool)
			same := r.Str("event_id") != "" && r.Str("event_id") == first.Str("event_id")
			if r.OK() && (dup || same) || j > 0 && r.Status == http.StatusConflict {
				res.Duplicates++
			}
		}
	}
	for i := 0; i < min(5, collaborations); i++ {
		record(i)
	}
	for from := 5; from < collaborations; from += 10 {
		var wg sync.WaitGroup
		for i := from; i < min(from+10, collaborations); i++ {
			wg.Add(1)
			go func() { defer wg.Done(); record(i) }()
		}
		wg.Wait()
	}
	for _, a := range res.AgentIDs {
		r := c.Get(ctx, api+"/synergie/"+a)
		if !r.OK() {
			return res, fmt.Errorf("synergie of %s: %d %s", a, r.Status, r.Raw)
		}
		// "teams": ours is a list of {team_id, …}; an object keyed by team
		// id is read too (SPEC §6 fixes neither).
		var teams []any
		switch t := r.Body["teams"].(type) {
		case []any:
			teams = t
		case map[string]any:
			for id, v := range t {
				if m, ok := v.(map[string]any); ok {
					m["team_id"] = id
					teams = append(teams, m)
				}
			}
		}
		for _, t := range teams {
			m, _ := t.(map[string]any)
			if m["team_id"] == team {
				// An absent or inexact amount reads 0 (as the float did): the
				// journal-side checks judge the amounts themselves.
				res.GrantedMilli[a], _ = money.FromJSON(m["granted"])
				res.CappedMilli[a], _ = money.FromJSON(m["capped"])
			}
		}
	}
	return res, nil
}

// SynergyCapFill records n collaborations of agents in team, each agent
// contributing 1.0, under collaboration ids idPrefix-0 … idPrefix-(n−1):
// with the KARMA fallback's weight 1.0 each pays the base (50 credits), so
// ten fill the default cap of 500 credits exactly and every one after is
// withheld whole (the edge a reward_capped must still record). It stops at
// the first answer that is not 2xx.
func SynergyCapFill(ctx context.Context, c *Client, team string, agents []string, idPrefix string, n int) (int, error) {
	scores := map[string]any{}
	for _, a := range agents {
		scores[a] = 1.0
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", idPrefix, i)
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/synergie/collaborations", Kind: history.KindCollaboration, Entity: id,
			Key: "capfill-" + id, Body: map[string]any{"collaboration_id": id, "team_id": team, "agent_ids": agents, "contribution_scores": scores}})
		if !r.OK() {
			return i, fmt.Errorf("collaboration %s of %v in team %s: %d %s", id, agents, team, r.Status, r.Raw)
		}
	}
	return n, nil
}
