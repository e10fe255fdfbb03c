package audit

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// CheckPendingList is the check of a list endpoint's filter.
const CheckPendingList = "B49 GET /approvals?status=pending lists exactly the requests the journal leaves pending"

// PendingRead is one GET /api/credits/approvals?status=pending, read
// between two reads of the journal that found the same last seq.
type PendingRead struct {
	Approvals map[string]ApprovalState
	Total     int       // the API's "total"; -1 when absent
	Limit     int       // the page size asked for: a full page may be cut
	ReadAt    time.Time // when the answer arrived (harness clock)
}

// ApprovalsWithStatus reads GET /api/credits/approvals?status=<status>.
func (c *APIClient) ApprovalsWithStatus(ctx context.Context, status string) (PendingRead, error) {
	r := PendingRead{Approvals: map[string]ApprovalState{}, Total: -1, Limit: pageLimit}
	got, total, err := c.approvalList(ctx, "status="+url.QueryEscape(status)+"&limit="+strconv.Itoa(pageLimit))
	if err != nil {
		return r, err
	}
	r.Approvals, r.ReadAt = got, time.Now()
	if total != nil {
		r.Total = *total
	}
	return r, nil
}

// pendingExpirySlack is how far the harness's clock may be from the backend's
// when a request's deadline passes: a request overdue within it may be
// listed or not (the backend expires it by a timer or lazily on access).
const pendingExpirySlack = 2 * time.Second

// PendingList judges the filter of GET /approvals?status=pending against
// the model folded from a journal with the same last seq: every request it
// lists is pending in the journal (status, a vote or none), every request
// the journal leaves pending is listed — a half-approved CRITICAL request
// included — unless its deadline had passed when the list was read (then
// either is right), or the list was cut at its limit.
func PendingList(m *Model, r PendingRead) Finding {
	var v violations
	pending, voted, overdue := 0, 0, 0
	// Only a full page may be cut short of the total.
	truncated := r.Total > len(r.Approvals) && r.Limit > 0 && len(r.Approvals) >= r.Limit
	for _, id := range m.ApprovalIDs() {
		a := m.Approvals[id]
		if a.Status != StatusPending {
			continue
		}
		pending++
		if len(a.Decisions) > 0 {
			voted++
		}
		if _, ok := r.Approvals[id]; ok {
			continue
		}
		if exp, err := time.Parse(time.RFC3339Nano, a.ExpiresAt); err == nil && !exp.After(r.ReadAt.Add(pendingExpirySlack)) {
			overdue++
			continue
		}
		if truncated {
			continue
		}
		v.add("request %q (%s, %d of %d approvals recorded): pending in the journal, missing from the pending list",
			id, a.RiskLevel, len(a.Decisions), a.RequiredApprovals)
	}
	for _, id := range sortedKeys(r.Approvals) {
		got := r.Approvals[id]
		want, ok := m.Approvals[id]
		switch {
		case !ok:
			v.add("request %q: listed as pending, not in the journal", id)
		case want.Status != StatusPending:
			v.add("request %q: listed as pending, %s in the journal (decision %s)", id, want.Status, want.DecisionEventID)
		case got.Status != StatusPending:
			v.add("request %q: listed by the pending filter with status %q", id, got.Status)
		}
	}
	detail := fmt.Sprintf("%d pending in the journal (%d with a vote), %d listed, %d overdue at the read (either is right)", pending, voted, len(r.Approvals), overdue)
	if truncated {
		detail += fmt.Sprintf("; the list was cut at %d of %d: missing requests not judged", len(r.Approvals), r.Total)
	}
	return v.finding(CheckPendingList, countMeasured(&v, pending+len(r.Approvals), "pending and listed requests"), "0", detail)
}
