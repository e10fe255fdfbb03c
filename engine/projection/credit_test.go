package projection_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

var creditPayloads = []string{
	`{"agent_id":"a","amount_milli":1500,"balance_after_milli":-3,"reason":"llm","mission_id":"m-1"}`,
	`{"agent_id":"a","amount_milli":0,"balance_after_milli":9223372036854775807,"reason":""}`,
	`{"agent_id":"ä\u00e9","amount_milli":1,"balance_after_milli":2,"reason":"x"}`,
	`{"agent_id":"a\"b","amount_milli":1,"balance_after_milli":2,"reason":"<&>"}`,
	`{"agent_id":"a","amount_milli":9223372036854775808,"balance_after_milli":2,"reason":"x"}`,
	`{"agent_id":"a","amount_milli":01,"balance_after_milli":2,"reason":"x"}`,
	`{"agent_id":"a","amount_milli":1.5,"balance_after_milli":2,"reason":"x"}`,
	`{"amount_milli":1,"agent_id":"a","balance_after_milli":2,"reason":"x"}`,
	`{ "agent_id":"a","amount_milli":1,"balance_after_milli":2,"reason":"x"}`,
	`{"agent_id":"a","amount_milli":1,"balance_after_milli":2,"reason":"x"} `,
	`{"agent_id":"a","amount_milli":1,"balance_after_milli":2,"reason":"x","extra":1}`,
	"{\"agent_id\":\"\xff\",\"amount_milli\":1,\"balance_after_milli\":2,\"reason\":\"x\"}",
	`{"agent_id":"a","amount_milli":-,"balance_after_milli":2,"reason":"x"}`,
	`{"agent_id":"a","amount_milli":1,"balance_after_milli":2,"reason":"x"`,
	`null`, ``,
}

// DecodeCredit's hand-written fast path must agree with encoding/json on
// every input: same value, and an error exactly when json.Unmarshal errs.
func TestDecodeCreditAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range creditPayloads {
		checkDecodeCredit(t, []byte(in))
	}
	for _, c := range []event.Credit{{AgentID: "agent-17", AmountMilli: 1, BalanceAfterMilli: 0, Reason: "r"},
		{AgentID: "x", AmountMilli: -9_000_000_000_000, MissionID: "m\n"}} {
		b, _ := json.Marshal(c)
		checkDecodeCredit(t, b)
	}
}

func FuzzDecodeCredit(f *testing.F) {
	for _, in := range creditPayloads {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeCredit(t, b) })
}

func checkDecodeCredit(t *testing.T, b []byte) {
	t.Helper()
	var want event.Credit
	werr := json.Unmarshal(b, &want)
	got, err := projection.DecodeCredit(b)
	if (err != nil) != (werr != nil) {
		t.Fatalf("%q: error %v, encoding/json %v", b, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %+v, encoding/json %+v", b, got, want)
	}
}
