package scenarios

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
	"github.com/creditgate/creditgate/scenarios/wire"
)

// Client is a recording client of the credit API. Safe for concurrent use.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// History records every request (reads included) with its call and
	// return times on History.Base().
	History *history.Recorder
	// ApproverTokens are bearer tokens of distinct approver principals for
	// a backend with auth: each approver name used by a scenario gets one,
	// round robin, so "two distinct approvers" are distinct principals.
	ApproverTokens []string
	// NS prefixes every idempotency key sent (see harness Env.NS), so runs
	// sharing one backend never collide; the history records the sent key.
	NS string
	// Instances are the base URLs of the instances behind BaseURL when the
	// target is a cluster (nil otherwise): health is then the worst state
	// over all of them, since one instance's "healthy" says nothing about
	// the instance the next request is routed to.
	Instances []string
	// Bodies, when set, is what a backend we did not build documents of
	// its request bodies: bodies on the routes SPEC §6 leaves to the
	// backend (pools, missions, collaborations) are fitted to it before
	// they are sent (shape.go). Nil for our own engine, whose bodies the
	// workloads are written in.
	Bodies      BodyDocs
	approverMu  sync.Mutex
	approverTok map[string]string

	mu       sync.Mutex
	lat      map[string]*hdrhistogram.Histogram // per route, microseconds
	fitNotes map[string]bool
}

// NewClient returns a client with a bounded history and a 10 s timeout.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		HTTP:    &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}},
		History: history.NewRecorder(2_000_000), lat: map[string]*hdrhistogram.Histogram{}}
}

// Reply is one response.
type Reply struct {
	Status int
	Body   map[string]any
	Raw    []byte
	// Truncated: the answer was longer than the call's MaxBody; Raw holds
	// only its first MaxBody bytes.
	Truncated bool
	Replayed  bool
	Latency   time.Duration
	Err       error
	// Op is the recorded operation (its Outcome from history.Classify).
	Op history.Op
}

// Code is the error code of a refused request ("" if none).
func (r Reply) Code() string { s, _ := r.Body["code"].(string); return s }

// Str returns a top-level string field.
func (r Reply) Str(k string) string { s, _ := r.Body[k].(string); return s }

// OK reports an acknowledgement (a 2xx, replayed or not), as the one
// classifier (history.Classify) decided it.
func (r Reply) OK() bool { return r.Op.Outcome.Acked() }

// Call describes one request.
type Call struct {
	Method, Path string
	Body         any
	Key          string       // Idempotency-Key header; "" = none
	Kind         history.Kind // what it does; a GET without one is inferred from its path
	Role         history.Role // why it is sent (zero: original)
	Agent        string       // the agent it names, for the history
	Entity       string       // the approval request, pool, mission or collaboration it names
	AmountMilli  int64        // the amount it moves, for the history
	Route        string       // latency bucket, e.g. "POST /consume"; "" = Method+" "+Path
	Token        string       // overrides Client.Token
	IfMatch      string       // If-Match header; "" = none
	MaxBody      int64        // bytes read of the answer; 0 = 8 MiB (Reply.Truncated says when it was cut)
	Base         string       // overrides Client.BaseURL: one instance of a cluster
	// KeyInBody sends Key (namespaced like a header key) as the body's
	// idempotency_key member instead of the header (SPEC §3 allows both);
	// the history records it as the op's key all the same.
	KeyInBody bool
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

// Do sends one request with its body as JSON through the one recording
// client (scenarios/wire), and records its latency per route.
//
// On a backend-shaped route of a backend that documents its bodies
// (Client.Bodies) the body is fitted to them first; a pool created with
// members the backend takes only through its members route is created,
// then each member added (the reply is the create's, or the first add
// that was not acknowledged).
func (c *Client) Do(ctx context.Context, call Call) Reply {
	body, isMap := call.Body.(map[string]any)
	if !isMap || c.Bodies == nil || call.Method == http.MethodGet || !BackendShaped(cmp.Or(call.Kind, MutationKind(call.Path))) {
		return c.do(ctx, call)
	}
	f, ok := fitBody(c.Bodies, call.Method, call.Path, body)
	if !ok {
		return c.do(ctx, call)
	}
	c.noteFitted(f.notes)
	call.Body = f.body
	r := c.do(ctx, call)
	if !r.OK() {
		return r
	}
	for i, m := range f.members {
		if mr := c.do(ctx, memberCall(call, call.Path+"/"+poolID(body), i, m)); !mr.OK() {
			return mr
		}
	}
	return r
}

func (c *Client) do(ctx context.Context, call Call) Reply {
	var raw []byte
	if call.Body != nil {
		raw, _ = json.Marshal(call.Body)
	}
	return c.send(ctx, call, raw, history.Op{})
}

// send records call through wire.Client.Send (the one recording path);
// extra carries what only the caller knows (BodyHash, AmountSent).
func (c *Client) send(ctx context.Context, call Call, raw []byte, extra history.Op) Reply {
	if call.Key != "" {
		call.Key = c.NS + call.Key
		if call.KeyInBody {
			raw = WithBodyKey(raw, call.Key)
		}
	}
	if call.Kind == history.KindUnknown {
		if call.Method == http.MethodGet {
			call.Kind, call.Agent = readKind(call.Path)
		} else {
			call.Kind = MutationKind(call.Path)
		}
	}
	op := extra
	op.Kind, op.Role, op.Agent, op.Entity, op.AmountMilli = call.Kind, call.Role, call.Agent, call.Entity, call.AmountMilli
	w := wire.Client{HTTP: c.HTTP, History: c.History, MaxBody: cmp.Or(call.MaxBody, maxReplyBody)}
	resp := w.Send(ctx, wire.Request{Method: call.Method, Base: or(strings.TrimRight(call.Base, "/"), c.BaseURL), Path: call.Path,
		Body: raw, Key: call.Key, KeyInBody: call.KeyInBody && call.Key != "", Token: or(call.Token, c.Token), IfMatch: call.IfMatch, Op: op})
	r := Reply{Status: resp.Status, Raw: resp.Body, Truncated: resp.Truncated, Replayed: resp.Replayed, Latency: resp.Latency(), Err: resp.Err, Op: resp.Op}
	if resp.Err == nil {
		r.Body = decodeBody(r.Raw)
	}
	if resp.Op.ID != 0 { // sent: a request that could not be built has no latency
		c.record(or(call.Route, call.Method+" "+call.Path), r.Latency)
	}
	return r
}

// WithBodyKey returns a JSON object body with key as its first member,
// idempotency_key (any member of that name it had is dropped); a body that
// is not a JSON object is returned unchanged.
func WithBodyKey(raw []byte, key string) []byte {
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 {
		m = map[string]json.RawMessage{}
	} else if json.Unmarshal(raw, &m) != nil || m == nil {
		return raw
	}
	delete(m, "idempotency_key")
	rest, _ := json.Marshal(m) // members sorted by name
	k, _ := json.Marshal(key)
	out := append([]byte(`{"idempotency_key":`), k...)
	if len(rest) > 2 {
		out = append(append(out, ','), rest[1:]...)
	} else {
		out = append(out, '}')
	}
	return out
}

// maxReplyBody bounds what a scenario reads of one answer (a history page
// of a thousand entries fits).
const maxReplyBody = 8 << 20

// readKind infers a read's kind and agent from its path.
func readKind(path string) (history.Kind, string) {
	rest, _, _ := strings.Cut(strings.TrimPrefix(path, api), "?")
	switch {
	case strings.HasPrefix(rest, "/balance/"):
		return history.KindReadBalance, strings.TrimPrefix(rest, "/balance/")
	case strings.HasPrefix(rest, "/history/"):
		return history.KindReadHistory, strings.TrimPrefix(rest, "/history/")
	case rest == "/balances":
		return history.KindReadBalances, ""
	}
	return history.KindRead, ""
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
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

// decodeBody decodes a JSON object answer with UseNumber, so every number
// in Reply.Body is a json.Number holding the literal the backend sent:
// money is read exactly with money.FromJSON, other numbers with num. A
// body that is not a JSON object leaves Body nil (Raw keeps it).
func decodeBody(raw []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if dec.Decode(&body) != nil {
		return nil
	}
	return body
}

// Num reads a number that is not money (a score, a seq, a factor) out of a
// Reply.Body value; 0 when it is absent or not a number.
func Num(v any) float64 {
	n, _ := v.(json.Number)
	f, _ := n.Float64()
	return f
}

// P95 of a histogram in milliseconds.
func P95(h *hdrhistogram.Histogram) float64 { return float64(h.ValueAtQuantile(95)) / 1000 }

const api = "/api/credits"

// CreateAgent creates an agent and tops it up to about credits (each top-up
// below the approval threshold, so nothing is gated). Each setup call is
// keyed and resent with its key while its outcome is unknown (5xx, no
// answer), so a backend that fails now and then still gets its fixtures.
func (c *Client) CreateAgent(ctx context.Context, id string, credits int) error {
	r := c.setup(ctx, Call{Method: "POST", Path: api + "/agents", Kind: history.KindCreateAgent, Role: history.Setup, Key: "setup-agent-" + id, Agent: id,
		Body: map[string]any{"agent_id": id, "skill_level": 1.0, "actor_id": "harness"}})
	if !r.OK() {
		return fmt.Errorf("create agent %s: %d %s %v", id, r.Status, r.Raw, r.Err)
	}
	for left, i := credits-100, 0; left > 0; i++ {
		chunk := min(left, 450)
		r := c.setup(ctx, Call{Method: "POST", Path: api + "/add", Kind: history.KindAdd, Role: history.Setup, Key: fmt.Sprintf("setup-add-%s-%d", id, i),
			Agent: id, AmountMilli: int64(chunk) * 1000,
			Body: map[string]any{"agent_id": id, "amount": money.Credits(int64(chunk) * 1000), "reason": "setup", "actor_id": "harness"}})
		if !r.OK() {
			return fmt.Errorf("top up %s: %d %s %v", id, r.Status, r.Raw, r.Err)
		}
		left -= chunk
	}
	return nil
}

// setupAttempts bounds how often a keyed setup call is sent.
const setupAttempts = 3

// setup sends a keyed setup call and resends it, same key and body, while
// its outcome is unknown; every attempt is recorded.
func (c *Client) setup(ctx context.Context, call Call) Reply {
	r := c.Do(ctx, call)
	for i := 1; i < setupAttempts && r.Op.Outcome == history.Unknown && call.Key != "" && ctx.Err() == nil; i++ {
		call.Role = history.Retry
		r = c.Do(ctx, call)
	}
	return r
}

// BalanceMilli returns an agent's balance in exact milli-credits, read from
// the API's JSON number without a float.
func (c *Client) BalanceMilli(ctx context.Context, id string) (int64, error) {
	r := c.Do(ctx, Call{Method: "GET", Path: api + "/balance/" + id})
	if !r.OK() {
		return 0, fmt.Errorf("balance %s: %d %s", id, r.Status, r.Raw)
	}
	m, err := money.FromJSON(r.Body["balance"])
	if err != nil {
		return 0, fmt.Errorf("balance %s: %w in %s", id, err, r.Raw)
	}
	return m, nil
}

// Get fetches a JSON document.
func (c *Client) Get(ctx context.Context, path string) Reply {
	return c.Do(ctx, Call{Method: "GET", Path: path})
}

// MutationKind infers a mutation's kind from its path under /api/credits,
// for callers (fixtures, fuzzers, role matrices) that post to many routes.
func MutationKind(path string) history.Kind {
	rest := strings.TrimPrefix(path, api)
	switch {
	case rest == "/consume":
		return history.KindConsume
	case rest == "/refund":
		return history.KindRefund
	case rest == "/add":
		return history.KindAdd
	case rest == "/withdraw":
		return history.KindWithdraw
	case rest == "/agents":
		return history.KindCreateAgent
	case rest == "/approvals":
		return history.KindApprovalRequest
	case strings.HasSuffix(rest, "/approve"):
		return history.KindApprove
	case strings.HasSuffix(rest, "/reject"):
		return history.KindReject
	case rest == "/pools":
		return history.KindPoolCreate
	case rest == "/missions":
		return history.KindMissionStart
	case strings.HasPrefix(rest, "/synergie/"):
		return history.KindCollaboration
	case strings.HasPrefix(rest, "/pools/"):
		switch rest[strings.LastIndex(rest, "/"):] {
		case "/allocate":
			return history.KindPoolAllocate
		case "/consume":
			return history.KindPoolConsume
		case "/refund":
			return history.KindPoolRefund
		case "/close":
			return history.KindPoolClose
		case "/transfer":
			return history.KindPoolTransfer
		}
		if strings.Contains(rest, "/members") {
			return history.KindPoolMember
		}
	case strings.HasPrefix(rest, "/missions/"):
		switch rest[strings.LastIndex(rest, "/"):] {
		case "/complete":
			return history.KindMissionComplete
		case "/fail":
			return history.KindMissionFail
		case "/cancel":
			return history.KindMissionCancel
		case "/rate":
			return history.KindMissionRate
		}
	}
	return history.KindUnknown
}
