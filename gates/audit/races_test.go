package audit

import (
	"testing"

	"github.com/creditgate/creditgate/scenarios/history"
)

func raceOps(answers ...Op) ([]Op, Race) {
	r := Race{RequestID: "r1"}
	for i := range answers {
		answers[i].ID = uint64(i + 1)
		answers[i].Kind, answers[i].Entity = history.KindApprove, "r1"
		r.Ops = append(r.Ops, answers[i].ID)
	}
	return answers, r
}

var (
	won    = Op{Status: 200, Outcome: history.OK, EventID: "d1", State: StatusApproved}
	lostD1 = Op{Status: 409, Outcome: history.Refused, Code: "already_decided", WinnerEventID: "d1"}
)

func TestApprovalRacesPassOneWinnerAndLosersNamingIt(t *testing.T) {
	ops, r := raceOps(lostD1, won, lostD1)
	one, named := ApprovalRaces(ops, []Race{r})
	if !one.OK || !named.OK || one.Samples != 1 {
		t.Fatalf("a clean race must pass: %v / %v", one, named)
	}
	if n := ApprovedRequests(ops, []string{"r1"}); n != 1 {
		t.Fatalf("approved requests = %d, want 1", n)
	}
}

func TestApprovalRacesFailTwoWinners(t *testing.T) {
	second := won
	second.EventID = "d2"
	ops, r := raceOps(won, second, lostD1)
	if one, _ := ApprovalRaces(ops, []Race{r}); one.OK {
		t.Fatalf("two acknowledged decisions must fail C1: %v", one)
	}
}

func TestApprovalRacesFailALoserNamingAnotherWinner(t *testing.T) {
	other := lostD1
	other.WinnerEventID = "d9"
	ops, r := raceOps(won, other)
	if _, named := ApprovalRaces(ops, []Race{r}); named.OK {
		t.Fatalf("a loser naming a decision that did not win must fail C2: %v", named)
	}
	conflict := Op{Status: 409, Outcome: history.Refused, Code: "conflict"}
	ops, r = raceOps(won, conflict)
	if _, named := ApprovalRaces(ops, []Race{r}); named.OK {
		t.Fatalf("a loser refused with another code must fail C2: %v", named)
	}
}

func TestDecidedOnceNamesARequestWithTwoDecisions(t *testing.T) {
	second := won
	second.EventID = "d2"
	ops, _ := raceOps(won, second)
	if bad := DecidedOnce(ops, []string{"r1"}, 0); len(bad) != 1 {
		t.Fatalf("two terminal decisions must be named: %v", bad)
	}
	ops, _ = raceOps(won, lostD1)
	if bad := DecidedOnce(ops, []string{"r1"}, 0); len(bad) != 0 {
		t.Fatalf("one decision, named by the loser, is fine: %v", bad)
	}
}
