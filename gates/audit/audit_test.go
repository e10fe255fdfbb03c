package audit

import (
	"github.com/creditgate/creditgate/scenarios/history"

	"bytes"
	"errors"
	"strings"
	"testing"
)

func findingByCheck(t *testing.T, fs []Finding, check string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	t.Fatalf("no finding %q", check)
	return Finding{}
}

func assertAllOK(t *testing.T, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		if !f.OK {
			t.Errorf("%s", f)
		}
	}
}

func TestCleanHandBuiltJournalPassesEveryCheckOfGatesAAndB(t *testing.T) {
	w := cleanWorld(t)
	j := w.b.journal()
	assertAllOK(t, GateA(j, w.ops, HistoryOptions{}))
	m := foldTest(j)
	assertAllOK(t, GateB(j, m, apiFromModel(m), GateBOptions{SynergieCapMilli: testCap}))

	want := map[string]int64{"a1": 197_500, "a2": 750_000}
	for id, b := range want {
		if m.Balances[id] != b {
			t.Errorf("model balance %s = %d, want %d", id, m.Balances[id], b)
		}
	}
	if a := m.Approvals["r1"]; a.Status != StatusApproved || a.Version != 2 || a.ExecutedEventID != w.executed {
		t.Errorf("r1 = %+v", a)
	}
	if a := m.Approvals["r2"]; a.Status != StatusRejected || len(a.ExecutedEventIDs) != 0 {
		t.Errorf("r2 = %+v", a)
	}
	if s := m.Synergie["a1"]["alpha"]; *s != (SynergieTotals{GrantedMilli: 120_000, CappedMilli: 80_000}) {
		t.Errorf("a1 alpha synergie = %+v", *s)
	}
}

// corruptLine replaces line n (1-based) of data.
func corruptLine(data []byte, n int, f func([]byte) []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	lines[n-1] = f(lines[n-1])
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

func TestGateADetectsEachViolation(t *testing.T) {
	cases := []struct {
		name  string
		check string
		// edit changes the world before rendering; raw edits the rendered bytes.
		edit func(w *world)
		raw  func(data []byte) []byte
		opt  HistoryOptions
	}{
		{name: "a flipped bit fails the checksum", check: CheckChecksum, raw: func(d []byte) []byte {
			return corruptLine(d, 5, func(l []byte) []byte { return bytes.Replace(l, []byte("12500"), []byte("12501"), 1) })
		}},
		{name: "a line without crc fails", check: CheckChecksum, raw: func(d []byte) []byte {
			return corruptLine(d, 5, func(l []byte) []byte { return append(l[:bytes.LastIndex(l, []byte(`,"crc"`))], '}') })
		}},
		{name: "garbage line fails to parse", check: CheckChecksum, raw: func(d []byte) []byte {
			return append(d, []byte("{not json\n")...)
		}},
		{name: "a torn last line is reported", check: CheckChecksum, raw: func(d []byte) []byte {
			return d[:len(d)-1]
		}},
		{name: "a seq gap is reported", check: CheckSeq, edit: func(w *world) {
			for _, e := range w.b.evs[5:] {
				e.Seq++
			}
		}},
		{name: "a repeated seq is reported", check: CheckSeq, edit: func(w *world) { w.b.evs[5].Seq = 5 }},
		{name: "schema_version 0 is reported", check: CheckSchema, edit: func(w *world) { w.b.evs[2].SchemaVersion = 0 }},
		{name: "an empty correlation_id is reported", check: CheckCorrelation, edit: func(w *world) { w.b.evs[3].CorrelationID = "" }},
		{name: "a dangling causation_id is reported", check: CheckCausation, edit: func(w *world) {
			s := "nowhere"
			w.b.evs[1].CausationID = &s
		}},
		{name: "a causation naming a later event is reported", check: CheckCausation, edit: func(w *world) {
			s := w.b.evs[9].EventID
			w.b.evs[1].CausationID = &s
		}},
		{name: "a duplicated event_id is reported", check: CheckEventIDs, edit: func(w *world) { w.b.evs[4].EventID = w.b.evs[3].EventID }},
		{name: "an event_id of another UUID version is reported", check: CheckEventIDs, edit: func(w *world) {
			w.b.evs[4].EventID = "019af3c2-7b1e-7c4d-9a2b-3c4d5e6f7a8b" // v7: time-ordered, not SPEC §2's v4
		}},
		{name: "an event_id that is no UUID is reported", check: CheckEventIDs, edit: func(w *world) { w.b.evs[4].EventID = "evt-5" }},
		{name: "a duplicated idempotency key is reported", check: CheckKeysOnce, edit: func(w *world) {
			w.b.cmd("k-c1", "anonymous", p("credit.consumed", credit("a1", 1, 196_500)))
		}},
		{name: "an acknowledged op missing from the journal is reported", check: CheckHistory, edit: func(w *world) {
			w.ops = append(w.ops, Op{Kind: history.KindConsume, Key: "k-lost", Status: 200, Outcome: history.OK, EventID: "e999"})
		}},
		{name: "a refused op present in the journal is reported", check: CheckHistory, edit: func(w *world) {
			w.ops[2].Outcome, w.ops[2].Status = history.Refused, 409
			w.ops[3].Outcome, w.ops[3].Status = history.Refused, 409
		}},
		{name: "an event no client asked for is reported", check: CheckHistory, edit: func(w *world) {
			w.b.cmd("k-ghost", "anonymous", p("credit.refunded", credit("a1", 1, 197_501)))
		}},
		{name: "an unclaimed server-keyed event is reported without keyless requests", check: CheckHistory, edit: func(w *world) {
			w.b.cmd("", "anonymous", p("credit.refunded", credit("a1", 1, 197_501)))
		}},
		{name: "an unknown op journaled twice is reported", check: CheckHistory, edit: func(w *world) {
			w.b.cmd("k-u1", "anonymous", p("credit.refunded", credit("a1", 1, 197_501)))
			w.b.cmd("k-u1", "anonymous", p("credit.refunded", credit("a1", 1, 197_502)))
		}},
		{name: "a no-write acknowledgement that wrote is reported", check: CheckHistory, edit: func(w *world) {
			w.b.cmd("k-col2b", "anonymous", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c3",
				"team_id": "alpha", "agent_ids": []string{"a1", "a2"}}))
		}},
		{name: "a retry that returned a different event is reported", check: CheckRetries, edit: func(w *world) {
			w.ops[3].EventID = "e-other"
		}},
		{name: "an acknowledgement naming another event than the journal's is reported", check: CheckRetries, edit: func(w *world) {
			w.ops[0].EventID = eid(2)
		}},
		{name: "a torn multi-event command is reported", check: CheckTx, edit: func(w *world) {
			w.b.evs = append(w.b.evs[:3:3], w.b.evs[4:]...) // drop a2's allocation
			for i, e := range w.b.evs {
				e.Seq = uint64(i + 1)
			}
		}},
		{name: "a derived key not following its command is reported", check: CheckTx, edit: func(w *world) {
			w.b.evs[1].IdempotencyKey = "k-a1#7"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := cleanWorld(t)
			if tc.edit != nil {
				tc.edit(w)
			}
			data := w.b.bytes()
			if tc.raw != nil {
				data = tc.raw(data)
			}
			f := findingByCheck(t, GateA(mustRead(t, data), w.ops, tc.opt), tc.check)
			if f.OK || f.ViolationCount == 0 || len(f.Violations) == 0 {
				t.Fatalf("violation not detected: %s", f)
			}
		})
	}
}

func TestServerKeyedEventsAreAllowedWhenKeylessRequestsWereDeclaredOrClaimed(t *testing.T) {
	w := cleanWorld(t)
	ev := w.b.cmd("", "anonymous", p("credit.refunded", credit("a1", 1, 197_501)))
	j := w.b.journal()
	if f := CheckHistoryExact(j, w.ops, HistoryOptions{KeylessSent: true}); !f.OK {
		t.Errorf("declared keyless: %s", f)
	}
	ops := append(w.ops, Op{Kind: history.KindRefund, Status: 200, Outcome: history.OK, EventID: ev[0].EventID})
	if f := CheckHistoryExact(j, ops, HistoryOptions{}); !f.OK {
		t.Errorf("claimed by event id: %s", f)
	}
}

func TestRefusedDecisionMayNameOnlyItsLazyExpiry(t *testing.T) {
	w := cleanWorld(t)
	rq := w.b.cmd("k-add3", "alice", p("approval.requested", request("r3", "add", "a1", 700_000)))
	w.ok("o20", "add", "k-add3", rq[0])
	w.b.cmd("k-late", "bob", pid("approval.expired", decision("r3", "", 1), rq[0].EventID))
	w.ops = append(w.ops, Op{Kind: history.KindApprove, Key: "k-late", Status: 409, Outcome: history.Refused})
	j := w.b.journal()
	if f := CheckHistoryExact(j, w.ops, HistoryOptions{}); !f.OK {
		t.Errorf("%s", f)
	}
	assertAllOK(t, GateB(j, foldTest(j), apiFromModel(foldTest(j)), GateBOptions{}))
}

func TestGateBDetectsEachViolation(t *testing.T) {
	cases := []struct {
		name  string
		check string
		edit  func(w *world)
		raw   func(data []byte) []byte
	}{
		{name: "a negative balance at any step is reported", check: CheckNegative, edit: func(w *world) {
			w.b.cmd("k-n1", "x", p("credit.consumed", credit("a1", 200_000, -2_500)))
			w.b.cmd("k-n2", "x", p("credit.refunded", credit("a1", 200_000, 197_500)))
		}},
		{name: "a balance_after that disagrees with the fold is reported", check: CheckBalanceAfter, edit: func(w *world) {
			w.b.cmd("k-b1", "x", p("credit.consumed", credit("a1", 500, 197_001)))
		}},
		{name: "a reward balance_after that disagrees is reported", check: CheckBalanceAfter, edit: func(w *world) {
			w.b.evs[9].Payload = mustJSON(t, reward("c1", "alpha", "a1", 100_000, 167_501, testCap))
		}},
		{name: "a pool closed with a wrong remainder is reported", check: CheckBalanceAfter, edit: func(w *world) {
			for _, e := range w.b.evs {
				if e.EventType == "pool.closed" {
					e.Payload = mustJSON(t, map[string]any{"pool_id": "p1", "remainder_milli": 9_000, "refund_to": "a1"})
				}
			}
		}},
		{name: "two terminal decisions are reported", check: CheckDecisions, edit: func(w *world) {
			w.b.cmd("k-rj1", "carol", pid("approval.rejected", decision("r1", "carol", 2), w.b.evs[5].EventID))
		}},
		{name: "an approval without execution is reported", check: CheckDecisions, edit: func(w *world) {
			rq := w.b.cmd("k-add3", "alice", p("approval.requested", request("r3", "add", "a1", 700_000)))
			w.b.cmd("k-ap3", "bob", pid("approval.approved", decision("r3", "bob", 1), rq[0].EventID))
		}},
		{name: "an approval executed twice is reported", check: CheckDecisions, edit: func(w *world) {
			w.b.cmd("k-ex2", "bob", pid("credit.allocated", credit("a2", 600_000, 1_350_000), w.approved))
		}},
		{name: "an execution caused by a rejection is reported", check: CheckDecisions, edit: func(w *world) {
			rej := w.b.evs[len(w.b.evs)-1].EventID
			w.b.cmd("k-ex3", "bob", pid("credit.allocated", credit("a1", 700_000, 897_500), rej))
		}},
		{name: "a reward above the cap is reported", check: CheckCap, edit: func(w *world) {
			w.b.cmd("k-col3", "x", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c3", "team_id": "alpha",
				"agent_ids": []string{"a1", "a2"}}),
				pc("synergie.reward_granted", reward("c3", "alpha", "a1", 5_000, 202_500, testCap), 0))
		}},
		{name: "reward_capped that is not what was withheld is reported", check: CheckCap, edit: func(w *world) {
			w.b.cmd("k-col3", "x", p("synergie.collaboration_recorded", map[string]any{"collaboration_id": "c3", "team_id": "beta",
				"agent_ids": []string{"a1", "a2"}}),
				pc("synergie.reward_granted", reward("c3", "beta", "a1", 50_000, 247_500, testCap), 0),
				pc("synergie.reward_capped", reward("c3", "beta", "a1", 10_000, 0, testCap), 0))
		}},
		{name: "NaN in a line is reported", check: CheckFinite, raw: func(d []byte) []byte {
			return resealLine(d, 5, func(l []byte) []byte {
				return bytes.Replace(l, []byte(`"amount_milli":12500`), []byte(`"amount_milli":NaN`), 1)
			})
		}},
		{name: "an overflowing number is reported as Inf", check: CheckFinite, raw: func(d []byte) []byte {
			return resealLine(d, 1, func(l []byte) []byte {
				return bytes.Replace(l, []byte(`"skill_level":0.8`), []byte(`"skill_level":1e999`), 1)
			})
		}},
		{name: "a quoted Infinity in a money member is reported", check: CheckFinite, raw: func(d []byte) []byte {
			return resealLine(d, 5, func(l []byte) []byte {
				return bytes.Replace(l, []byte(`"balance_after_milli":67500`), []byte(`"balance_after_milli":"Infinity"`), 1)
			})
		}},
		{name: "a fractional milli amount is reported", check: CheckFinite, raw: func(d []byte) []byte {
			return resealLine(d, 5, func(l []byte) []byte {
				return bytes.Replace(l, []byte(`"amount_milli":12500`), []byte(`"amount_milli":12500.5`), 1)
			})
		}},
		{name: "an unknown event type is reported", check: CheckFold, edit: func(w *world) {
			w.b.cmd("k-z", "x", p("credit.teleported", credit("a1", 1, 1)))
		}},
		{name: "a credit to an unregistered agent is reported", check: CheckFold, edit: func(w *world) {
			w.b.cmd("k-z", "x", p("credit.refunded", credit("ghost", 1, 1)))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := cleanWorld(t)
			if tc.edit != nil {
				tc.edit(w)
			}
			data := w.b.bytes()
			if tc.raw != nil {
				data = tc.raw(data)
			}
			j := mustRead(t, data)
			m := foldTest(j)
			f := findingByCheck(t, GateB(j, m, apiFromModel(m), GateBOptions{SynergieCapMilli: testCap}), tc.check)
			if f.OK || len(f.Violations) == 0 {
				t.Fatalf("violation not detected: %s", f)
			}
		})
	}
}

// resealLine edits line n and recomputes its checksum, as a buggy backend
// would write it.
func resealLine(data []byte, n int, f func([]byte) []byte) []byte {
	return corruptLine(data, n, func(l []byte) []byte {
		l = f(l)
		i := bytes.LastIndex(l, []byte(`,"crc"`))
		return Seal(append(append([]byte{}, l[:i]...), '}'))
	})
}

func TestAPIComparisonsDetectAOneMilliDifference(t *testing.T) {
	w := cleanWorld(t)
	j := w.b.journal()
	m := foldTest(j)
	cases := []struct {
		name  string
		check string
		edit  func(st *APIState)
		run   func(st APIState) Finding
	}{
		{"balance", CheckBalances, func(st *APIState) { st.Balances["a1"]++ }, func(st APIState) Finding { return CompareBalances(m, st.Balances) }},
		{"missing agent", CheckBalances, func(st *APIState) { delete(st.Balances, "a2") }, func(st APIState) Finding { return CompareBalances(m, st.Balances) }},
		{"ledger amount", CheckLedgers, func(st *APIState) { st.Ledgers["a1"][1].AmountMilli-- }, func(st APIState) Finding {
			return CompareLedger("a1", m.Ledgers["a1"], st.Ledgers["a1"])
		}},
		{"ledger balance_after", CheckLedgers, func(st *APIState) { st.Ledgers["a2"][0].BalanceAfterMilli++ }, func(st APIState) Finding {
			return CompareLedgers(m, st)
		}},
		{"ledger missing entry", CheckLedgers, func(st *APIState) { st.Ledgers["a2"] = st.Ledgers["a2"][1:] }, func(st APIState) Finding {
			return CompareLedgers(m, st)
		}},
		{"ledger total_entries of a window", CheckLedgers, func(st *APIState) { st.LedgerTotals["a1"]-- }, func(st APIState) Finding {
			return CompareLedgers(m, st)
		}},
		{"approval amount", CheckApprovalsAPI, func(st *APIState) {
			a := st.Approvals["r1"]
			a.AmountMilli++
			st.Approvals["r1"] = a
		}, func(st APIState) Finding { return CompareApprovals(m, st) }},
		{"approval status", CheckApprovalsAPI, func(st *APIState) {
			a := st.Approvals["r2"]
			a.Status = StatusApproved
			st.Approvals["r2"] = a
		}, func(st APIState) Finding { return CompareApprovals(m, st) }},
		{"synergie granted", CheckSynergieAPI, func(st *APIState) {
			s := st.Synergie["a2"]["alpha"]
			s.GrantedMilli++
			st.Synergie["a2"]["alpha"] = s
		}, func(st APIState) Finding { return CompareSynergie(m, st.Synergie) }},
		{"synergie capped", CheckSynergieAPI, func(st *APIState) {
			s := st.Synergie["a1"]["alpha"]
			s.CappedMilli--
			st.Synergie["a1"]["alpha"] = s
		}, func(st APIState) Finding { return CompareSynergie(m, st.Synergie) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := apiFromModel(m)
			if f := tc.run(st); !f.OK {
				t.Fatalf("unedited state differs: %s", f)
			}
			tc.edit(&st)
			f := tc.run(st)
			if f.OK || f.Check != tc.check {
				t.Fatalf("difference not detected: %s", f)
			}
		})
	}
}

func TestReadJournalKeepsEveryLineWithItsNumberAndError(t *testing.T) {
	w := cleanWorld(t)
	data := w.b.bytes()
	data = corruptLine(data, 2, func(l []byte) []byte { l[10] ^= 0x01; return l })
	data = append(data, "\n"...) // an empty line
	j := mustRead(t, data)
	if got, want := len(j.Lines), len(w.b.evs)+1; got != want {
		t.Fatalf("%d lines, want %d", got, want)
	}
	for i, l := range j.Lines {
		if l.No != i+1 {
			t.Errorf("line %d numbered %d", i+1, l.No)
		}
	}
	if !errors.Is(j.Lines[1].Err, ErrChecksum) || j.Lines[1].Event == nil {
		t.Errorf("line 2: err %v, event %v; want checksum error with the decoded envelope", j.Lines[1].Err, j.Lines[1].Event)
	}
	if !errors.Is(j.Lines[len(j.Lines)-1].Err, ErrEmptyLine) {
		t.Errorf("last line: %v", j.Lines[len(j.Lines)-1].Err)
	}
	if got := len(j.Events()); got != len(w.b.evs)-1 {
		t.Errorf("%d valid events, want %d", got, len(w.b.evs)-1)
	}
}

func TestFindingCapsSamplesAndCountsAll(t *testing.T) {
	var v violations
	for i := 0; i < 50; i++ {
		v.add("v%d", i)
	}
	f := v.finding("x", "", "", "")
	if f.OK || len(f.Violations) != MaxSamples || f.ViolationCount != 50 || !strings.Contains(f.String(), "30 more") {
		t.Fatalf("%+v", f)
	}
}

func TestAnAgentsSynergieTotalsAreTheSumsOverItsTeams(t *testing.T) {
	w := cleanWorld(t)
	m := foldTest(w.b.journal())
	st := apiFromModel(m)
	st.SynergieSums = map[string]SynergieTotals{}
	for agent, teams := range m.Synergie {
		var sum SynergieTotals
		for _, x := range teams {
			sum.GrantedMilli += x.GrantedMilli
			sum.CappedMilli += x.CappedMilli
		}
		st.SynergieSums[agent] = sum
	}
	if f := compareSynergieOf(m, st); !f.OK || f.Samples == 0 {
		t.Fatalf("totals equal to the sums: %s", f)
	}
	for agent, sum := range st.SynergieSums {
		if sum.CappedMilli == 0 {
			continue
		}
		sum.CappedMilli-- // e.g. the last team's capped part only
		st.SynergieSums[agent] = sum
		if f := compareSynergieOf(m, st); f.OK || f.Check != CheckSynergieAPI {
			t.Fatalf("a total_capped below the teams' sum not detected: %s", f)
		}
		return
	}
	t.Fatal("the clean world has no agent with a capped synergie part")
}
