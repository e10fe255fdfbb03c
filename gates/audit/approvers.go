package audit

import (
	"fmt"
	"sort"
	"strings"
)

// Checks over the approvals the journal holds.
const (
	CheckApprovers    = "C34 every approving decision in the journal is by a distinct principal other than the requester, and no request executes with fewer approvers than its level needs"
	CheckAuditListing = "C35 the approval audit lists every request the journal decided with exactly its decision event ids (votes, approved, rejected, expired)"
)

// approving says whether a decision event counts as an approver's vote.
func approving(eventType string) bool {
	return eventType == "approval.vote_recorded" || eventType == "approval.approved"
}

// requiredApprovers is how many distinct approvers other than the
// requester a request needs before it executes (SPEC §5: MEDIUM and HIGH
// one, CRITICAL two), or what the request itself states when that is more;
// 0 for a LOW request, which the backend approves by itself.
func requiredApprovers(a *ApprovalState) int {
	switch a.RiskLevel {
	case "LOW":
		return 0
	case "CRITICAL":
		return max(a.RequiredApprovals, 2)
	}
	return max(a.RequiredApprovals, 1)
}

// ApproverFourEyes judges every approval request of the journal by the
// four-eyes rules (SPEC §5: "the requester may not approve their own
// request", "CRITICAL 2 distinct approvers"), at every vote and not only
// the completing one: no vote or approval is by the requester, no
// principal approves one request twice, and a request that was approved or
// executed has at least as many distinct approvers other than the
// requester as its level needs. A decider is the decision payload's
// decider_id, else the event's actor_id; the requester is the request
// payload's requester_id, else its actor_id. A LOW request, approved by the
// backend itself, is not judged.
func ApproverFourEyes(j *Journal, m *Model) Finding {
	actors := map[string]string{}
	for _, e := range j.Events() {
		actors[e.EventID] = e.ActorID
	}
	var v violations
	judged := 0
	for _, id := range m.ApprovalIDs() {
		a := m.Approvals[id]
		need := requiredApprovers(a)
		if need == 0 {
			continue
		}
		executed := a.Status == StatusApproved || len(a.ExecutedEventIDs) > 0
		requester := a.RequesterID
		if requester == "" {
			requester = actors[a.RequestEventID]
		}
		seen := map[string]string{} // decider → the event of their first approval
		var approvers []string
		votes := 0
		for _, d := range a.Decisions {
			if !approving(d.EventType) {
				continue
			}
			votes++
			who := d.DeciderID
			if who == "" {
				who = actors[d.EventID]
			}
			switch {
			case who == "":
				v.add("request %s (%s): %s %s names no decider (neither decider_id nor actor_id): four eyes cannot be shown", id, a.RiskLevel, d.EventType, d.EventID)
			case requester != "" && who == requester:
				v.add("request %s (%s): %s %s, approving vote %d, is by the requester %q", id, a.RiskLevel, d.EventType, d.EventID, votes, who)
			case seen[who] != "":
				v.add("request %s (%s): %q approved twice (%s, then %s)", id, a.RiskLevel, who, seen[who], d.EventID)
			default:
				seen[who] = d.EventID
				approvers = append(approvers, who)
			}
		}
		if votes == 0 && !executed {
			continue
		}
		judged++
		if requester == "" {
			v.add("request %s (%s): the journal names no requester (neither requester_id nor actor_id): four eyes cannot be shown", id, a.RiskLevel)
		}
		if executed && len(approvers) < need {
			v.add("request %s (%s, requested by %q): %s (executed %d times) with %d distinct approvers other than the requester %v, needs %d",
				id, a.RiskLevel, requester, a.Status, len(a.ExecutedEventIDs), len(approvers), approvers, need)
		}
	}
	return v.finding(CheckApprovers, countMeasured(&v, judged, "requests with an approving decision"), "0",
		"every vote and approval of every request in the journal")
}

// AuditEntry is one request as GET /approvals/audit lists it.
type AuditEntry struct {
	RequestID        string
	DecisionEventIDs []string
}

// AuditEntriesOf reads the answer of GET /approvals/audit. SPEC §5 says
// the endpoint "lists every request with its decision event ids" and names
// neither the list's member nor the ids': the list is ours ("audit") or
// else the first top-level array of objects carrying a request_id; an
// entry's ids are its "decision_event_ids", or else the event_id of each
// of its "decisions". ok is false when no such list is found (an answer
// this reader does not know: what needs it is not measured).
func AuditEntriesOf(body map[string]any) (entries []AuditEntry, ok bool) {
	list, found := body["audit"].([]any)
	if !found {
		keys := make([]string, 0, len(body))
		for k := range body {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			l, isList := body[k].([]any)
			if !isList || len(l) == 0 {
				continue
			}
			if o, isObj := l[0].(map[string]any); isObj && o["request_id"] != nil {
				list, found = l, true
				break
			}
		}
	}
	if !found {
		// An empty audit in any member is an empty list, not an unknown shape.
		for _, v := range body {
			if l, isList := v.([]any); isList && len(l) == 0 {
				return nil, true
			}
		}
		return nil, false
	}
	for _, e := range list {
		o, _ := e.(map[string]any)
		entry := AuditEntry{RequestID: fmt.Sprint(o["request_id"])}
		if ids, has := o["decision_event_ids"].([]any); has {
			for _, id := range ids {
				entry.DecisionEventIDs = append(entry.DecisionEventIDs, fmt.Sprint(id))
			}
		} else if ds, has := o["decisions"].([]any); has {
			for _, d := range ds {
				if dm, isObj := d.(map[string]any); isObj && dm["event_id"] != nil {
					entry.DecisionEventIDs = append(entry.DecisionEventIDs, fmt.Sprint(dm["event_id"]))
				}
			}
		}
		entries = append(entries, entry)
	}
	return entries, true
}

// AuditListing compares the approval audit with the journal (SPEC §5:
// "Audit endpoint lists every request with its decision event ids"):
// every request that has a decision in the journal read before the audit
// (a vote, an approval, a rejection, an expiry) is listed, with each of
// those decision event ids; a listed id is a decision of that request in
// the journal read after the audit; no request is listed twice. A request
// nobody decided yet may be listed or not (the route lists "decided
// requests"), with no ids. full says the journals are whole, so a listed
// request they lack is invented (a journal read from a later seq would
// not hold older requests). truncated says the audit answered as many
// entries as the limit allowed, so an unlisted request may be past it.
// pendingVotes says a request still pending with votes must be listed too:
// our engine's contract (docs/events.md). SPEC §5 says every request, its
// §6 table "decided requests": another backend may list it or not, and is
// judged on its ids when it does.
func AuditListing(before, after *Model, entries []AuditEntry, full, truncated, pendingVotes bool) Finding {
	var v violations
	listed := map[string]map[string]bool{}
	for _, e := range entries {
		if listed[e.RequestID] != nil {
			v.add("request %s is listed twice", e.RequestID)
			continue
		}
		ids := map[string]bool{}
		for _, id := range e.DecisionEventIDs {
			ids[id] = true
		}
		listed[e.RequestID] = ids
		a, ok := after.Approvals[e.RequestID]
		if !ok {
			if full {
				v.add("request %s is listed, but the journal holds no such request", e.RequestID)
			}
			continue
		}
		known := map[string]bool{}
		for _, id := range a.DecisionEventIDs {
			known[id] = true
		}
		for _, id := range e.DecisionEventIDs {
			if !known[id] {
				v.add("request %s (%s) lists %s, which is not one of its decisions in the journal %v", e.RequestID, a.Status, id, a.DecisionEventIDs)
			}
		}
	}
	judged := 0
	byType := map[string]int{}
	for _, id := range before.ApprovalIDs() {
		a := before.Approvals[id]
		if len(a.Decisions) == 0 {
			continue
		}
		judged++
		for _, d := range a.Decisions {
			byType[strings.TrimPrefix(d.EventType, "approval.")]++
		}
		ids, ok := listed[id]
		if !ok && !pendingVotes && a.Status == "pending" {
			judged--
			continue // voted, not decided: the SPEC allows leaving it out
		}
		if !ok {
			if !truncated {
				v.add("request %s (%s, %s) is not listed; the journal has %d decisions %s", id, a.RiskLevel, a.Status, len(a.Decisions), decisionList(a))
			}
			continue
		}
		for _, d := range a.Decisions {
			if !ids[d.EventID] {
				v.add("request %s (%s, %s) is listed without its %s %s", id, a.RiskLevel, a.Status, d.EventType, d.EventID)
			}
		}
	}
	var kinds []string
	for k, n := range byType {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	return v.finding(CheckAuditListing, countMeasured(&v, judged, "decided requests"), "0",
		fmt.Sprintf("%d audit entries against the journal's decisions (%s)", len(entries), strings.Join(kinds, ", ")))
}

func decisionList(a *ApprovalState) string {
	parts := make([]string, len(a.Decisions))
	for i, d := range a.Decisions {
		parts[i] = strings.TrimPrefix(d.EventType, "approval.") + " " + d.EventID
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
