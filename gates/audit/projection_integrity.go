package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditgate/creditgate/scenarios/money"
)

// Check names of gate B.
const (
	CheckBalances     = "B1 balances equal the reference fold"
	CheckLedgers      = "B2 ledgers equal the reference fold"
	CheckApprovalsAPI = "B3 approvals equal the reference fold"
	CheckSynergieAPI  = "B4 synergie totals equal the reference fold"
	CheckNegative     = "B5 no balance is ever negative"
	CheckFinite       = "B6 no NaN/Inf in any line; money fields are integers"
	CheckBalanceAfter = "B7 balance_after_milli equals the running balance"
	CheckDecisions    = "B8 at most one terminal decision; an approval executes exactly once"
	CheckCap          = "B9 synergie cap holds and reward_capped equals what was withheld"
	CheckFold         = "B10 every event folds"
)

// GateBOptions tune GateB.
type GateBOptions struct {
	// SynergieCapMilli is the per-team cap; 0 = each reward's cap_milli.
	SynergieCapMilli int64
}

// GateB folds the journal and runs every gate B check against the API state.
func GateB(j *Journal, m *Model, api APIState, opt GateBOptions) []Finding {
	return []Finding{
		CompareBalances(m, api.Balances), CompareLedgers(m, api), CompareApprovals(m, api),
		compareSynergieOf(m, api), NoNegativeBalance(m), NoNonFinite(j), BalanceAfterMatches(m),
		ApprovalDecisions(m), CapCheck(m, opt.SynergieCapMilli), FoldClean(m), FormulaCheck(m), CompareEntities(m, api),
	}
}

// CompareBalances: the API's balance of every agent equals the model's,
// exactly, and both know the same agents.
func CompareBalances(m *Model, api map[string]int64) Finding {
	var v violations
	for _, id := range m.AgentIDs() {
		got, ok := api[id]
		switch {
		case !ok:
			v.add("agent %q: model %s credits, missing from the API", id, money.FormatMilli(m.Balances[id]))
		case got != m.Balances[id]:
			v.add("agent %q: API %s, model %s (diff %d milli)", id, money.FormatMilli(got), money.FormatMilli(m.Balances[id]), got-m.Balances[id])
		}
	}
	for _, id := range sortedKeys(api) {
		if _, ok := m.Balances[id]; !ok {
			v.add("agent %q: API %s credits, unknown to the model", id, money.FormatMilli(api[id]))
		}
	}
	return v.finding(CheckBalances, countMeasured(&v, len(m.Balances), "agents"), "0 (exact)", "")
}

// CompareLedger compares one agent's entries, both oldest first: every
// field of every position (ledgerEntryDiffs), and the length.
func CompareLedger(agent string, model, api []LedgerEntry) Finding {
	var v violations
	missing := compareLedgerInto(&v, agent, model, api)
	return v.finding(CheckLedgers, countMeasured(&v, len(model), "entries of "+agent), "0 (exact)", notServedDetail(missing))
}

// compareLedgerInto adds a violation per entry that differs and returns
// the fields the journal fixes that the API's entries did not carry (not
// compared: whether a field is served is B46's to judge).
func compareLedgerInto(v *violations, agent string, model, api []LedgerEntry) LedgerFields {
	if len(model) != len(api) {
		v.add("agent %q: API has %d ledger entries, model %d", agent, len(api), len(model))
	}
	var missing LedgerFields
	for i := 0; i < min(len(model), len(api)); i++ {
		diffs, notServed := LedgerEntryDiffs(model[i], api[i])
		missing |= notServed
		if len(diffs) > 0 {
			v.add("agent %q entry %d (oldest = 0, event %s): %s", agent, i, model[i].EventID, strings.Join(diffs, "; "))
		}
	}
	return missing
}

// LedgerEntryDiffs compares one history entry the API returned with the
// model's: event_id, amount and balance_after always; timestamp (the same
// instant, at the API's precision), entity_id, entity_type, reason and
// mission_id (null = none) wherever the journal fixes the field and the
// entry carries it. notServed are the fields the journal fixes that the
// entry left out.
func LedgerEntryDiffs(want, got LedgerEntry) (diffs []string, notServed LedgerFields) {
	if want.EventID != got.EventID {
		diffs = append(diffs, fmt.Sprintf("event_id API %s, model %s", got.EventID, want.EventID))
	}
	if want.AmountMilli != got.AmountMilli {
		diffs = append(diffs, fmt.Sprintf("amount API %s, model %s", money.FormatMilli(got.AmountMilli), money.FormatMilli(want.AmountMilli)))
	}
	if want.BalanceAfterMilli != got.BalanceAfterMilli {
		diffs = append(diffs, fmt.Sprintf("balance_after API %s, model %s", money.FormatMilli(got.BalanceAfterMilli), money.FormatMilli(want.BalanceAfterMilli)))
	}
	for _, f := range ledgerFieldNames {
		if want.Fields&f.f == 0 {
			continue
		}
		if got.Fields&f.f == 0 {
			notServed |= f.f
			continue
		}
		var w, g string
		same := false
		switch f.f {
		case FieldTimestamp:
			w, g = want.Timestamp, got.Timestamp
			same = SameInstant(w, g)
		case FieldEntityID:
			w, g = want.EntityID, got.EntityID
		case FieldEntityType:
			w, g = want.EntityType, got.EntityType
			same = strings.EqualFold(w, g)
		case FieldReason:
			w, g = want.Reason, got.Reason
		case FieldMissionID:
			w, g = want.MissionID, got.MissionID
		}
		if !same && w != g {
			diffs = append(diffs, fmt.Sprintf("%s API %s, model %s", f.name, orNull(g), orNull(w)))
		}
	}
	return diffs, notServed
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return strconv.Quote(s)
}

// SameInstant reports whether an API timestamp names the journal's instant:
// equal instants, or the journal's truncated to the API's precision (a
// backend may render fewer fractional digits than it journals, never a
// different time). Unparsable text must equal exactly.
func SameInstant(journal, api string) bool {
	if journal == api {
		return true
	}
	j, err1 := time.Parse(time.RFC3339Nano, journal)
	a, err2 := time.Parse(time.RFC3339Nano, api)
	if err1 != nil || err2 != nil {
		return false
	}
	if j.Equal(a) {
		return true
	}
	digits := 0
	if i := strings.IndexByte(api, '.'); i >= 0 {
		for _, c := range api[i+1:] {
			if c < '0' || c > '9' {
				break
			}
			digits++
		}
	}
	unit := time.Second
	for range min(digits, 9) {
		unit /= 10
	}
	return j.Truncate(unit).Equal(a)
}

// NotServedNote is notServedDetail as a clause to append ("; …"), or "".
func NotServedNote(missing LedgerFields) string {
	if d := notServedDetail(missing); d != "" {
		return "; " + d
	}
	return ""
}

// notServedDetail says which history fields the API left out.
func notServedDetail(missing LedgerFields) string {
	if missing == 0 {
		return ""
	}
	var names []string
	for _, f := range ledgerFieldNames {
		if missing&f.f != 0 {
			names = append(names, f.name)
		}
	}
	return "not served, so not compared (B46 judges the shape): " + strings.Join(names, ", ")
}

// CompareLedgers compares every agent's ledger the API returned; where the
// API's ledger was truncated to its newest entries, against the model's
// newest entries of the same count.
func CompareLedgers(m *Model, api APIState) Finding {
	var v violations
	n := 0
	var missing LedgerFields
	for _, id := range sortedKeys(api.Ledgers) {
		model := m.Ledgers[id]
		got := api.Ledgers[id]
		if api.LedgerTruncated[id] && len(model) > len(got) {
			model = model[len(model)-len(got):]
		}
		n += len(model)
		missing |= compareLedgerInto(&v, id, model, got)
		// total_entries counts the agent's whole ledger (SPEC §6), not
		// what one page or an in-memory window holds.
		if total, ok := api.LedgerTotals[id]; ok && total != len(m.Ledgers[id]) {
			v.add("agent %q: total_entries %d, the ledger holds %d entries", id, total, len(m.Ledgers[id]))
		}
	}
	for _, id := range sortedKeys(m.Ledgers) {
		if _, ok := api.Ledgers[id]; !ok && len(api.Ledgers) > 0 {
			v.add("agent %q: %d model ledger entries, no ledger fetched from the API", id, len(m.Ledgers[id]))
		}
	}
	detail := fmt.Sprintf("%d agents compared; every field of every entry (event_id, timestamp, entity_id, entity_type, amount, balance_after, reason, mission_id) and total_entries", len(api.Ledgers))
	if d := notServedDetail(missing); d != "" {
		detail += "; " + d
	}
	return v.finding(CheckLedgers, countMeasured(&v, n, "entries"), "0 (exact)", detail)
}

// CompareApprovals: every request the API lists equals the model's (status,
// version, decision and execution event ids, agent, action, amount,
// requester), every model request is listed unless the API list was
// truncated, and the API lists nothing the journal does not hold.
func CompareApprovals(m *Model, api APIState) Finding {
	var v violations
	for _, id := range sortedKeys(api.Approvals) {
		got := api.Approvals[id]
		want, ok := m.Approvals[id]
		if !ok {
			v.add("request %q: listed by the API (%s), not in the journal", id, got.Status)
			continue
		}
		diffs := approvalDiffs(*want, got)
		if len(diffs) > 0 {
			v.add("request %q: %s", id, strings.Join(diffs, "; "))
		}
	}
	missing := 0
	for _, id := range m.ApprovalIDs() {
		if _, ok := api.Approvals[id]; !ok {
			missing++
			if !api.ApprovalsTruncated {
				v.add("request %q (%s): in the journal, not returned by the API", id, m.Approvals[id].Status)
			}
		}
	}
	detail := fmt.Sprintf("%d compared, every field the journal fixes (status, version, ids, agent, action, amount, requester, risk level, reason, justification, required approvals, times, decided_by, each decision)%s",
		len(api.Approvals), approvalsNotServed(api.Approvals))
	if api.ApprovalsTruncated {
		detail += fmt.Sprintf("; API list truncated, %d model requests not compared", missing)
	}
	if api.AllFields && approvalFieldsMissing(api.Approvals) {
		v.add("GET /approvals leaves out fields our engine always serves%s", approvalsNotServed(api.Approvals))
	}
	if api.ApprovalsTotal > 0 && api.ApprovalsTotal != len(m.Approvals) {
		v.add("API reports %d requests in total, the journal holds %d", api.ApprovalsTotal, len(m.Approvals))
	}
	return v.finding(CheckApprovalsAPI, countMeasured(&v, len(m.Approvals), "requests"), "0 (exact)", detail)
}

// approvalDiffs compares a request the API returned with the model's: the
// ids, status, version, agent, action, amount and requester always; every
// other field the journal fixes (risk level, reason, justification,
// required approvals, created and expiry times, who decided, and each
// decision's type, decider, justification and time) where the API serves
// it.
func approvalDiffs(want, got ApprovalState) []string {
	var d []string
	cmp := func(field string, w, g any) {
		if fmt.Sprint(w) != fmt.Sprint(g) {
			d = append(d, fmt.Sprintf("%s API %v, model %v", field, g, w))
		}
	}
	cmp("status", want.Status, got.Status)
	cmp("version", want.Version, got.Version)
	cmp("agent_id", want.AgentID, got.AgentID)
	cmp("action_type", want.ActionType, got.ActionType)
	cmp("amount_milli", want.AmountMilli, got.AmountMilli)
	cmp("requester_id", want.RequesterID, got.RequesterID)
	cmp("request_event_id", want.RequestEventID, got.RequestEventID)
	cmp("decision_event_ids", want.DecisionEventIDs, got.DecisionEventIDs)
	served := want.Fields & got.Fields
	if served&FieldDecisionEventID != 0 {
		cmp("decision_event_id", want.DecisionEventID, got.DecisionEventID)
	}
	if served&FieldExecutedEventID != 0 {
		cmp("executed_event_id", want.ExecutedEventID, got.ExecutedEventID)
	}
	str := func(f ApprovalFields, field, w, g string) {
		if served&f != 0 && w != g {
			d = append(d, fmt.Sprintf("%s API %s, model %s", field, orNull(g), orNull(w)))
		}
	}
	instant := func(f ApprovalFields, field, w, g string) {
		if served&f != 0 && !SameInstant(w, g) {
			d = append(d, fmt.Sprintf("%s API %s, model %s", field, orNull(g), orNull(w)))
		}
	}
	str(FieldRiskLevel, "risk_level", want.RiskLevel, got.RiskLevel)
	str(FieldApprovalReason, "reason", want.Reason, got.Reason)
	str(FieldJustification, "justification", want.Justification, got.Justification)
	if served&FieldRequiredApprovals != 0 {
		cmp("required_approvals", want.RequiredApprovals, got.RequiredApprovals)
	}
	instant(FieldCreatedAt, "created_at", want.CreatedAt, got.CreatedAt)
	instant(FieldExpiresAt, "expires_at", want.ExpiresAt, got.ExpiresAt)
	str(FieldDecidedBy, "decided_by", want.DecidedBy, got.DecidedBy)
	for i := 0; i < min(len(want.Decisions), len(got.Decisions)); i++ {
		w, g := want.Decisions[i], got.Decisions[i]
		at := fmt.Sprintf("decisions[%d] ", i)
		str(FieldDecisionType, at+"event_type", w.EventType, g.EventType)
		str(FieldDecisionDecider, at+"decider_id", w.DeciderID, g.DeciderID)
		str(FieldDecisionJustification, at+"justification", w.Justification, g.Justification)
		instant(FieldDecisionAt, at+"at", w.At, g.At)
	}
	return d
}

// approvalFieldsMissing reports whether a field beyond the decisions'
// sub-fields was served by no request of the read, for a backend that
// must serve them all (APIState.AllFields).
func approvalFieldsMissing(api map[string]ApprovalState) bool {
	var served ApprovalFields
	for _, a := range api {
		served |= a.Fields
	}
	return len(api) > 0 && served|decisionFields != allApprovalFields
}

// approvalsNotServed names the approval fields the journal fixes that no
// request the API returned carried (not compared).
func approvalsNotServed(got map[string]ApprovalState) string {
	if len(got) == 0 {
		return ""
	}
	served := ApprovalFields(0)
	for _, a := range got {
		served |= a.Fields
	}
	var names []string
	for _, f := range []struct {
		f    ApprovalFields
		name string
	}{{FieldRiskLevel, "risk_level"}, {FieldApprovalReason, "reason"}, {FieldJustification, "justification"},
		{FieldRequiredApprovals, "required_approvals"}, {FieldCreatedAt, "created_at"}, {FieldExpiresAt, "expires_at"},
		{FieldDecidedBy, "decided_by"}, {FieldDecisionEventID, "decision_event_id"}, {FieldExecutedEventID, "executed_event_id"},
		{FieldDecisionType, "decisions[].event_type"}, {FieldDecisionDecider, "decisions[].decider_id"},
		{FieldDecisionJustification, "decisions[].justification"}, {FieldDecisionAt, "decisions[].at"}} {
		if served&f.f == 0 {
			names = append(names, f.name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "; not served, so not compared: " + strings.Join(names, ", ")
}

// compareSynergieOf is CompareSynergie, or not measured (with the reason)
// when the API's per-team totals could not be read.
func compareSynergieOf(m *Model, api APIState) Finding {
	if api.SynergieUnread != "" {
		return Finding{Check: CheckSynergieAPI, OK: true, Measured: "not read", Threshold: "0 (exact)", Detail: api.SynergieUnread}
	}
	if f := CompareSynergie(m, api.Synergie); !f.OK {
		return f
	}
	return compareSynergieSums(m, api.SynergieSums)
}

// compareSynergieSums: an agent's totals beside its teams are the sums over
// its teams in the model (SPEC §6: "an agent's rewards, capped part").
func compareSynergieSums(m *Model, sums map[string]SynergieTotals) Finding {
	var v violations
	for _, agent := range sortedKeys(sums) {
		var want SynergieTotals
		for _, t := range m.Synergie[agent] {
			want.GrantedMilli += t.GrantedMilli
			want.CappedMilli += t.CappedMilli
		}
		if got := sums[agent]; got != want {
			v.add("agent %q: API total_granted %s total_capped %s, the model's teams sum to granted %s capped %s", agent,
				money.FormatMilli(got.GrantedMilli), money.FormatMilli(got.CappedMilli), money.FormatMilli(want.GrantedMilli), money.FormatMilli(want.CappedMilli))
		}
	}
	return v.finding(CheckSynergieAPI, countMeasured(&v, len(sums), "agents' totals"), "0 (exact)",
		"granted and capped per team, and each agent's totals beside them")
}

// CompareSynergie: for every agent fetched, granted and capped per team
// equal the model's; the model's synergie agents were all fetched.
func CompareSynergie(m *Model, api map[string]map[string]SynergieTotals) Finding {
	var v violations
	for _, agent := range sortedKeys(api) {
		teams := api[agent]
		model := m.Synergie[agent]
		for _, team := range sortedKeys(teams) {
			got := teams[team]
			var want SynergieTotals
			if t := model[team]; t != nil {
				want = *t
			}
			if got != want {
				v.add("agent %q team %q: API granted %s capped %s, model granted %s capped %s", agent, team,
					money.FormatMilli(got.GrantedMilli), money.FormatMilli(got.CappedMilli), money.FormatMilli(want.GrantedMilli), money.FormatMilli(want.CappedMilli))
			}
		}
		for _, team := range sortedKeys(model) {
			if _, ok := teams[team]; !ok {
				v.add("agent %q team %q: model granted %s capped %s, missing from the API", agent, team,
					money.FormatMilli(model[team].GrantedMilli), money.FormatMilli(model[team].CappedMilli))
			}
		}
	}
	for _, agent := range sortedKeys(m.Synergie) {
		if _, ok := api[agent]; !ok {
			v.add("agent %q: has synergie rewards in the journal, not fetched from the API", agent)
		}
	}
	return v.finding(CheckSynergieAPI, countMeasured(&v, len(api), "agents"), "0 (exact)", "")
}

func problemsFinding(m *Model, kind, check, unit, detail string) Finding {
	var v violations
	for _, p := range m.Problems {
		if p.Kind == kind {
			v.add("%s", p)
		}
	}
	return v.finding(check, countMeasured(&v, m.Events, unit), "0", detail)
}

// NoNegativeBalance: no agent or pool balance is below zero after any event.
func NoNegativeBalance(m *Model) Finding {
	return problemsFinding(m, ProblemNegative, CheckNegative, "events", "checked after every event, not only at the end")
}

// BalanceAfterMatches: every balance_after_milli (credit, reward, pool
// payloads; pool.closed's remainder) equals the model's running balance.
func BalanceAfterMatches(m *Model) Finding {
	return problemsFinding(m, ProblemBalanceAfter, CheckBalanceAfter, "events", "")
}

// FoldClean: every event's type is known and its payload decodes and refers
// to known entities.
func FoldClean(m *Model) Finding {
	return problemsFinding(m, ProblemFold, CheckFold, "events", "")
}

// ApprovalDecisions: each request has at most one terminal decision and no
// decision after it; an approved request executed exactly one credit event
// (causation = the approval.approved event) of the requested kind, agent and
// amount; nothing else executes.
func ApprovalDecisions(m *Model) Finding {
	var v violations
	for _, p := range m.Problems {
		if p.Kind == ProblemApproval {
			v.add("%s", p)
		}
	}
	for _, id := range m.ApprovalIDs() {
		a := m.Approvals[id]
		if n := len(a.TerminalEventIDs); n > 1 {
			v.add("request %q: %d terminal decisions %v", id, n, a.TerminalEventIDs)
		}
		switch {
		case a.Status == StatusApproved && len(a.ExecutedEventIDs) != 1:
			v.add("request %q: approved by %s, executed %d times %v, want exactly 1", id, a.DecisionEventID, len(a.ExecutedEventIDs), a.ExecutedEventIDs)
		case a.Status != StatusApproved && len(a.ExecutedEventIDs) > 0:
			v.add("request %q: %s, yet executed %v", id, a.Status, a.ExecutedEventIDs)
		}
	}
	return v.finding(CheckDecisions, countMeasured(&v, len(m.Approvals), "requests"), "0", "")
}

// SpecSynergieCapMilli is SPEC §5's default synergie cap per agent and team.
const SpecSynergieCapMilli = 500_000

// CapCheck: no agent earns more than the cap from synergie in one team, and
// for every (collaboration, agent) the withheld (reward_capped) amount is
// exactly the part above the cap: capped = max(granted+capped − room, 0)
// with room = max(cap − granted before, 0). capMilli 0 = each event's
// cap_milli.
func CapCheck(m *Model, capMilli int64) Finding {
	var v violations
	type key struct{ collab, agent string }
	type acc struct {
		team                  string
		before, g, c, capSeen int64
		seq0                  uint64
	}
	accs := map[key]*acc{}
	var order []key
	var sumCapped, sumWithheld int64
	for _, r := range m.Rewards {
		k := key{r.CollaborationID, r.AgentID}
		a := accs[k]
		if a == nil {
			a = &acc{team: r.TeamID, before: r.GrantedBeforeTeam, seq0: r.Seq, capSeen: r.CapMilli}
			accs[k] = a
			order = append(order, k)
		}
		if r.Capped {
			a.c += r.AmountMilli
		} else {
			a.g += r.AmountMilli
		}
	}
	defaulted := 0
	for _, k := range order {
		a := accs[k]
		c := capMilli
		if c <= 0 {
			c = a.capSeen
		}
		if c <= 0 {
			// The reward names no cap (another backend's payload): the
			// SPEC §5 default, which a backend started without settings has.
			c = SpecSynergieCapMilli
			defaulted++
		}
		room := max(c-a.before, 0)
		withheld := max(a.g+a.c-room, 0)
		sumCapped += a.c
		sumWithheld += withheld
		if a.g > room {
			v.add("seq %d collaboration %q agent %q team %q: granted %s with only %s left under the cap %s",
				a.seq0, k.collab, k.agent, a.team, money.FormatMilli(a.g), money.FormatMilli(room), money.FormatMilli(c))
		}
		if a.c != withheld {
			v.add("seq %d collaboration %q agent %q team %q: reward_capped %s, but %s was above the cap %s (granted before %s, now %s)",
				a.seq0, k.collab, k.agent, a.team, money.FormatMilli(a.c), money.FormatMilli(withheld), money.FormatMilli(c), money.FormatMilli(a.before), money.FormatMilli(a.g))
		}
	}
	maxGranted := int64(0)
	for _, agent := range sortedKeys(m.Synergie) {
		for _, team := range sortedKeys(m.Synergie[agent]) {
			v.judged++
			t := m.Synergie[agent][team]
			maxGranted = max(maxGranted, t.GrantedMilli)
			if capMilli > 0 && t.GrantedMilli > capMilli {
				v.add("agent %q team %q: granted %s credits, cap %s", agent, team, money.FormatMilli(t.GrantedMilli), money.FormatMilli(capMilli))
			}
		}
	}
	threshold := "each reward's cap_milli"
	if capMilli > 0 {
		threshold = money.FormatMilli(capMilli) + " credits per agent and team"
	} else if defaulted > 0 {
		threshold += fmt.Sprintf(", or SPEC §5's default %s credits for the %d rewards naming none", money.FormatMilli(SpecSynergieCapMilli), defaulted)
	}
	return v.finding(CheckCap, fmt.Sprintf("max granted %s credits; Σ reward_capped %s, Σ above cap %s",
		money.FormatMilli(maxGranted), money.FormatMilli(sumCapped), money.FormatMilli(sumWithheld)), threshold, "")
}

// numericKeys are payload/metadata members that must be JSON numbers.
var numericKeys = map[string]bool{
	"skill_level": true, "karma_score": true, "contribution": true, "rating": true, "anomaly_score": true,
	"score": true, "pressure": true, "regeneration_factor": true, "backpressure": true, "seq": true,
	"schema_version": true, "version": true, "tx": true, "required_approvals": true,
}

// NoNonFinite: no line contains NaN or ±Inf in any form (bare tokens,
// numbers that overflow float64, or quoted in a numeric member), and every
// *_milli member is an integer.
func NoNonFinite(j *Journal) Finding {
	var v violations
	for _, l := range j.Lines {
		for _, p := range scanNonFinite(l.Raw) {
			v.add("line %d: %s", l.No, p)
		}
	}
	return v.finding(CheckFinite, countMeasured(&v, len(j.Lines), "lines"), "0", "")
}

// scanNonFinite looks at raw JSON text outside strings for non-finite
// tokens, then walks the decoded document for numeric members.
func scanNonFinite(raw []byte) []string {
	var out []string
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '"':
			i = skipString(raw, i)
		case c == '-' || c == '+' || (c >= '0' && c <= '9') || c == '.':
			k := i + 1
			for k < len(raw) && strings.IndexByte("0123456789eE+-.", raw[k]) >= 0 {
				k++
			}
			if k < len(raw) && isLetter(raw[k]) { // -Infinity, -NaN
				for k < len(raw) && isLetter(raw[k]) {
					k++
				}
				out = append(out, fmt.Sprintf("non-finite token %q", raw[i:k]))
			} else if f, err := strconv.ParseFloat(string(raw[i:k]), 64); (err == nil || errors.Is(err, strconv.ErrRange)) &&
				(math.IsInf(f, 0) || math.IsNaN(f)) {
				out = append(out, fmt.Sprintf("number %q overflows to ±Inf", raw[i:k]))
			}
			i = k
		case isLetter(c):
			k := i
			for k < len(raw) && isLetter(raw[k]) {
				k++
			}
			if w := string(raw[i:k]); w != "true" && w != "false" && w != "null" {
				out = append(out, fmt.Sprintf("non-finite or invalid token %q", w))
			}
			i = k
		default:
			i++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) == nil {
		walkNumeric("", doc, &out)
	}
	return out
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func skipString(raw []byte, i int) int {
	for i++; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func walkNumeric(key string, v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkNumeric(k, x[k], out)
		}
	case []any:
		for _, e := range x {
			walkNumeric(key, e, out)
		}
	case string:
		if strings.HasSuffix(key, "_milli") || numericKeys[key] {
			*out = append(*out, fmt.Sprintf("member %q is the string %q, want a finite number", key, truncate(x, 40)))
		}
	case json.Number:
		if strings.HasSuffix(key, "_milli") {
			if _, err := strconv.ParseInt(string(x), 10, 64); err != nil {
				*out = append(*out, fmt.Sprintf("money member %q = %s is not an int64 milli amount", key, x))
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
