package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// bbSim is a tiny in-process backend that answers a script of requests the
// way a correct backend does, or with one defect, and records the client
// history and the final snapshot the black-box judge reads.
type bbSim struct {
	defect string
	bal    map[string]int64
	fbal   map[string]float64 // the float defect's balances
	hist   map[string][]history.HistoryEntry
	keys   map[string]Op
	ops    []Op
	t      int64
	seq    int
}

type bbStep struct {
	kind   history.Kind
	agent  string
	key    string
	amount string // as sent
	role   history.Role
	answer string // "500": the backend fails the request; "timeout": no answer
}

func newBBSim(defect string) *bbSim {
	return &bbSim{defect: defect, bal: map[string]int64{}, fbal: map[string]float64{}, hist: map[string][]history.HistoryEntry{}, keys: map[string]Op{}}
}

func (s *bbSim) money(agent string) string {
	if s.defect == "float" {
		return strconv.FormatFloat(s.fbal[agent], 'g', -1, 64)
	}
	return money.FormatMilli(s.bal[agent])
}

func (s *bbSim) apply(agent string, delta int64, reason string) {
	s.bal[agent] += delta
	s.fbal[agent] += float64(delta) / 1000
	s.seq++
	amount := money.FormatMilli(delta)
	if s.defect == "float" {
		amount = strconv.FormatFloat(float64(delta)/1000, 'g', -1, 64)
	}
	s.hist[agent] = append([]history.HistoryEntry{{EventID: "e" + itoa(s.seq), Amount: amount, BalanceAfter: s.money(agent), Reason: reason}}, s.hist[agent]...)
}

func (s *bbSim) run(steps ...bbStep) {
	for _, st := range steps {
		s.t += 10
		op := Op{ID: uint64(len(s.ops) + 1), Kind: st.kind, Role: st.role, Key: st.key, Agent: st.agent, CallNs: s.t, AmountSent: st.amount}
		if m, err := money.ParseMilli(st.amount); err == nil {
			op.AmountMilli = m
		}
		s.answer(&op, st)
		s.t += 5
		op.ReturnNs = s.t
		op.Outcome = history.Classify(op.Status, op.Outcome == history.Replayed, nil)
		if op.Err != "" {
			op.Outcome = history.Unknown
		}
		s.ops = append(s.ops, op)
	}
}

func (s *bbSim) answer(op *Op, st bbStep) {
	_, exists := s.bal[st.agent]
	switch st.kind {
	case history.KindReadBalance:
		if !exists && !(s.defect == "phantom" && st.agent == "ghost") {
			op.Status = 404
			return
		}
		op.Status, op.ReadRaw = 200, s.money(st.agent)
		return
	case history.KindCreateAgent:
		if exists {
			if s.defect != "rereg-reset" {
				op.Status = 409
				return
			}
			s.bal[st.agent], s.fbal[st.agent] = 0, 0
			s.apply(st.agent, 100_000, "agent_created")
			op.Status, op.BalanceAfter = 200, s.money(st.agent)
			return
		}
		s.bal[st.agent] = 0
		s.apply(st.agent, 100_000, "agent_created")
		op.Status, op.BalanceAfter = 201, s.money(st.agent)
		return
	}
	m, err := money.ParseMilli(st.amount)
	if err != nil || m <= 0 || m > BlackBoxMaxAmountMilli {
		if !(s.defect == "nonfinite-accepted" && st.amount == "-5") {
			op.Status = 422
			return
		}
	}
	if !exists {
		if !(s.defect == "phantom" && st.agent == "ghost") {
			op.Status = 404
			return
		}
		s.bal[st.agent] = 0
	}
	if prev, ok := s.keys[st.key]; ok && st.key != "" && s.defect != "retry-twice" {
		*op = Op{ID: op.ID, Kind: op.Kind, Role: op.Role, Key: op.Key, Agent: op.Agent, CallNs: op.CallNs, AmountSent: op.AmountSent, AmountMilli: op.AmountMilli,
			Status: prev.Status, AnswerAmount: prev.AnswerAmount, BalanceAfter: prev.BalanceAfter, Outcome: history.Replayed}
		if s.defect == "retry-current-balance" {
			op.BalanceAfter = s.money(st.agent) // the stored answer rebuilt from today's state
		}
		return
	}
	delta := m
	if st.kind == history.KindConsume {
		delta = -m
		if s.bal[st.agent] < m {
			op.Status = 409
			return
		}
	}
	switch st.answer {
	case "500":
		op.Status = 500
		if s.defect == "5xx-applied" {
			s.apply(st.agent, delta, "x")
		}
		return
	case "timeout":
		op.Err = "timeout"
		s.apply(st.agent, delta, "x")
		return
	}
	s.apply(st.agent, delta, "x")
	op.Status, op.AnswerAmount, op.BalanceAfter = 200, strings.TrimPrefix(money.FormatMilli(delta), "-"), s.money(st.agent)
	if s.defect == "float" {
		op.AnswerAmount = strconv.FormatFloat(float64(m)/1000, 'g', -1, 64)
	}
	if st.key != "" {
		s.keys[st.key] = *op
	}
}

func (s *bbSim) snapshot() history.Snapshot {
	snap := history.Snapshot{BalancesStatus: 200, Balances: map[string]string{}, History: map[string]history.HistoryRead{}, Phantoms: []string{"ghost"}}
	for id := range s.bal {
		if !(s.defect == "balances-skip-zero" && s.bal[id] == 0) {
			snap.Balances[id] = s.money(id)
		}
		h := s.hist[id]
		if s.defect == "history-wrong" && id == "a" && len(h) > 2 {
			h = append(h[:1:1], h[2:]...) // one acknowledged write missing
		}
		snap.History[id] = history.HistoryRead{Status: 200, Entries: h, Total: len(h)}
	}
	snap.History["ghost"] = history.HistoryRead{Status: 404, Total: -1}
	return snap
}

// bbScript is the black-box workload in miniature: a retry, amounts with
// float noise, a refusal, a 5xx, a timeout, a re-registration, hostile
// amounts, a never-created agent.
func bbScript(s *bbSim) {
	c, r, a := history.KindConsume, history.KindRefund, history.KindAdd
	read := func(agent string) bbStep { return bbStep{kind: history.KindReadBalance, agent: agent} }
	s.run(
		bbStep{kind: history.KindCreateAgent, agent: "a"}, read("a"),
		bbStep{kind: a, agent: "a", key: "k1", amount: "0.1"},
		bbStep{kind: a, agent: "a", key: "k1", amount: "0.1", role: history.Retry},
		bbStep{kind: a, agent: "a", key: "k2", amount: "0.2"}, read("a"),
		bbStep{kind: a, agent: "a", key: "k1", amount: "0.1", role: history.Retry}, // after another write
		bbStep{kind: c, agent: "a", key: "k3", amount: "37.2"},
		bbStep{kind: c, agent: "a", key: "k3", amount: "37.2", role: history.Retry}, read("a"),
		bbStep{kind: r, agent: "a", amount: "1.005"},
		bbStep{kind: c, agent: "a", key: "k4", amount: "5000"}, // insufficient
		bbStep{kind: c, agent: "a", key: "k5", amount: "3", answer: "500"}, read("a"),
		bbStep{kind: c, agent: "a", key: "k6", amount: "0.5", answer: "timeout"}, read("a"),
		bbStep{kind: history.KindCreateAgent, agent: "a"}, read("a"),
		bbStep{kind: c, agent: "a", key: "h1", amount: "NaN"},
		bbStep{kind: c, agent: "a", key: "h2", amount: "-5"},
		bbStep{kind: a, agent: "a", key: "h3", amount: "1e309"},
		bbStep{kind: a, agent: "a", key: "h4", amount: `"abc"`},
		bbStep{kind: a, agent: "a", key: "h5", amount: "1e15"},
		bbStep{kind: a, agent: "a", key: "h6", amount: "0"}, read("a"),
		read("ghost"), bbStep{kind: a, agent: "ghost", key: "g1", amount: "1"},
		bbStep{kind: history.KindCreateAgent, agent: "b"}, read("b"),
		bbStep{kind: c, agent: "b", amount: "0.3"}, read("b"),
		// An agent drained to exactly 0: still an agent with a balance.
		bbStep{kind: history.KindCreateAgent, agent: "z"}, read("z"),
		bbStep{kind: c, agent: "z", key: "z1", amount: "100"}, read("z"),
	)
}

func bbFindings(defect string) []Finding {
	s := newBBSim(defect)
	bbScript(s)
	return BlackBox(s.ops, s.snapshot())
}

func findingByID(fs []Finding, id string) Finding {
	for _, f := range fs {
		if strings.HasPrefix(f.Check, id+" ") {
			return f
		}
	}
	return Finding{}
}

func TestBlackBoxCorrectBackendPassesEveryCheckWithSamples(t *testing.T) {
	fs := bbFindings("")
	if len(fs) != 9 {
		t.Fatalf("%d findings", len(fs))
	}
	for _, f := range fs {
		if !f.OK || f.Samples == 0 {
			t.Errorf("%s", f)
		}
	}
}

func TestBlackBoxCatchesEachDefect(t *testing.T) {
	for _, c := range []struct{ defect, check string }{
		{"retry-twice", "A11"},
		{"retry-twice", "B13"},
		{"retry-twice", "B17"},
		{"5xx-applied", "A12"},
		{"nonfinite-accepted", "A13"},
		{"nonfinite-accepted", "B13"},
		{"float", "B14"},
		{"rereg-reset", "B15"},
		{"rereg-reset", "B13"},
		{"phantom", "B16"},
		{"history-wrong", "B17"},
		{"retry-current-balance", "A30"},
		{"balances-skip-zero", "B13"},
	} {
		t.Run(c.defect+"/"+c.check, func(t *testing.T) {
			f := findingByID(bbFindings(c.defect), c.check)
			if f.OK || f.Samples == 0 || len(f.Violations) == 0 {
				t.Fatalf("not caught: %s", f)
			}
			t.Log(f)
		})
	}
}

func TestBlackBoxJudgesNothingOnNothing(t *testing.T) {
	for _, f := range BlackBox(nil, history.Snapshot{}) {
		if !f.OK || f.Samples != 0 {
			t.Errorf("empty history: %s samples=%d", f, f.Samples)
		}
	}
}

// bbOp builds one recorded op for hand-written histories.
func bbOp(id uint64, kind history.Kind, agent string, call, ret int64, status int, f func(*Op)) Op {
	o := Op{ID: id, Kind: kind, Agent: agent, CallNs: call, ReturnNs: ret, Status: status}
	o.Outcome = history.Classify(status, false, nil)
	if f != nil {
		f(&o)
	}
	return o
}

func write(key, amount, ba string) func(*Op) {
	return func(o *Op) {
		o.Key, o.AmountSent, o.BalanceAfter, o.AnswerAmount = key, amount, ba, amount
		o.AmountMilli, _ = money.ParseMilli(amount)
	}
}

func readRaw(raw string) func(*Op) { return func(o *Op) { o.ReadRaw = raw } }

func TestBlackBoxToleratesConcurrentOrder(t *testing.T) {
	C, R := history.KindConsume, history.KindReadBalance
	ops := []Op{
		bbOp(1, history.KindCreateAgent, "a", 0, 10, 201, func(o *Op) { o.BalanceAfter = "100" }),
		// Two consumes in flight at once; the backend ran the second first.
		bbOp(2, C, "a", 20, 60, 200, write("k1", "1.5", "96.5")),
		bbOp(3, C, "a", 25, 50, 200, write("k2", "2", "98")),
		bbOp(4, R, "a", 30, 40, 200, readRaw("98")), // overlaps both: not judged
		// A concurrent duplicate answered twice without the header, one
		// balance_after: replayed, not executed again.
		bbOp(5, C, "a", 70, 90, 200, write("k3", "0.5", "96")),
		bbOp(6, C, "a", 71, 91, 200, func(o *Op) { write("k3", "0.5", "96")(o); o.Role = history.ConcurrentDuplicate }),
		bbOp(7, R, "a", 100, 110, 200, readRaw("96")),
	}
	snap := history.Snapshot{BalancesStatus: 200, Balances: map[string]string{"a": "96"}, History: map[string]history.HistoryRead{
		"a": {Status: 200, Total: 4, Entries: []history.HistoryEntry{
			{EventID: "e4", Amount: "-0.5", BalanceAfter: "96"},
			{EventID: "e3", Amount: "-1.5", BalanceAfter: "96.5"},
			{EventID: "e2", Amount: "-2", BalanceAfter: "98"},
			{EventID: "e1", Amount: "100", BalanceAfter: "100"},
		}}}}
	for _, f := range BlackBox(ops, snap) {
		if !f.OK {
			t.Errorf("%s", f)
		}
	}
	if f := findingByID(BlackBox(ops, snap), "B13"); f.Samples != 3 {
		t.Errorf("B13 judged %d, want 2 reads (the overlapping one skipped) and the agent's line in GET /balances", f.Samples)
	}
	// Entries of writes that did not overlap must keep their order.
	snap.History["a"] = history.HistoryRead{Status: 200, Total: 3, Entries: []history.HistoryEntry{
		{EventID: "e3", Amount: "-1.5", BalanceAfter: "96.5"},
		{EventID: "e2", Amount: "-2", BalanceAfter: "98"},
		{EventID: "e4", Amount: "-0.5", BalanceAfter: "96"},
	}}
	if f := findingByID(BlackBox(ops, snap), "B17"); f.OK {
		t.Errorf("out-of-order history passed: %s", f)
	}
}

func TestBlackBoxUnknownOutcomesEitherWayBounded(t *testing.T) {
	ops := []Op{bbOp(1, history.KindCreateAgent, "a", 0, 10, 201, nil)} // no balance in the answer
	ops = append(ops, bbOp(2, history.KindReadBalance, "a", 11, 12, 200, readRaw("100")))
	for i := 0; i < 14; i++ { // more than maxSubset timeouts: judged by interval
		ops = append(ops, bbOp(uint64(3+i), history.KindAdd, "a", int64(20+10*i), int64(25+10*i), 0, func(o *Op) {
			write(fmt.Sprintf("t%d", i), "1", "")(o)
			o.Err = "timeout"
		}))
	}
	// 202: an approval request opened, applied or not later.
	ops = append(ops, bbOp(20, history.KindAdd, "a", 200, 210, 202, write("big", "600", "")))
	judge := func(final string) Finding {
		all := append(slices.Clone(ops), bbOp(30, history.KindReadBalance, "a", 300, 310, 200, readRaw(final)))
		return findingByID(BlackBox(all, history.Snapshot{}), "B13")
	}
	for _, final := range []string{"100", "105", "114", "700", "714"} {
		if f := judge(final); !f.OK || f.Samples != 1 {
			t.Errorf("final %s: %s", final, f)
		}
	}
	for _, final := range []string{"99", "114.5", "715"} {
		if f := judge(final); f.OK {
			t.Errorf("final %s passed: %s", final, f)
		}
	}
}

func TestBlackBoxRetryDifferenceWithOtherWritesInFlightIsInconclusive(t *testing.T) {
	ops := []Op{
		bbOp(1, history.KindCreateAgent, "a", 0, 10, 201, func(o *Op) { o.BalanceAfter = "100" }),
		bbOp(2, history.KindConsume, "a", 20, 30, 200, write("k1", "1", "99")),
		bbOp(3, history.KindAdd, "a", 35, 60, 200, write("k2", "5", "104")),
		// The retry overlaps k2 and differs by k2's amount, not its own: no
		// evidence of a second effect.
		bbOp(4, history.KindConsume, "a", 40, 70, 200, func(o *Op) { write("k1", "1", "104")(o); o.Role = history.Retry }),
	}
	f := findingByID(BlackBox(ops, history.Snapshot{}), "A11")
	if !f.OK || f.Samples != 1 || !strings.Contains(f.Detail, "1 had other writes in flight") {
		t.Errorf("%s", f)
	}
	// Yet the retry did not return the original result (SPEC §3): A30.
	if f := findingByID(BlackBox(ops, history.Snapshot{}), "A30"); f.OK || f.Samples != 1 {
		t.Errorf("a retry answering a later balance_after passed A30: %s", f)
	}
}
