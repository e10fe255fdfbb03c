package engine

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
)

// Issue 18: a plan whose later event cannot be encoded (here a non-finite
// KARMA score in its metadata; on main also the EoC regulation sealed
// after a command) used to leave the events sealed before it folded into
// the read models without being committed. A failed seal leaves nothing
// folded and the seq where it was.
func TestAFailedSealLeavesNothingFolded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Journal.Path = filepath.Join(t.TempDir(), "credits.jsonl")
	cfg.Journal.NoSync = true
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	seq0, digest0, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	p := &plan{}
	p.add(event.CreditAllocated, event.Credit{AgentID: "a", AmountMilli: 1000, BalanceAfterMilli: 1000, Reason: "x"}, nil)
	p.add(event.CreditAllocated, event.Credit{AgentID: "b", AmountMilli: 1000, BalanceAfterMilli: 1000, Reason: "x"},
		&event.Metadata{KarmaSource: "live", KarmaScore: &nan})
	e.mu.Lock()
	_, _, serr := e.sealLocked(Request{ActorID: "t"}, p, e.clock.Now())
	seq := e.seq
	e.mu.Unlock()
	if serr == nil {
		t.Fatal("a plan with a NaN KARMA score sealed")
	}
	seq1, digest1, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if seq != seq0 || seq1 != seq0 || digest1 != digest0 {
		t.Fatalf("after a failed seal: seq %d (digest seq %d), digest %s; want seq %d and digest %s unchanged", seq, seq1, digest1, seq0, digest0)
	}
}
