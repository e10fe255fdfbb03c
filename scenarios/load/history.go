package load

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
)

// Outcome of one request as the client saw it.
type Outcome string

const (
	OutcomeOK       Outcome = "ok"             // 2xx: acknowledged
	OutcomeExpected Outcome = "expected_error" // a business refusal the load provokes (409 insufficient_credits)
	OutcomeError    Outcome = "error"          // any other definite 4xx: nothing was applied
	// OutcomeUnknown: transport error, timeout or 5xx — the mutation may or
	// may not have been applied (a 503 after a failed fsync may still leave
	// the line on disk), so a gate must accept both.
	OutcomeUnknown Outcome = "unknown"
)

// HistoryRequest is the compact request of a history entry.
type HistoryRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// HistoryEntry is one mutation as the client saw it. CallNs and ReturnNs are
// nanoseconds since the run's monotonic base (Result.Started).
type HistoryEntry struct {
	OpID           uint64         `json:"op_id"`
	Kind           OpKind         `json:"kind"`
	Role           string         `json:"role"` // original | retry | concurrent_duplicate | follow_up | setup
	IdempotencyKey string         `json:"idempotency_key,omitempty"`
	Request        HistoryRequest `json:"request"`
	CallNs         int64          `json:"call_ns"`
	ReturnNs       int64          `json:"return_ns"`
	Status         int            `json:"status"`
	Outcome        Outcome        `json:"outcome"`
	Code           string         `json:"code,omitempty"`
	EventID        string         `json:"event_id,omitempty"`
	RequestID      string         `json:"request_id,omitempty"`
	Replayed       bool           `json:"replayed,omitempty"`
	Error          string         `json:"error,omitempty"`
}

// History is the bounded client history of mutations. Safe for concurrent use.
type History struct {
	mu      sync.Mutex
	cap     int
	entries []HistoryEntry
	dropped int64
}

// NewHistory returns a history that keeps at most capacity entries.
func NewHistory(capacity int) *History {
	return &History{cap: max(1, capacity)}
}

// Add records e, or counts it as dropped when the history is full.
func (h *History) Add(e HistoryEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) >= h.cap {
		h.dropped++
		return
	}
	h.entries = append(h.entries, e)
}

// Entries returns a copy of the recorded entries in record order.
func (h *History) Entries() []HistoryEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]HistoryEntry(nil), h.entries...)
}

// Len is the number of recorded entries.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// Dropped is the number of entries not recorded because the history was full.
// A gate that checks "every acknowledged mutation is in the journal" must
// fail (or skip) when it is not zero.
func (h *History) Dropped() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// WriteJSONL writes one entry per line.
func (h *History) WriteJSONL(w io.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	for i := range h.entries {
		if err := enc.Encode(&h.entries[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadHistoryJSONL reads what WriteJSONL wrote, at most limit entries.
func ReadHistoryJSONL(r io.Reader, limit int) ([]HistoryEntry, error) {
	dec := json.NewDecoder(r)
	var out []HistoryEntry
	for len(out) < limit {
		var e HistoryEntry
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}
