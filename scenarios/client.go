package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/creditgate/creditgate/scenarios/load"
)

// Client is a recording client of the credit API. Safe for concurrent use.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	History *load.History
	Base    time.Time // monotonic base of CallNs/ReturnNs
	// ApproverTokens are bearer tokens of distinct approver principals for
	// a backend with auth: each approver name used by a scenario gets one,
	// round robin, so "two distinct approvers" are distinct principals.
	ApproverTokens []string
	// NS prefixes every idempotency key sent (see harness Env.NS), so runs
	// sharing one backend never collide; the history records the sent key.
	NS          string
	approverMu  sync.Mutex
	approverTok map[string]string

	opID atomic.Uint64
	mu   sync.Mutex
	lat  map[string]*hdrhistogram.Histogram // per route, microseconds
}

// NewClient returns a client with a bounded history and a 10 s timeout.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		HTTP:    &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}},
		History: load.NewHistory(2_000_000), Base: time.Now(), lat: map[string]*hdrhistogram.Histogram{}}
}

// Reply is one response.
type Reply struct {
	Status   int
	Body     map[string]any
	Raw      []byte
	Replayed bool
	Latency  time.Duration
	Err      error
	OpID     uint64
}

// Code is the error code of a refused request ("" if none).
func (r Reply) Code() string { s, _ := r.Body["code"].(string); return s }

// Str returns a top-level string field.
func (r Reply) Str(k string) string { s, _ := r.Body[k].(string); return s }

// OK reports a 2xx answer.
func (r Reply) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Call describes one request.
type Call struct {
	Method, Path string
	Body         any
	Key          string // Idempotency-Key header; "" = none
	Kind         string // history kind, e.g. "consume"
	Route        string // latency bucket, e.g. "POST /consume"; "" = Method+" "+Path
	Role         string // history role: original | retry | concurrent_duplicate | setup
	Token        string // overrides Client.Token
	RetryOf      uint64
}

// approverToken returns the token standing for an approver name ("" when
// the backend runs without auth and identities come from the body).
func (c *Client) approverToken(approver string) string {
	if len(c.ApproverTokens) == 0 {
		return ""
	}
	c.approverMu.Lock()
	defer c.approverMu.Unlock()
	if c.approverTok == nil {
		c.approverTok = map[string]string{}
	}
	t, ok := c.approverTok[approver]
	if !ok {
		t = c.ApproverTokens[len(c.approverTok)%len(c.ApproverTokens)]
		c.approverTok[approver] = t
	}
	return t
}

// expectedCodes are refusals a scenario provokes on purpose.
var expectedCodes = map[string]bool{
	"insufficient_credits": true, "already_decided": true, "four_eyes_violation": true,
	"duplicate_approver": true, "agent_exists": true, "idempotency_key_conflict": true,
	"version_mismatch": true, "justification_required": true,
}

// Do sends one request, records its latency, and records mutations in the
// history (timeouts and 5xx as unknown).
func (c *Client) Do(ctx context.Context, call Call) Reply {
	var body io.Reader
	var raw []byte
	if call.Body != nil {
		raw, _ = json.Marshal(call.Body)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, c.BaseURL+call.Path, body)
	if err != nil {
		return Reply{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if call.Key != "" {
		call.Key = c.NS + call.Key
		req.Header.Set("Idempotency-Key", call.Key)
	}
	tok := call.Token
	if tok == "" {
		tok = c.Token
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	callNs := start.Sub(c.Base).Nanoseconds()
	resp, err := c.HTTP.Do(req)
	r := Reply{Err: err}
	if err == nil {
		r.Status = resp.StatusCode
		r.Raw, _ = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		r.Replayed = resp.Header.Get("Idempotent-Replayed") == "true"
		_ = json.Unmarshal(r.Raw, &r.Body)
	}
	r.Latency = time.Since(start)
	route := call.Route
	if route == "" {
		route = call.Method + " " + call.Path
	}
	c.record(route, r.Latency)
	if call.Method != http.MethodGet {
		r.OpID = c.opID.Add(1)
		c.History.Add(load.HistoryEntry{OpID: r.OpID, Kind: load.OpKind(call.Kind), Role: or(call.Role, "original"),
			IdempotencyKey: call.Key, Request: load.HistoryRequest{Method: call.Method, Path: call.Path, Body: raw},
			CallNs: callNs, ReturnNs: time.Since(c.Base).Nanoseconds(), Status: r.Status, Outcome: outcome(r),
			Code: r.Code(), EventID: eventID(r), RequestID: r.Str("request_id"), Replayed: r.Replayed, Error: errString(err)})
	}
	return r
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// eventID is the id of the primary event a response names.
func eventID(r Reply) string {
	if id := r.Str("event_id"); id != "" {
		return id
	}
	return r.Str("decision_event_id")
}

func outcome(r Reply) load.Outcome {
	switch {
	case r.Err != nil || r.Status >= 500 || r.Status == 0:
		return load.OutcomeUnknown
	case r.Status < 300:
		return load.OutcomeOK
	case expectedCodes[r.Code()]:
		return load.OutcomeExpected
	}
	return load.OutcomeError
}

func (c *Client) record(route string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.lat[route]
	if !ok {
		h = hdrhistogram.New(1, 60_000_000, 3)
		c.lat[route] = h
	}
	_ = h.RecordValue(max(d.Microseconds(), 1))
}

// Latency returns a merged copy of the latency histograms of the routes
// with the given prefix ("" = all), in microseconds.
func (c *Client) Latency(routePrefix string) *hdrhistogram.Histogram {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := hdrhistogram.New(1, 60_000_000, 3)
	for r, h := range c.lat {
		if strings.HasPrefix(r, routePrefix) {
			out.Merge(h)
		}
	}
	return out
}

// ResetLatency forgets recorded latencies (e.g. after setup).
func (c *Client) ResetLatency() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lat = map[string]*hdrhistogram.Histogram{}
}

// Credits renders milli-credits as an exact JSON number (never a float
// with a binary rounding tail such as 59.019999999999996).
func Credits(milli int64) json.Number {
	sign := ""
	if milli < 0 {
		sign, milli = "-", -milli
	}
	return json.Number(fmt.Sprintf("%s%d.%03d", sign, milli/1000, milli%1000))
}

// P95 of a histogram in milliseconds.
func P95(h *hdrhistogram.Histogram) float64 { return float64(h.ValueAtQuantile(95)) / 1000 }

const api = "/api/credits"

// CreateAgent creates an agent and tops it up to about credits (each top-up
// below the approval threshold, so nothing is gated).
func (c *Client) CreateAgent(ctx context.Context, id string, credits int) error {
	r := c.Do(ctx, Call{Method: "POST", Path: api + "/agents", Kind: "agent", Role: "setup", Key: "setup-agent-" + id,
		Body: map[string]any{"agent_id": id, "skill_level": 1.0, "actor_id": "harness"}})
	if !r.OK() {
		return fmt.Errorf("create agent %s: %d %s %v", id, r.Status, r.Raw, r.Err)
	}
	for left, i := credits-100, 0; left > 0; i++ {
		chunk := min(left, 450)
		r := c.Do(ctx, Call{Method: "POST", Path: api + "/add", Kind: "add", Role: "setup", Key: fmt.Sprintf("setup-add-%s-%d", id, i),
			Body: map[string]any{"agent_id": id, "amount": chunk, "reason": "setup", "actor_id": "harness"}})
		if !r.OK() {
			return fmt.Errorf("top up %s: %d %s %v", id, r.Status, r.Raw, r.Err)
		}
		left -= chunk
	}
	return nil
}

// Balance returns an agent's balance in credits (as the API's JSON number).
func (c *Client) Balance(ctx context.Context, id string) (float64, error) {
	r := c.Do(ctx, Call{Method: "GET", Path: api + "/balance/" + id})
	if !r.OK() {
		return 0, fmt.Errorf("balance %s: %d %s", id, r.Status, r.Raw)
	}
	f, _ := r.Body["balance"].(float64)
	return f, nil
}

// Get fetches a JSON document.
func (c *Client) Get(ctx context.Context, path string) Reply {
	return c.Do(ctx, Call{Method: "GET", Path: path})
}
