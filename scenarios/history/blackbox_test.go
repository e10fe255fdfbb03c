package history

import "testing"

func TestFillKeepsMoneyVerbatim(t *testing.T) {
	op := Op{Kind: KindConsume}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","amount":0.1,"balance_after":37.199999999999996,"reason":"r"}`)})
	if op.BalanceAfter != "37.199999999999996" || op.AnswerAmount != "0.1" {
		t.Fatalf("write: %+v", op)
	}
	op = Op{Kind: KindCreateAgent}
	Fill(&op, Response{Status: 201, Body: []byte(`{"agent_id":"a","initial_credits":100,"balance":100.5}`)})
	if op.BalanceAfter != "100.5" {
		t.Fatalf("create: %+v", op)
	}
	op = Op{Kind: KindReadBalance}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","balance":0.30000000000000004}`)})
	if op.ReadRaw != "0.30000000000000004" || op.HasRead {
		t.Fatalf("noisy read: %+v", op)
	}
	op = Op{Kind: KindReadBalance}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","balance":"NaN"}`)})
	if op.ReadRaw != `"NaN"` || op.HasRead {
		t.Fatalf("string read: %+v", op)
	}
	op = Op{Kind: KindReadBalance}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","balance":"59.02"}`)})
	if !op.HasRead || op.ReadMilli != 59020 {
		t.Fatalf("quoted read: %+v", op)
	}
	op = Op{Kind: KindConsume}
	Fill(&op, Response{Status: 422, Body: []byte(`{"detail":"amount","amount":1,"balance_after":2}`)})
	if op.BalanceAfter != "" || op.AnswerAmount != "" || op.Outcome != Refused {
		t.Fatalf("a refusal keeps no money: %+v", op)
	}
	op = Op{Kind: KindConsume}
	Fill(&op, Response{Status: 500, Body: []byte(`{"balance_after":2}`)})
	if op.BalanceAfter != "" || op.Outcome != Unknown {
		t.Fatalf("a 5xx keeps no money: %+v", op)
	}
}

func TestHashBodyTellsBodiesApart(t *testing.T) {
	a, b := HashBody([]byte(`{"amount":1}`)), HashBody([]byte(`{"amount":2}`))
	if a == b || a != HashBody([]byte(`{"amount":1}`)) || a == "" {
		t.Fatalf("%s %s", a, b)
	}
}

func TestParseSnapshotBodies(t *testing.T) {
	bal, err := ParseBalances([]byte(`{"balances":{"a":1.5,"b":37.199999999999996},"total_agents":2}`))
	if err != nil || bal["a"] != "1.5" || bal["b"] != "37.199999999999996" {
		t.Fatalf("%v %v", bal, err)
	}
	es, total, err := ParseHistory([]byte(`{"agent_id":"a","history":[{"event_id":"e2","amount":-0.1,"balance_after":0.2,"reason":"x"},{"event_id":"e1","amount":0.3,"balance_after":0.30000000000000004}],"total_entries":2}`))
	if err != nil || total != 2 || len(es) != 2 || es[0].Amount != "-0.1" || es[1].BalanceAfter != "0.30000000000000004" || es[0].EventID != "e2" || es[0].Reason != "x" {
		t.Fatalf("%+v %d %v", es, total, err)
	}
	if _, total, _ := ParseHistory([]byte(`{"history":[]}`)); total != -1 {
		t.Fatalf("absent total: %d", total)
	}
}
