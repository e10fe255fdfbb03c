package history

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestClassifyTimeoutsAndServerErrorsAreUnknownNeverFailed(t *testing.T) {
	cases := []struct {
		status   int
		replayed bool
		err      error
		want     Outcome
	}{
		{0, false, errors.New("timeout"), Unknown},
		{200, false, errors.New("body read: reset"), Unknown},
		{0, false, nil, Unknown},
		{500, false, nil, Unknown},
		{503, false, nil, Unknown},
		{200, false, nil, OK},
		{201, false, nil, OK},
		{202, false, nil, OK},
		{200, true, nil, Replayed},
		{409, false, nil, Refused},
		{409, true, nil, Refused}, // a replayed refusal is still a refusal
		{422, false, nil, Refused},
		{302, false, nil, Refused},
	}
	for _, c := range cases {
		if got := Classify(c.status, c.replayed, c.err); got != c.want {
			t.Errorf("Classify(%d, %t, %v) = %s, want %s", c.status, c.replayed, c.err, got, c.want)
		}
	}
}

func TestFillKeepsWhatTheJudgeNeeds(t *testing.T) {
	op := Op{Kind: KindApprove}
	Fill(&op, Response{Status: 200, Body: []byte(`{"decision_event_id":"d1","status":"approved","request_id":"r1"}`)})
	if op.Outcome != OK || op.EventID != "d1" || op.State != "approved" || op.RequestID != "r1" {
		t.Fatalf("decision: %+v", op)
	}
	op = Op{Kind: KindApprove}
	Fill(&op, Response{Status: 409, Body: []byte(`{"code":"already_decided","detail":"x","winner":{"decision_event_id":"d1"},"event_id":"e9"}`)})
	if op.Outcome != Refused || op.Code != "already_decided" || op.WinnerEventID != "d1" || op.EventID != "" {
		t.Fatalf("refusal: %+v", op)
	}
	op = Op{Kind: KindReadBalance}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","balance":59.02}`)})
	if !op.HasRead || op.ReadMilli != 59020 {
		t.Fatalf("balance read: %+v", op)
	}
	op = Op{Kind: KindReadHistory}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","history":[{"event_id":"e9"},{"event_id":"e8"}],"count":2}`)})
	if !op.HasRead || op.ReadNewest != "e9" {
		t.Fatalf("history read: %+v", op)
	}
	op = Op{Kind: KindReadHistory}
	Fill(&op, Response{Status: 200, Body: []byte(`{"agent_id":"a","history":[],"count":0}`)})
	if !op.HasRead || op.ReadNewest != "" {
		t.Fatalf("empty history read: %+v", op)
	}
	op = Op{Kind: KindCollaboration}
	Fill(&op, Response{Status: 200, Replayed: true, Body: []byte(`{"event_id":"e1","duplicate":true}`)})
	if op.Outcome != Replayed || !op.Duplicate || op.EventID != "e1" {
		t.Fatalf("collaboration: %+v", op)
	}
	op = Op{Kind: KindConsume}
	Fill(&op, Response{Err: errors.New("context deadline exceeded")})
	if op.Outcome != Unknown || op.Err == "" {
		t.Fatalf("timeout: %+v", op)
	}
}

func TestRecorderIsConcurrencySafeBoundedAndStreamsEverything(t *testing.T) {
	r := NewRecorder(100)
	path := filepath.Join(t.TempDir(), "h.jsonl")
	if err := r.StreamTo(path); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r.Add(Op{Kind: KindConsume, Key: "k", CallNs: r.Now(), ReturnNs: r.Now(), Outcome: OK})
			}
		}()
	}
	wg.Wait()
	if r.Len() != 100 || r.Dropped() != 300 {
		t.Fatalf("kept %d, dropped %d; want 100 and 300", r.Len(), r.Dropped())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[uint64]bool{}
	if err := Scan(f, func(op Op) error { seen[op.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 400 {
		t.Fatalf("stream holds %d distinct ops, want all 400", len(seen))
	}
}

func TestJSONLRoundTripKeepsTypedFields(t *testing.T) {
	in := []Op{
		{ID: 1, Kind: KindConsume, Role: Retry, Key: "k1", Agent: "a", AmountMilli: 1500, CallNs: 5, ReturnNs: 9, Status: 200, Outcome: Replayed, EventID: "e1"},
		{ID: 2, Kind: KindReadBalance, Agent: "a", CallNs: 10, ReturnNs: 12, Status: 200, Outcome: OK, ReadMilli: 42, HasRead: true},
		{ID: 3, Kind: KindReject, Role: ConcurrentDuplicate, Entity: "r1", Status: 409, Outcome: Refused, Code: "already_decided"},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"kind":"read_balance"`)) || !bytes.Contains(buf.Bytes(), []byte(`"outcome":"replayed"`)) {
		t.Fatalf("names not written: %s", buf.String())
	}
	out, err := ReadJSONL(&buf, 10)
	if err != nil || len(out) != len(in) {
		t.Fatalf("read %d, %v", len(out), err)
	}
	for i := range in {
		if in[i] != out[i] {
			t.Errorf("op %d: %+v != %+v", i, out[i], in[i])
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("nonsense")); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestOnlyWritesAreMutations(t *testing.T) {
	for k := KindConsume; k < kindCount; k++ {
		want := k < KindReadBalance
		if k.Mutation() != want {
			t.Errorf("%s.Mutation() = %t", k, k.Mutation())
		}
	}
}

func TestOpsByIDReturnsOnlyTheNamedOperationsInRecordOrder(t *testing.T) {
	r := NewRecorder(3)
	for i := 0; i < 4; i++ {
		r.Add(Op{Kind: KindConsume})
	}
	got := r.OpsByID([]uint64{4, 3, 1})
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 3 {
		t.Fatalf("OpsByID(4, 3, 1) over ids 1-3 kept, 4 dropped: %+v", got)
	}
}
