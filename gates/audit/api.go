package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/creditgate/creditgate/scenarios/money"
)

// APIState is what a target's API says, in milli-credits.
type APIState struct {
	Balances map[string]int64
	// Ledgers are oldest first (the API returns newest first).
	Ledgers map[string][]LedgerEntry
	// LedgerTruncated marks agents whose ledger hit MaxLedgerEntries: the
	// newest entries were read.
	LedgerTruncated map[string]bool
	// LedgerTotals is each agent's total_entries as the first history page
	// said it (SPEC §6); absent where the API answered none.
	LedgerTotals map[string]int
	Approvals    map[string]ApprovalState
	// ApprovalsTotal is the API's "total"; ApprovalsTruncated is set when
	// fewer requests than that were read.
	ApprovalsTotal     int
	ApprovalsTruncated bool
	Synergie           map[string]map[string]SynergieTotals // agent -> team
	// SynergieSums are the agent-wide totals GET /synergie/{agent} gives
	// beside its teams (total_granted and total_capped), where it does.
	SynergieSums map[string]SynergieTotals
	// AllFields: the backend is our engine, which serves every view field
	// the journal fixes; one it leaves out is a violation, not a field
	// "not served, so not compared".
	AllFields bool
	// SynergieUnread says why the per-team totals were not read (an
	// answer shape the reader does not know); Synergie is then nil.
	SynergieUnread string
	// Entities are the per-entity reads (GET /balance/{id}, /pools/{id},
	// /missions/{id}) of what the model knows; nil when not fetched
	// (FetchEntities).
	Entities *EntityState
}

// APIClient reads the query endpoints of a target. The zero value plus
// BaseURL works. Safe for concurrent use if HTTP is.
type APIClient struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// MaxLedgerEntries bounds one agent's ledger read (default 100,000).
	MaxLedgerEntries int
}

// pageLimit is the API's maximum page for history and approvals.
const pageLimit = 1000

func (c *APIClient) getJSON(ctx context.Context, path string, v any) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	body, err := get(ctx, hc, strings.TrimRight(c.BaseURL, "/")+path, c.Token)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("audit: GET %s: decode: %w", path, err)
	}
	return nil
}

func milli(field string, n json.Number) (int64, error) {
	v, err := money.ParseMilli(string(n))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// Balances reads GET /api/credits/balances.
func (c *APIClient) Balances(ctx context.Context) (map[string]int64, error) {
	var resp struct {
		Balances map[string]json.Number `json:"balances"`
	}
	if err := c.getJSON(ctx, "/api/credits/balances", &resp); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(resp.Balances))
	for id, n := range resp.Balances {
		v, err := milli("balances["+id+"]", n)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, nil
}

// Ledger reads an agent's history page by page (newest first) and returns
// it oldest first; truncated is set when MaxLedgerEntries stopped it.
func (c *APIClient) Ledger(ctx context.Context, agent string) (entries []LedgerEntry, truncated bool, err error) {
	entries, truncated, _, err = c.LedgerWithTotal(ctx, agent)
	return entries, truncated, err
}

// LedgerWithTotal is Ledger with the total_entries of the first page (nil
// when the API answered none).
func (c *APIClient) LedgerWithTotal(ctx context.Context, agent string) (entries []LedgerEntry, truncated bool, total *int, err error) {
	maxEntries := c.MaxLedgerEntries
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	for offset := 0; ; offset += pageLimit {
		if len(entries) >= maxEntries {
			truncated = true
			break
		}
		path := fmt.Sprintf("/api/credits/history/%s?limit=%d&offset=%d", url.PathEscape(agent), pageLimit, offset)
		var resp struct {
			History []json.RawMessage `json:"history"`
			Total   *int              `json:"total_entries"`
		}
		if err := c.getJSON(ctx, path, &resp); err != nil {
			return nil, false, nil, err
		}
		if offset == 0 {
			total = resp.Total
		}
		for _, raw := range resp.History {
			e, err := ParseHistoryEntry(raw)
			if err != nil {
				return nil, false, nil, err
			}
			entries = append(entries, e)
		}
		if len(resp.History) < pageLimit {
			break
		}
	}
	slices.Reverse(entries)
	return entries, truncated, total, nil
}

// ParseHistoryEntry reads one GET /history entry with every field SPEC §6
// lists; Fields records which of timestamp, entity_id, entity_type, reason
// and mission_id it carried (mission_id null is "", carried).
func ParseHistoryEntry(raw json.RawMessage) (LedgerEntry, error) {
	var h struct {
		EventID      string          `json:"event_id"`
		EventType    string          `json:"event_type"`
		Seq          uint64          `json:"seq"`
		Amount       json.Number     `json:"amount"`
		BalanceAfter json.Number     `json:"balance_after"`
		Timestamp    json.RawMessage `json:"timestamp"`
		EntityID     json.RawMessage `json:"entity_id"`
		EntityType   json.RawMessage `json:"entity_type"`
		Reason       json.RawMessage `json:"reason"`
		MissionID    json.RawMessage `json:"mission_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&h); err != nil {
		return LedgerEntry{}, fmt.Errorf("history entry: %w", err)
	}
	amount, err := milli("history amount", h.Amount)
	if err != nil {
		return LedgerEntry{}, err
	}
	after, err := milli("history balance_after", h.BalanceAfter)
	if err != nil {
		return LedgerEntry{}, err
	}
	e := LedgerEntry{Seq: h.Seq, EventID: h.EventID, EventType: h.EventType, AmountMilli: amount, BalanceAfterMilli: after}
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
		f   LedgerFields
	}{{h.Timestamp, &e.Timestamp, FieldTimestamp}, {h.EntityID, &e.EntityID, FieldEntityID}, {h.EntityType, &e.EntityType, FieldEntityType},
		{h.Reason, &e.Reason, FieldReason}, {h.MissionID, &e.MissionID, FieldMissionID}} {
		if f.raw == nil {
			continue // absent: not served
		}
		e.Fields |= f.f
		*f.dst = jsonText(f.raw)
	}
	return e, nil
}

// jsonText is a JSON string's value, "" for null, else the value's text (a
// number where a string belongs still compares, and differs, as text).
func jsonText(raw json.RawMessage) string {
	var s string
	switch {
	case string(raw) == "null":
		return ""
	case json.Unmarshal(raw, &s) == nil:
		return s
	}
	return string(raw)
}

type apiApproval struct {
	RequestID       string      `json:"request_id"`
	Status          string      `json:"status"`
	Version         int         `json:"version"`
	ActionType      string      `json:"action_type"`
	AgentID         string      `json:"agent_id"`
	Amount          json.Number `json:"amount"`
	RequesterID     string      `json:"requester_id"`
	RequestEventID  string      `json:"request_event_id"`
	DecisionEventID *string     `json:"decision_event_id"`
	ExecutedEventID *string     `json:"executed_event_id"`
	// Beyond the ids: raw, so an absent member (not served) is told from
	// null (served, empty).
	RiskLevel         json.RawMessage              `json:"risk_level"`
	Reason            json.RawMessage              `json:"reason"`
	Justification     json.RawMessage              `json:"justification"`
	RequiredApprovals json.RawMessage              `json:"required_approvals"`
	CreatedAt         json.RawMessage              `json:"created_at"`
	ExpiresAt         json.RawMessage              `json:"expires_at"`
	DecidedBy         json.RawMessage              `json:"decided_by"`
	Decisions         []map[string]json.RawMessage `json:"decisions"`
}

func (a apiApproval) state() (ApprovalState, error) {
	amount, err := milli("approval amount", a.Amount)
	if err != nil {
		return ApprovalState{}, err
	}
	s := ApprovalState{RequestID: a.RequestID, ActionType: a.ActionType, AgentID: a.AgentID, AmountMilli: amount,
		RequesterID: a.RequesterID, Status: a.Status, Version: a.Version, RequestEventID: a.RequestEventID,
		DecisionEventIDs: []string{}, Decisions: []Decision{}}
	if a.DecisionEventID != nil {
		s.DecisionEventID = *a.DecisionEventID
		s.Fields |= FieldDecisionEventID
	}
	if a.ExecutedEventID != nil {
		s.ExecutedEventID = *a.ExecutedEventID
		s.Fields |= FieldExecutedEventID
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
		f   ApprovalFields
	}{{a.RiskLevel, &s.RiskLevel, FieldRiskLevel}, {a.Reason, &s.Reason, FieldApprovalReason}, {a.Justification, &s.Justification, FieldJustification},
		{a.CreatedAt, &s.CreatedAt, FieldCreatedAt}, {a.ExpiresAt, &s.ExpiresAt, FieldExpiresAt}, {a.DecidedBy, &s.DecidedBy, FieldDecidedBy}} {
		if f.raw != nil {
			s.Fields |= f.f
			*f.dst = jsonText(f.raw)
		}
	}
	if a.RequiredApprovals != nil {
		s.Fields |= FieldRequiredApprovals
		if json.Unmarshal(a.RequiredApprovals, &s.RequiredApprovals) != nil {
			s.RequiredApprovals = -1 // not a number: differs from any count
		}
	}
	for _, d := range a.Decisions {
		var dec Decision
		for _, f := range []struct {
			key string
			dst *string
			f   ApprovalFields
		}{{"event_id", &dec.EventID, 0}, {"event_type", &dec.EventType, FieldDecisionType}, {"decider_id", &dec.DeciderID, FieldDecisionDecider},
			{"justification", &dec.Justification, FieldDecisionJustification}, {"at", &dec.At, FieldDecisionAt}} {
			if raw, ok := d[f.key]; ok {
				s.Fields |= f.f
				*f.dst = jsonText(raw)
			}
		}
		s.Decisions = append(s.Decisions, dec)
		s.DecisionEventIDs = append(s.DecisionEventIDs, dec.EventID)
	}
	return s, nil
}

// decisionFields are the decision sub-fields: a backend that omits an
// empty member (no justification) still serves it where another decision
// of the same read carries it.
const decisionFields = FieldDecisionType | FieldDecisionDecider | FieldDecisionJustification | FieldDecisionAt

// shareDecisionFields marks every request of one read as serving the
// decision sub-fields any of them carried.
func shareDecisionFields(m map[string]ApprovalState) {
	var served ApprovalFields
	for _, a := range m {
		served |= a.Fields & decisionFields
	}
	for id, a := range m {
		a.Fields |= served
		m[id] = a
	}
}

// Approvals reads GET /api/credits/approvals?limit=1000 (newest first) and
// the API's total.
func (c *APIClient) Approvals(ctx context.Context) (map[string]ApprovalState, int, error) {
	out, total, err := c.approvalList(ctx, "limit="+strconv.Itoa(pageLimit))
	if err != nil {
		return nil, 0, err
	}
	shareDecisionFields(out)
	if total == nil {
		return out, 0, nil
	}
	return out, *total, nil
}

// approvalList reads one page of GET /api/credits/approvals?<query>, by
// request id; total is the API's "total" (nil when absent).
func (c *APIClient) approvalList(ctx context.Context, query string) (map[string]ApprovalState, *int, error) {
	var resp struct {
		Approvals []apiApproval `json:"approvals"`
		Total     *int          `json:"total"`
	}
	if err := c.getJSON(ctx, "/api/credits/approvals?"+query, &resp); err != nil {
		return nil, nil, err
	}
	out := make(map[string]ApprovalState, len(resp.Approvals))
	for _, a := range resp.Approvals {
		s, err := a.state()
		if err != nil {
			return nil, nil, err
		}
		out[s.RequestID] = s
	}
	return out, resp.Total, nil
}

// Approval reads GET /api/credits/approvals/{id}.
func (c *APIClient) Approval(ctx context.Context, id string) (ApprovalState, error) {
	var a apiApproval
	if err := c.getJSON(ctx, "/api/credits/approvals/"+url.PathEscape(id), &a); err != nil {
		return ApprovalState{}, err
	}
	return a.state()
}

// ErrShapeUnknown wraps an answer whose shape the SPEC leaves to the
// backend and this reader does not recognize: what depends on it is not
// measured, never failed on the reader's ignorance.
var ErrShapeUnknown = errors.New("audit: answer shape not recognized")

// Synergie reads GET /api/credits/synergie/{agent}: totals by team. SPEC §6
// says only "an agent's rewards, capped part", so two shapes are read:
// "teams" as a list of {team_id, granted, capped} (ours) or as an object
// keyed by team id whose values hold granted and capped. Anything else is
// ErrShapeUnknown.
func (c *APIClient) Synergie(ctx context.Context, agent string) (map[string]SynergieTotals, error) {
	teams, _, err := c.SynergieWithSum(ctx, agent)
	return teams, err
}

// SynergieWithSum is Synergie with the agent-wide totals the answer gives
// beside its teams as total_granted and total_capped (nil when it gives
// neither pair).
func (c *APIClient) SynergieWithSum(ctx context.Context, agent string) (map[string]SynergieTotals, *SynergieTotals, error) {
	var resp struct {
		Teams        json.RawMessage `json:"teams"`
		TotalGranted *json.Number    `json:"total_granted"`
		TotalCapped  *json.Number    `json:"total_capped"`
	}
	if err := c.getJSON(ctx, "/api/credits/synergie/"+url.PathEscape(agent), &resp); err != nil {
		return nil, nil, err
	}
	teams, err := synergieTeams(agent, resp.Teams)
	if err != nil || resp.TotalGranted == nil || resp.TotalCapped == nil {
		return teams, nil, err
	}
	g, err := milli("synergie total_granted", *resp.TotalGranted)
	if err != nil {
		return nil, nil, err
	}
	cp, err := milli("synergie total_capped", *resp.TotalCapped)
	if err != nil {
		return nil, nil, err
	}
	return teams, &SynergieTotals{GrantedMilli: g, CappedMilli: cp}, nil
}

// synergieTeams reads the "teams" member of GET /synergie/{agent}.
func synergieTeams(agent string, teams json.RawMessage) (map[string]SynergieTotals, error) {
	type totals struct {
		TeamID  string       `json:"team_id"`
		Granted *json.Number `json:"granted"`
		Capped  *json.Number `json:"capped"`
	}
	var list []totals
	switch t := bytes.TrimSpace(teams); {
	case len(t) > 0 && t[0] == '[':
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("%w: GET /synergie/%s teams: %v", ErrShapeUnknown, agent, err)
		}
	case len(t) > 0 && t[0] == '{':
		var byTeam map[string]totals
		if err := json.Unmarshal(t, &byTeam); err != nil {
			return nil, fmt.Errorf("%w: GET /synergie/%s teams: %v", ErrShapeUnknown, agent, err)
		}
		for id, x := range byTeam {
			x.TeamID = id
			list = append(list, x)
		}
	default:
		return nil, fmt.Errorf("%w: GET /synergie/%s has no \"teams\" list or object", ErrShapeUnknown, agent)
	}
	out := make(map[string]SynergieTotals, len(list))
	for _, t := range list {
		if t.Granted == nil || t.Capped == nil {
			return nil, fmt.Errorf("%w: GET /synergie/%s team %q has no granted and capped totals", ErrShapeUnknown, agent, t.TeamID)
		}
		g, err := milli("synergie granted", *t.Granted)
		if err != nil {
			return nil, err
		}
		cp, err := milli("synergie capped", *t.Capped)
		if err != nil {
			return nil, err
		}
		out[t.TeamID] = SynergieTotals{GrantedMilli: g, CappedMilli: cp}
	}
	return out, nil
}

// FetchState reads balances, then for each agent (nil = every agent the
// balances name) its ledger and synergie, then the approvals list; requests
// in approvalIDs the list did not return are read one by one.
func (c *APIClient) FetchState(ctx context.Context, agents, approvalIDs []string) (APIState, error) {
	st := APIState{Ledgers: map[string][]LedgerEntry{}, LedgerTruncated: map[string]bool{}, LedgerTotals: map[string]int{},
		Synergie: map[string]map[string]SynergieTotals{}, SynergieSums: map[string]SynergieTotals{}}
	var err error
	if st.Balances, err = c.Balances(ctx); err != nil {
		return st, err
	}
	if agents == nil {
		agents = sortedKeys(st.Balances)
	}
	for _, a := range agents {
		entries, truncated, total, err := c.LedgerWithTotal(ctx, a)
		if err != nil {
			return st, err
		}
		st.Ledgers[a] = entries
		if total != nil {
			st.LedgerTotals[a] = *total
		}
		if truncated {
			st.LedgerTruncated[a] = true
		}
		if st.SynergieUnread == "" {
			syn, sum, err := c.SynergieWithSum(ctx, a)
			switch {
			case errors.Is(err, ErrShapeUnknown):
				st.SynergieUnread = err.Error()
				st.Synergie, st.SynergieSums = nil, nil
			case err != nil:
				return st, err
			default:
				st.Synergie[a] = syn
				if sum != nil {
					st.SynergieSums[a] = *sum
				}
			}
		}
	}
	if st.Approvals, st.ApprovalsTotal, err = c.Approvals(ctx); err != nil {
		return st, err
	}
	for _, id := range approvalIDs {
		if _, ok := st.Approvals[id]; ok {
			continue
		}
		a, err := c.Approval(ctx, id)
		if err != nil {
			return st, err
		}
		st.Approvals[id] = a
	}
	st.ApprovalsTruncated = len(st.Approvals) < st.ApprovalsTotal
	return st, nil
}

// FetchAPIState reads the API state for the given agents (nil = all).
func FetchAPIState(ctx context.Context, baseURL, token string, agents []string) (APIState, error) {
	return (&APIClient{BaseURL: baseURL, Token: token}).FetchState(ctx, agents, nil)
}
