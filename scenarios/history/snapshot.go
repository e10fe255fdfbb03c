package history

import (
	"bytes"
	"encoding/json"
)

// Snapshot is what the API showed at the end of a run, read after every
// recorded operation returned, with its money kept verbatim: the final
// state a black-box judge (gates/audit BlackBox) compares with the fold of
// the history when the target's journal cannot be read. Per-agent balance
// reads are ordinary operations of the history (KindReadBalance, ReadRaw).
type Snapshot struct {
	// BalancesStatus is the status of GET /balances (0 = not read);
	// Balances its "balances" map, each value's JSON text verbatim.
	BalancesStatus int               `json:"balances_status"`
	Balances       map[string]string `json:"balances,omitempty"`
	// History holds GET /history/{agent} per agent read.
	History map[string]HistoryRead `json:"history,omitempty"`
	// Phantoms are agent ids the workload never created (it read and wrote
	// them to see that they stay unknown).
	Phantoms []string `json:"phantoms,omitempty"`
}

// HistoryRead is one GET /history/{agent}: its status, the entries newest
// first as the API returned them, and total_entries (-1 when absent).
type HistoryRead struct {
	Status  int            `json:"status"`
	Entries []HistoryEntry `json:"entries,omitempty"`
	Total   int            `json:"total"`
}

// HistoryEntry is one history entry, its money verbatim.
type HistoryEntry struct {
	EventID      string `json:"event_id,omitempty"`
	Amount       string `json:"amount"`
	BalanceAfter string `json:"balance_after"`
	Reason       string `json:"reason,omitempty"`
}

// ParseBalances reads the body of GET /balances: each balance's JSON text.
func ParseBalances(body []byte) (map[string]string, error) {
	var b struct {
		Balances map[string]json.RawMessage `json:"balances"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(b.Balances))
	for id, v := range b.Balances {
		out[id] = string(v)
	}
	return out, nil
}

// ParseHistory reads the body of GET /history/{agent}: entries newest
// first, money verbatim, and total_entries (-1 when absent).
func ParseHistory(body []byte) ([]HistoryEntry, int, error) {
	var b struct {
		History []struct {
			EventID      json.RawMessage `json:"event_id"`
			Amount       json.RawMessage `json:"amount"`
			BalanceAfter json.RawMessage `json:"balance_after"`
			Reason       json.RawMessage `json:"reason"`
		} `json:"history"`
		Total *int `json:"total_entries"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, 0, err
	}
	total := -1
	if b.Total != nil {
		total = *b.Total
	}
	out := make([]HistoryEntry, len(b.History))
	for i, e := range b.History {
		out[i] = HistoryEntry{EventID: unquote(e.EventID), Amount: string(e.Amount),
			BalanceAfter: string(e.BalanceAfter), Reason: unquote(e.Reason)}
	}
	return out, total, nil
}

// unquote is a JSON string's value, or any other value's text.
func unquote(raw json.RawMessage) string {
	var s string
	if bytes.HasPrefix(raw, []byte(`"`)) && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
