package audit

import (
	"strings"
	"testing"
	"time"
)

// pendingWorld: r1 approved, r2 rejected (cleanWorld), r3 a CRITICAL
// request with one of its two approvals, r4 a MEDIUM request untouched.
func pendingWorld(t *testing.T) *Model {
	w := cleanWorld(t)
	b := w.b
	crit := request("r3", "add", "a1", 50_000_000)
	crit["risk_level"], crit["required_approvals"], crit["expires_at"] = "CRITICAL", 2, "2999-01-01T00:00:00Z"
	rq := b.cmd("k-r3", "alice", p("approval.requested", crit))
	b.cmd("k-r3-v1", "bob", pid("approval.vote_recorded", decision("r3", "bob", 1), rq[0].EventID))
	med := request("r4", "add", "a2", 600_000)
	med["expires_at"] = "2999-01-01T00:00:00Z"
	b.cmd("k-r4", "alice", p("approval.requested", med))
	return foldTest(b.journal())
}

func pendingFromModel(m *Model, now time.Time) PendingRead {
	r := PendingRead{Approvals: map[string]ApprovalState{}, Total: -1, Limit: 1000, ReadAt: now}
	for id, a := range m.Approvals {
		if a.Status == StatusPending {
			r.Approvals[id] = *a
		}
	}
	r.Total = len(r.Approvals)
	return r
}

// The pending filter lists exactly the requests the journal leaves
// pending: a list that drops the half-approved request, or shows a decided
// one, is caught.
func TestPendingListEqualsTheJournalsPendingRequests(t *testing.T) {
	m := pendingWorld(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if f := PendingList(m, pendingFromModel(m, now)); !f.OK || f.Samples != 4 || !strings.Contains(f.Detail, "2 pending in the journal (1 with a vote)") {
		t.Fatalf("the exact pending list must pass with both requests judged: %s", f)
	}
	cases := []struct {
		name, want string
		edit       func(r *PendingRead)
	}{
		{"a request with a vote dropped", `"r3" (CRITICAL, 1 of 2 approvals recorded)`, func(r *PendingRead) { delete(r.Approvals, "r3") }},
		{"an untouched request dropped", `"r4"`, func(r *PendingRead) { delete(r.Approvals, "r4") }},
		{"a decided request listed", `"r1": listed as pending, approved`, func(r *PendingRead) { r.Approvals["r1"] = *m.Approvals["r1"] }},
		{"a request the journal does not hold", `"r9": listed as pending, not in the journal`, func(r *PendingRead) {
			r.Approvals["r9"] = ApprovalState{RequestID: "r9", Status: StatusPending}
		}},
		{"a listed request with another status", `with status "approved"`, func(r *PendingRead) {
			a := r.Approvals["r4"]
			a.Status = StatusApproved
			r.Approvals["r4"] = a
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pendingFromModel(m, now)
			tc.edit(&r)
			if f := PendingList(m, r); f.OK || !strings.Contains(f.String(), tc.want) {
				t.Fatalf("want a violation naming %s: %s", tc.want, f)
			}
		})
	}
}

// A request whose deadline passed by the read may be listed or not (a
// timer or a lazy expiry decides); a list cut at its limit judges only
// what it shows; nothing pending and nothing listed is nothing judged.
func TestPendingListToleratesExpiryAndTruncationNeverNothing(t *testing.T) {
	m := pendingWorld(t)
	late := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	r := pendingFromModel(m, late)
	r.Approvals = map[string]ApprovalState{}
	if f := PendingList(m, r); !f.OK || !strings.Contains(f.Detail, "2 overdue") {
		t.Fatalf("overdue requests may be left out: %s", f)
	}
	r = pendingFromModel(m, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	r.Total, r.Limit = 5, 1
	delete(r.Approvals, "r3")
	if f := PendingList(m, r); !f.OK || !strings.Contains(f.Detail, "cut at 1 of 5") {
		t.Fatalf("a cut list judges what it shows: %s", f)
	}
	empty := foldTest(cleanWorld(t).b.journal())
	if f := PendingList(empty, PendingRead{Approvals: map[string]ApprovalState{}}); f.Samples != 0 {
		t.Fatalf("nothing pending and nothing listed must be NOT MEASURED: %s", f)
	}
}
