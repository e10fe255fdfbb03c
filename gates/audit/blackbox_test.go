package audit

import (
	"strconv"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
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
	return FormatMilli(s.bal[agent])
}

func (s *bbSim) apply(agent string, delta int64, reason string) {
	s.bal[agent] += delta
	s.fbal[agent] += float64(delta) / 1000
	s.seq++
	amount := FormatMilli(delta)
	if s.defect == "float" {
		amount = strconv.FormatFloat(float64(delta)/1000, 'g', -1, 64)
	}
	s.hist[agent] = append([]history.HistoryEntry{{EventID: "e" + itoa(s.seq), Amount: amount, BalanceAfter: s.money(agent), Reason: reason}}, s.hist[agent]...)
}

func (s *bbSim) run(steps ...bbStep) {
	for _, st := range steps {
		s.t += 10
		op := Op{ID: uint64(len(s.ops) + 1), Kind: st.kind, Role: st.role, Key: st.key, Agent: st.agent, CallNs: s.t, AmountSent: st.amount}
		if m, err := ParseMilli(st.amount); err == nil {
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
	m, err := ParseMilli(st.amount)
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
	op.Status, op.AnswerAmount, op.BalanceAfter = 200, strings.TrimPrefix(FormatMilli(delta), "-"), s.money(st.agent)
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
		snap.Balances[id] = s.money(id)
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
	if len(fs) != 8 {
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
