package audit

import (
	"github.com/creditgate/creditgate/scenarios/history"

	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// part is one event of a hand-built command.
type part struct {
	typ     string
	payload any
	cause   int    // index of an earlier part of the same command, or -1
	causeID string // explicit causation event id (when cause < 0)
	meta    any    // metadata object (nil = none)
}

func p(typ string, payload any) part { return part{typ: typ, payload: payload, cause: -1} }

func pc(typ string, payload any, cause int) part {
	return part{typ: typ, payload: payload, cause: cause}
}

func pid(typ string, payload any, causeID string) part {
	return part{typ: typ, payload: payload, cause: -1, causeID: causeID}
}

// builder writes valid journals by the contract of docs/events.md: seq from
// 1, ids "e<seq>", correlation = the command's first event, keys
// "<key>#<n>" for derived events, tx on the first of a multi-event command.
type builder struct {
	t   *testing.T
	evs []*Event
}

// cmd appends one command; key "" means a server key "srv-<event_id>".
func (b *builder) cmd(key, actor string, parts ...part) []*Event {
	b.t.Helper()
	out := make([]*Event, len(parts))
	for i, pt := range parts {
		seq := uint64(len(b.evs) + 1)
		raw, err := json.Marshal(pt.payload)
		if err != nil {
			b.t.Fatal(err)
		}
		e := &Event{Seq: seq, EventID: eid(seq), EventType: pt.typ, Timestamp: "2026-01-01T00:00:00Z",
			ActorID: actor, SchemaVersion: 1, Payload: raw}
		if pt.meta != nil {
			if e.Metadata, err = json.Marshal(pt.meta); err != nil {
				b.t.Fatal(err)
			}
		}
		if i == 0 {
			e.CorrelationID = e.EventID
			if key == "" {
				key = "srv-" + e.EventID
			}
			e.IdempotencyKey = key
			if len(parts) > 1 {
				e.Tx = len(parts)
			}
		} else {
			e.CorrelationID = out[0].CorrelationID
			e.IdempotencyKey = fmt.Sprintf("%s#%d", key, i)
		}
		switch {
		case pt.cause >= 0:
			id := out[pt.cause].EventID
			e.CausationID = &id
		case pt.causeID != "":
			id := pt.causeID
			e.CausationID = &id
		}
		out[i] = e
		b.evs = append(b.evs, e)
	}
	return out
}

// line renders one event as a sealed journal line (without '\n').
func line(t *testing.T, e *Event) []byte {
	t.Helper()
	c := *e
	c.CRC = ""
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	body := append(bytes.TrimSuffix(b, []byte(`,"crc":""}`)), '}')
	return Seal(body)
}

func (b *builder) bytes() []byte {
	var buf bytes.Buffer
	for _, e := range b.evs {
		buf.Write(line(b.t, e))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func (b *builder) journal() *Journal { return mustRead(b.t, b.bytes()) }

func mustRead(t *testing.T, data []byte) *Journal {
	t.Helper()
	j, err := ReadJournal(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Payload helpers (the contract's shapes, built by hand).
func credit(agent string, amount, after int64) map[string]any {
	return map[string]any{"agent_id": agent, "amount_milli": amount, "balance_after_milli": after, "reason": "r"}
}

func reward(collab, team, agent string, amount, after, capMilli int64) map[string]any {
	m := map[string]any{"collaboration_id": collab, "team_id": team, "agent_id": agent, "amount_milli": amount,
		"karma_score": 0.5, "contribution": map[string]float64{"a1": 1, "a2": 0.5}[agent], "cap_milli": capMilli}
	if after != 0 {
		m["balance_after_milli"] = after
	}
	return m
}

func decision(req, by string, version int) map[string]any {
	return map[string]any{"request_id": req, "decider_id": by, "version": version}
}

func request(req, action, agent string, amount int64) map[string]any {
	return map[string]any{"request_id": req, "action_type": action, "agent_id": agent, "amount_milli": amount,
		"reason": "r", "requester_id": "alice", "risk_level": "MEDIUM", "required_approvals": 1,
		"expires_at": "2026-01-02T00:00:00Z"}
}

// world is a clean hand-built journal with its client history.
type world struct {
	b   *builder
	ops []Op
	// ids of interesting events
	consume, approved, executed, granted string
}

const testCap = 120_000

// testKinds names the history kinds the hand-built worlds use.
var testKinds = map[string]history.Kind{"consume": history.KindConsume, "agent": history.KindCreateAgent, "add": history.KindAdd,
	"approve": history.KindApprove, "reject": history.KindReject, "collaboration": history.KindCollaboration,
	"pool": history.KindPoolCreate, "pool_allocate": history.KindPoolAllocate, "pool_close": history.KindPoolClose,
	"refund": history.KindRefund, "withdraw": history.KindWithdraw, "mission": history.KindMissionStart,
	"mission_complete": history.KindMissionComplete, "pool_consume": history.KindPoolConsume}

func (w *world) ok(id, kind, key string, e *Event) {
	w.ops = append(w.ops, Op{ID: uint64(len(w.ops) + 1), Kind: testKinds[kind], Key: key, Status: 200, Outcome: history.OK, EventID: e.EventID})
}

// cleanWorld: two agents, a consume, an approved add, a rejected add, two
// collaborations (the second hits the cap), a pool closed into a1, an EoC
// system event, plus a retry, a refused op and an unknown op.
func cleanWorld(t *testing.T) *world {
	w := &world{b: &builder{t: t}}
	b := w.b
	a1 := b.cmd("k-a1", "op", p("agent.registered", map[string]any{"agent_id": "a1", "skill_level": 0.8}),
		pc("credit.allocated", credit("a1", 80_000, 80_000), 0))
	w.ok("o1", "agent", "k-a1", a1[0])
	a2 := b.cmd("k-a2", "op", p("agent.registered", map[string]any{"agent_id": "a2", "skill_level": 0.5}),
		pc("credit.allocated", credit("a2", 50_000, 50_000), 0))
	w.ok("o2", "agent", "k-a2", a2[0])
	c := b.cmd("k-c1", "anonymous", p("credit.consumed", credit("a1", 12_500, 67_500)))
	w.ok("o3", "consume", "k-c1", c[0])
	w.consume = c[0].EventID
	w.ops = append(w.ops, Op{Kind: history.KindConsume, Key: "k-c1", Status: 200, Outcome: history.Replayed,
		EventID: c[0].EventID, Role: history.Retry})
	w.ops = append(w.ops, Op{Kind: history.KindConsume, Key: "k-c9", Status: 409, Outcome: history.Refused})
	w.ops = append(w.ops, Op{Kind: history.KindConsume, Key: "k-u1", Outcome: history.Unknown})
	rq := b.cmd("k-add1", "alice", p("approval.requested", request("r1", "add", "a2", 600_000)))
	w.ok("o6", "add", "k-add1", rq[0])
	ap := b.cmd("k-ap1", "bob", pid("approval.approved", decision("r1", "bob", 1), rq[0].EventID),
		pc("credit.allocated", credit("a2", 600_000, 650_000), 0))
	w.ok("o7", "approve", "k-ap1", ap[0])
	w.approved, w.executed = ap[0].EventID, ap[1].EventID
	col := b.cmd("k-col1", "anonymous", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c1",
		"team_id": "alpha", "agent_ids": []string{"a1", "a2"}, "contribution_scores": map[string]float64{"a1": 1, "a2": 0.5}}),
		pc("synergie.reward_granted", reward("c1", "alpha", "a1", 100_000, 167_500, testCap), 0),
		pc("synergie.reward_granted", reward("c1", "alpha", "a2", 50_000, 700_000, testCap), 0))
	w.ok("o8", "collaboration", "k-col1", col[0])
	w.granted = col[1].EventID
	col2 := b.cmd("k-col2", "anonymous", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c2",
		"team_id": "alpha", "agent_ids": []string{"a1", "a2"}, "contribution_scores": map[string]float64{"a1": 1, "a2": 0.5}}),
		pc("synergie.reward_granted", reward("c2", "alpha", "a1", 20_000, 187_500, testCap), 0),
		pc("synergie.reward_capped", reward("c2", "alpha", "a1", 80_000, 0, testCap), 0),
		pc("synergie.reward_granted", reward("c2", "alpha", "a2", 50_000, 750_000, testCap), 0))
	w.ok("o9", "collaboration", "k-col2", col2[0])
	w.ops = append(w.ops, Op{Kind: history.KindCollaboration, Key: "k-col2b", Status: 200, Outcome: history.OK, Role: history.NoWrite})
	pl := b.cmd("k-p1", "anonymous", p("pool.created", map[string]any{"pool_id": "p1", "name": "P"}),
		pc("pool.member_added", map[string]any{"pool_id": "p1", "agent_id": "a1"}, 0))
	w.ok("o10", "pool", "k-p1", pl[0])
	pa := b.cmd("k-p1a", "anonymous", p("pool.allocated", map[string]any{"pool_id": "p1", "amount_milli": 10_000, "balance_after_milli": 10_000}))
	w.ok("o11", "pool_allocate", "k-p1a", pa[0])
	px := b.cmd("k-p1x", "anonymous", p("pool.closed", map[string]any{"pool_id": "p1", "remainder_milli": 10_000, "refund_to": "a1"}))
	w.ok("o12", "pool_close", "k-p1x", px[0])
	b.cmd("", "system:eoc", p("eoc.regulated", map[string]any{"score": 0.47, "band": "low",
		"previous": map[string]any{"regeneration_factor": 1, "backpressure": 0}}))
	rq2 := b.cmd("k-add2", "alice", p("approval.requested", request("r2", "add", "a1", 700_000)))
	w.ok("o13", "add", "k-add2", rq2[0])
	rj := b.cmd("k-rj2", "bob", pid("approval.rejected", decision("r2", "bob", 1), rq2[0].EventID))
	w.ok("o14", "reject", "k-rj2", rj[0])
	return w
}

// apiFromModel is the API state a correct target would return.
func apiFromModel(m *Model) APIState {
	st := APIState{Balances: map[string]int64{}, Ledgers: map[string][]LedgerEntry{}, LedgerTruncated: map[string]bool{},
		LedgerTotals: map[string]int{}, Approvals: map[string]ApprovalState{}, Synergie: map[string]map[string]SynergieTotals{}}
	for id, b := range m.Balances {
		st.Balances[id] = b
		st.Ledgers[id] = append([]LedgerEntry{}, m.Ledgers[id]...)
		st.LedgerTotals[id] = len(m.Ledgers[id])
		st.Synergie[id] = map[string]SynergieTotals{}
		for team, t := range m.Synergie[id] {
			st.Synergie[id][team] = *t
		}
	}
	for id, a := range m.Approvals {
		c := *a
		c.DecisionEventIDs = append([]string{}, a.DecisionEventIDs...)
		st.Approvals[id] = c
	}
	st.ApprovalsTotal = len(m.Approvals)
	return st
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testFormulas are the fixture's formula parameters: a synergie base of
// 100 credits, so a1 (contribution 1, KARMA 0.5) earns 100 per collaboration.
func testFormulas() FormulaParams {
	f := DefaultFormulas()
	f.SynergieBaseMilli = 100_000
	return f
}

func foldTest(j *Journal) *Model { return FoldWith(j, testFormulas()) }

// eid is the test journals' event_id of seq: a UUID v4 (SPEC §2) that
// says its seq.
func eid(seq uint64) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", seq) }
