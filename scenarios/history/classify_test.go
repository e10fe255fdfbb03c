package history

import "testing"

// SPEC §5 puts the winning decision of an already_decided refusal "in the
// body" without naming the member: ours and the plain form are both read.
func TestAlreadyDecidedNamesTheWinnerInEitherForm(t *testing.T) {
	for _, body := range []string{
		`{"code":"already_decided","detail":"x","winner":{"decision_event_id":"w1"}}`,
		`{"code":"already_decided","detail":"x","decision":{"event_type":"approval.approved","event_id":"w1"}}`,
	} {
		op := Op{Kind: KindApprove}
		Fill(&op, Response{Status: 409, Body: []byte(body)})
		if op.WinnerEventID != "w1" || op.Code != "already_decided" {
			t.Errorf("%s: winner %q code %q", body, op.WinnerEventID, op.Code)
		}
	}
}

// Our engine answers a decision's type as "decision": a string there must
// not cost the answer its event id.
func TestADecisionAnsweredAsATypeKeepsItsEventID(t *testing.T) {
	op := Op{Kind: KindApprove}
	Fill(&op, Response{Status: 200, Body: []byte(`{"decision":"approval.approved","decision_event_id":"d1","status":"approved"}`)})
	if op.EventID != "d1" || op.State != "approved" {
		t.Errorf("event %q state %q", op.EventID, op.State)
	}
}
