package specbackend

import (
	"fmt"
	"sync"
	"testing"
)

// Every h15 defect test runs the same steps twice: without the defect (the SPEC's
// behaviour) and with it (the broken behaviour). It fails if the switch does nothing.

// h15-collab-id-per-team: a duplicate collaboration_id is idempotent (SPEC §5) — with
// the defect the same id naming another team is recorded and paid again, while a repeat
// in the same team is still not.
func TestDefectH15CollabIDPerTeam(t *testing.T) {
	in := CollabIn{CollaborationID: "c", TeamID: "t", AgentIDs: []string{"x", "y"}, Contrib: map[string]int64{"x": 500_000, "y": 500_000}}
	other := in
	other.TeamID = "u"
	run := func(t *testing.T, on bool) (same, team *Response, balance int64) {
		e := openT(t, defectConfig(t, DefectH15CollabIDPerTeam, on))
		defer e.Close()
		for _, id := range []string{"x", "y"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id}), 200)
		}
		mustStatus(t, e.RecordCollaboration(Req{}, in), 200)
		same = e.RecordCollaboration(Req{}, in)
		team = e.RecordCollaboration(Req{}, other)
		return same, team, balanceOf(e, "x")
	}
	same, team, bal := run(t, false)
	if !same.Replayed || team.Status != 409 || bal != 25_000 {
		t.Fatalf("without the defect: same team replayed %v, other team %d, balance %d; want replayed, 409, 25 credits", same.Replayed, team.Status, bal)
	}
	same, team, bal = run(t, true)
	if !same.Replayed || team.Status != 200 || team.Replayed || bal != 50_000 {
		t.Fatalf("with the defect: same team replayed %v, other team %d (replayed %v), balance %d; want the other team paid again (50)", same.Replayed, team.Status, team.Replayed, bal)
	}
}

// h15-synergie-earned-at-arrival: each agent earns at most synergie.cap per team (SPEC §5)
// — with the defect collaborations in flight together each read what the agent had
// earned when they arrived and each pay up to the cap.
func TestDefectH15SynergieEarnedAtArrival(t *testing.T) {
	run := func(t *testing.T, on bool) (granted int64) {
		e := openT(t, defectConfig(t, DefectH15SynergieEarnedAtArrival, on))
		defer e.Close()
		for _, id := range []string{"x", "y"} {
			mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: id}), 200)
		}
		// fallback CI 0.5 -> weight 1: 50 credits each, the cap of 500 after ten
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.RecordCollaboration(Req{}, CollabIn{CollaborationID: fmt.Sprintf("c%d", i), TeamID: "alpha", AgentIDs: []string{"x", "y"},
					Contrib: map[string]int64{"x": 1_000_000, "y": 1_000_000}})
				if r.Status != 200 {
					t.Errorf("collaboration c%d: %d %v", i, r.Status, body(r))
				}
			}()
		}
		wg.Wait()
		e.view(func(st *State) { granted = st.Synergie["x"]["alpha"].GrantedMilli })
		return granted
	}
	if g := run(t, false); g != 500_000 {
		t.Fatalf("without the defect: x granted %d of a cap of 500, 40 collaborations at once", g)
	}
	if g := run(t, true); g <= 500_000 {
		t.Fatalf("with the defect: x granted %d, want above the cap (collaborations in flight together each saw the same earnings)", g)
	}
}
