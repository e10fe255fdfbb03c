package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// missionWorld: agent a1 (skill 0.5, 100 credits) runs three code_review
// missions of high complexity (estimate 15 × 2 × 0.85 = 25.5 credits):
// completed with actual 12.345 (refund 13.155), failed (refund all),
// cancelled (refund all), and a consume with a fallback KARMA score.
func missionWorld(t *testing.T, refund func(outcome string, want int64) int64, fallback float64) *Journal {
	b := &builder{t: t}
	bal := int64(100_000)
	b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.5}),
		pc("credit.allocated", credit("a1", 50_000, 50_000), 0))
	b.cmd("k-add", "op", p("credit.allocated", credit("a1", 50_000, bal)))
	const est = 25_500
	for i, outcome := range []string{"completed", "failed", "cancelled"} {
		id := "m" + itoa(i)
		bal -= est
		st := b.cmd("k-ms"+id, "op", p("mission.started", map[string]any{"mission_id": id, "agent_id": "a1",
			"mission_type": "code_review", "complexity": "high", "estimate_milli": est}),
			pc("credit.consumed", map[string]any{"agent_id": "a1", "amount_milli": est, "balance_after_milli": bal,
				"reason": "mission_start", "mission_id": id}, 0))
		want := int64(est)
		actual := int64(0)
		if outcome == "completed" {
			actual = 12_345
			want = est - actual
		}
		got := refund(outcome, want)
		bal += got
		b.cmd("k-me"+id, "op", p("mission."+outcome, map[string]any{"mission_id": id, "agent_id": "a1",
			"actual_milli": actual, "refund_milli": got}),
			pid("credit.refunded", map[string]any{"agent_id": "a1", "amount_milli": got, "balance_after_milli": bal,
				"reason": "mission_" + outcome, "mission_id": id}, st[1].EventID))
	}
	bal -= 1_234
	c := credit("a1", 1_234, bal)
	b.cmd("k-c", "op", part{typ: "credit.consumed", payload: c, cause: -1,
		meta: map[string]any{"karma_source": "fallback", "karma_score": fallback}})
	return b.journal()
}

func formulaProblems(m *Model) []string {
	var out []string
	for _, p := range m.Problems {
		out = append(out, p.Kind+": "+p.String())
	}
	return out
}

func TestMissionRefundsAndKarmaFallbackFollowTheDocumentedFormulas(t *testing.T) {
	m := Fold(missionWorld(t, func(_ string, want int64) int64 { return want }, 0.5))
	if f := FormulaCheck(m); !f.OK || m.FormulaChecks < 10 {
		t.Fatalf("clean world: %s (%d recomputed)\n%v", f, m.FormulaChecks, formulaProblems(m))
	}
	if len(m.Problems) != 0 {
		t.Fatalf("clean world has problems: %v", formulaProblems(m))
	}
	if ms := m.Missions["m0"]; ms.Status != MissionCompleted || ms.RefundedMilli != 13_155 || ms.ConsumedMilli != 25_500 {
		t.Fatalf("mission m0 folded as %+v", ms)
	}
}

func TestWrongRefundsAreFormulaViolations(t *testing.T) {
	cases := map[string]func(string, int64) int64{
		"cancel refunds 90%":               func(o string, w int64) int64 { return map[bool]int64{true: w * 9 / 10, false: w}[o == "cancelled"] },
		"refund truncated to two decimals": func(_ string, w int64) int64 { return w / 10 * 10 },
		"fail refunds nothing but says so": func(o string, w int64) int64 { return map[bool]int64{true: 1, false: w}[o == "failed"] },
	}
	for name, refund := range cases {
		f := FormulaCheck(Fold(missionWorld(t, refund, 0.5)))
		if f.OK || !strings.Contains(strings.Join(f.Violations, "\n"), "refund_milli") {
			t.Errorf("%s: not caught: %s", name, f)
		}
	}
}

func TestAFallbackScoreOtherThanTheDocumentedCIIsAViolation(t *testing.T) {
	f := FormulaCheck(Fold(missionWorld(t, func(_ string, w int64) int64 { return w }, 0.6)))
	if f.OK || !strings.Contains(strings.Join(f.Violations, "\n"), "fallback") {
		t.Fatalf("fallback 0.6 not caught: %s", f)
	}
}

func TestMissionEstimateIsSpecFormula(t *testing.T) {
	for _, c := range []struct {
		typ, cx string
		skill   float64
		want    int64
	}{{"code_review", "high", 0.5, 25_500}, {"general", "low", 1, 3_500}, {"nope", "", 0, 10_000}, {"architecture", "medium", 0.8, 22_800}} {
		if got := MissionEstimateMilli(c.typ, c.cx, c.skill); got != c.want {
			t.Errorf("%s/%s/%v: %d, want %d", c.typ, c.cx, c.skill, got, c.want)
		}
	}
}

func TestEoCBandAndSingleWindowScore(t *testing.T) {
	raw, p := EoCRaw(10_000, 0, 0, 10e9, 1000) // nominal load: P = 0.6
	if abs(raw-0.6) > 1e-9 || abs(p-0.6) > 1e-9 {
		t.Fatalf("nominal window: raw %v p %v, want 0.6", raw, p)
	}
	raw, _ = EoCRaw(10_000, 10_000, 0, 10e9, 1000) // every op anomalous: +0.08 only
	if abs(raw-0.68) > 1e-9 {
		t.Fatalf("all-anomalous nominal window: raw %v, want 0.68", raw)
	}
	for s, want := range map[float64]string{0.2: "critical_low", 0.45: "low", 0.5: "optimal", 0.7: "optimal", 0.8: "high", 0.9: "critical_high"} {
		if EoCBand(s) != want {
			t.Errorf("band(%v) = %s, want %s", s, EoCBand(s), want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// entitiesFromModel is what a correct backend's per-entity routes answer.
func entitiesFromModel(m *Model) *EntityState {
	ent := &EntityState{AgentBalances: map[string]int64{}, Pools: map[string]PoolView{}, Missions: map[string]MissionView{},
		Approvals: map[string]ApprovalState{}}
	for id := range m.Agents {
		ent.AgentBalances[id] = m.Balances[id]
	}
	for id, ms := range m.Missions {
		ent.Missions[id] = MissionView{AgentID: ms.AgentID, Status: ms.Status, EstimateMilli: ms.EstimateMilli,
			ConsumedMilli: ms.ConsumedMilli, RefundedMilli: ms.RefundedMilli, Rating: ms.Rating}
	}
	for id, a := range m.Approvals {
		ent.Approvals[id] = *a
	}
	return ent
}

func TestEntityReadsAreComparedToTheMilli(t *testing.T) {
	m := Fold(missionWorld(t, func(_ string, w int64) int64 { return w }, 0.5))
	api := APIState{Entities: entitiesFromModel(m)}
	if f := CompareEntities(m, api); !f.OK {
		t.Fatalf("a correct backend fails B12: %s", f)
	}
	api.Entities.AgentBalances["a1"]++
	mv := api.Entities.Missions["m2"]
	mv.RefundedMilli -= 2_550 // a cancel refunding 90 %
	api.Entities.Missions["m2"] = mv
	f := CompareEntities(m, api)
	if f.OK || f.ViolationCount != 2 {
		t.Fatalf("B12 must report the 1-milli balance and the mission refund: %s", f)
	}
}

// An EoC decision counts the consumes the journal stamps inside its window
// [start, end): its anomalies are exactly the flagged ones, its operations
// at least all of them (refusals count too and are not journaled).
func TestEoCDecisionCountsTheConsumesOfItsWindow(t *testing.T) {
	consume := func(seq uint64, at string, flagged bool) *Event {
		md := json.RawMessage(`{}`)
		if flagged {
			md = json.RawMessage(`{"anomaly_detected":true}`)
		}
		return &Event{Seq: seq, EventID: fmt.Sprintf("c%d", seq), EventType: "credit.consumed", Timestamp: at,
			Payload: json.RawMessage(`{"agent_id":"a","amount_milli":1000}`), Metadata: md}
	}
	decision := func(seq uint64, ops, anomalies int) *Event {
		return &Event{Seq: seq, EventID: fmt.Sprintf("d%d", seq), EventType: "eoc.regulated", Timestamp: "2026-01-01T00:00:20.5Z",
			Payload: json.RawMessage(fmt.Sprintf(`{"window_start":"2026-01-01T00:00:10Z","window_end":"2026-01-01T00:00:20Z","windows":1,"ops":%d,"anomalies":%d,"errors":0,"score":0.5,"pressure":0.5,"band":"optimal"}`, ops, anomalies))}
	}
	countProblems := func(evs ...*Event) []string {
		m := NewModelWith(DefaultFormulas())
		for _, e := range evs {
			m.Apply(e)
		}
		var out []string
		for _, p := range m.Problems {
			if strings.Contains(p.Detail, "EoC window") {
				out = append(out, p.Detail)
			}
		}
		return out
	}
	journal := func(d *Event) []*Event {
		return []*Event{consume(1, "2026-01-01T00:00:09.9Z", true), // the window before: not counted
			consume(2, "2026-01-01T00:00:10Z", false), consume(3, "2026-01-01T00:00:15Z", true),
			consume(4, "2026-01-01T00:00:19.999Z", false), d, consume(6, "2026-01-01T00:00:20.6Z", true)}
	}
	if ps := countProblems(journal(decision(5, 3, 1))...); len(ps) != 0 {
		t.Fatalf("a decision counting its window's 3 consumes, 1 flagged: %q", ps)
	}
	if ps := countProblems(journal(decision(5, 7, 1))...); len(ps) != 0 {
		t.Fatalf("refused operations count too: 7 ops over 3 journaled consumes is no problem: %q", ps)
	}
	for _, c := range []struct{ ops, anomalies int }{{3, 3}, {3, 0}, {2, 1}} { // every consume anomalous; rates swapped; a consume missed
		if ps := countProblems(journal(decision(5, c.ops, c.anomalies))...); len(ps) != 1 {
			t.Errorf("%d ops and %d anomalies for 3 consumes, 1 flagged: %q", c.ops, c.anomalies, ps)
		}
	}
	// The first window of a journal read from its start is counted whole.
	first := journal(decision(5, 3, 3))[1:]
	first[0].Seq = 1
	if ps := countProblems(first...); len(ps) != 1 {
		t.Errorf("a fresh journal's first window is counted: %q", ps)
	}
	// Read from the middle of the window: nothing to count it with.
	mid := journal(decision(5, 9, 9))[2:]
	if ps := countProblems(mid...); len(ps) != 0 {
		t.Errorf("a window begun before the journal read cannot be judged: %q", ps)
	}
}

// Where the harness runs KARMA, a score the backend records as KARMA's
// (live or cached) is the one KARMA serves that agent — not another team
// member's, not a rounded one; a fallback is judged as before.
func TestAScoreRecordedAsKarmasIsTheAgentsOwn(t *testing.T) {
	served := map[string]float64{"a1": 0.8123, "a2": 0.2345}
	world := func(source string, score float64) *Journal {
		b := &builder{t: t}
		b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.5}),
			pc("credit.allocated", credit("a1", 50_000, 50_000), 0))
		b.cmd("k-c", "op", part{typ: "credit.consumed", payload: credit("a1", 1_000, 49_000), cause: -1,
			meta: map[string]any{"karma_source": source, "karma_score": score}})
		return b.journal()
	}
	p := DefaultFormulas()
	p.KarmaScoreOf = func(agent string) float64 { return served[agent] }
	for _, tc := range []struct {
		source string
		score  float64
		ok     bool
	}{{"live", 0.8123, true}, {"cache", 0.8123, true}, {"live", 0.2345, false}, {"cache", 0.81, false}, {"cached", 0.81, false}, {"fallback", 0.5, true}} {
		m := FoldWith(world(tc.source, tc.score), p)
		if f := FormulaCheck(m); f.OK != tc.ok {
			t.Errorf("karma_source %s, karma_score %v: %s; want ok %v", tc.source, tc.score, f, tc.ok)
		}
	}
	if f := FormulaCheck(Fold(world("live", 0.2345))); !f.OK {
		t.Errorf("without KARMA's scores a live score is not judged: %s", f)
	}
}
