package wire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
)

// DefaultMaxBody bounds what Send reads of one answer when Client.MaxBody is 0.
const DefaultMaxBody = 4 << 20

// Client sends requests and records each in History. It is a small value:
// callers may build one per call over shared fields. Safe for concurrent
// use when HTTP and History are.
type Client struct {
	HTTP    *http.Client
	History *history.Recorder
	MaxBody int64 // bytes read of an answer; 0 = DefaultMaxBody
}

// Request is one request and what the history says about it.
type Request struct {
	Method, Base, Path string
	Body               []byte // sent verbatim; nil = no body
	Key                string // Idempotency-Key header and Op.Key; "" = none
	// KeyInBody: the key travels in the body's idempotency_key member (the
	// caller put it there, SPEC §3), so no header is sent; Op.Key is Key.
	KeyInBody bool
	Token     string // bearer token; "" = none
	IfMatch   string // If-Match header (SPEC §5: a decision's expected version); "" = none
	// Timeout bounds the request, body included; 0 = only ctx and HTTP's own.
	Timeout time.Duration
	// Op is the history's view: Kind, Role, Agent, Entity, AmountMilli
	// (and BodyHash, AmountSent when the caller has them). Send fills in
	// Key, times, outcome and id.
	Op history.Op
}

// Response is the recorded operation and the raw answer.
type Response struct {
	Op     history.Op // as recorded (ID assigned), classified by history.Fill
	Status int        // 0 without an answer
	Body   []byte     // at most MaxBody bytes
	// Truncated: the answer was longer than MaxBody and Body holds only its
	// first MaxBody bytes (a check must not judge a cut answer as whole).
	Truncated bool
	Replayed  bool  // Idempotent-Replayed: true
	Err       error // transport error, timeout or body read error
}

// Latency is the time from the send to the end of the body.
func (r Response) Latency() time.Duration { return time.Duration(r.Op.ReturnNs - r.Op.CallNs) }

// Send sends req, records it in c.History and returns it. A request that
// could not be built is returned with its error and not recorded: it never
// left the harness.
func (c Client) Send(ctx context.Context, req Request) Response {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	op := req.Op
	op.Key = req.Key
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.Base+req.Path, body)
	if err != nil {
		history.Fill(&op, history.Response{Err: err})
		return Response{Op: op, Err: err}
	}
	if req.Body != nil || req.Method != http.MethodGet {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Key != "" && !req.KeyInBody {
		hr.Header.Set("Idempotency-Key", req.Key)
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	if req.IfMatch != "" {
		hr.Header.Set("If-Match", req.IfMatch)
	}
	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var out Response
	op.CallNs = c.History.Now()
	resp, err := c.HTTP.Do(hr)
	if err == nil {
		out.Status = resp.StatusCode
		out.Replayed = resp.Header.Get("Idempotent-Replayed") == "true"
		out.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		if int64(len(out.Body)) > maxBody {
			out.Body, out.Truncated = out.Body[:maxBody], true
		}
		resp.Body.Close()
	}
	op.ReturnNs = c.History.Now()
	out.Err = err
	history.Fill(&op, history.Response{Status: out.Status, Replayed: out.Replayed, Body: out.Body, Err: err})
	op.ID = c.History.Add(op)
	out.Op = op
	return out
}
