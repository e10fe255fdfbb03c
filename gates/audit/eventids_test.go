package audit

import (
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
)

// Event ids judged from the answers alone: a write's acknowledged copies
// name one id, no two writes share one — the way a restart that reseeds an
// id generator or forgets its keys shows on a backend whose journal the
// harness cannot read.
func TestEventIDsOfAnswersHoldAcrossWritesAndTheirRetries(t *testing.T) {
	op := func(id uint64, key, body, ev string, call int64) Op {
		return Op{ID: id, Kind: history.KindConsume, Key: key, BodyHash: body, EventID: ev, Status: 200, Outcome: history.OK, CallNs: call, ReturnNs: call + 1}
	}
	clean := []Op{op(1, "k1", "b1", "e1", 1), op(2, "k2", "b2", "e2", 2), op(3, "k1", "b1", "e1", 3), op(4, "", "b3", "e3", 4)}
	if f := EventIDsOfAnswers(clean); !f.OK || f.Samples != 4 {
		t.Errorf("distinct writes and a retry naming its original: %s", f)
	}
	reused := append(clean[:4:4], op(5, "k9", "b9", "e1", 5)) // a write after a restart gets an old id
	if f := EventIDsOfAnswers(reused); f.OK {
		t.Errorf("a new write answering an earlier write's event_id passed: %s", f)
	}
	forgot := append(clean[:4:4], op(5, "k2", "b2", "e7", 5)) // a retry after a restart executes again
	if f := EventIDsOfAnswers(forgot); f.OK {
		t.Errorf("a keyed retry answering a new event_id passed: %s", f)
	}
	noIDs := []Op{op(1, "k1", "b1", "", 1)}
	if f := EventIDsOfAnswers(noIDs); f.Samples != 0 {
		t.Errorf("answers without event ids were judged: %s", f)
	}
}
