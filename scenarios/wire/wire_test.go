package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios/history"
)

func TestSendRecordsEveryRequestOnceOnTheHistoryClock(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		switch r.URL.Path {
		case "/replay":
			w.Header().Set("Idempotent-Replayed", "true")
			w.Write([]byte(`{"event_id":"e1","balance_after":"1.500"}`))
		case "/refuse":
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"code":"insufficient_credits","detail":"no"}`))
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/stall":
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	rec := history.NewRecorder(100)
	c := Client{HTTP: srv.Client(), History: rec, MaxBody: 64}

	r := c.Send(t.Context(), Request{Method: "POST", Base: srv.URL, Path: "/replay", Body: []byte(`{}`), Key: "k1", Token: "tok",
		Op: history.Op{Kind: history.KindConsume, Agent: "a"}})
	if r.Err != nil || r.Op.Outcome != history.Replayed || r.Op.Key != "k1" || r.Op.ID == 0 {
		t.Fatalf("replayed answer recorded as %+v (err %v)", r.Op, r.Err)
	}
	if got.Get("Idempotency-Key") != "k1" || got.Get("Authorization") != "Bearer tok" || got.Get("Content-Type") != "application/json" {
		t.Errorf("headers sent: %v", got)
	}
	if r.Op.ReturnNs < r.Op.CallNs || r.Op.CallNs <= 0 {
		t.Errorf("call %d, return %d: not on the recorder's clock", r.Op.CallNs, r.Op.ReturnNs)
	}
	if r := c.Send(t.Context(), Request{Method: "POST", Base: srv.URL, Path: "/refuse", Body: []byte(`{}`), Op: history.Op{Kind: history.KindConsume}}); r.Op.Outcome != history.Refused || r.Op.Code != "insufficient_credits" {
		t.Errorf("refusal recorded as %+v", r.Op)
	}
	if r := c.Send(t.Context(), Request{Method: "GET", Base: srv.URL, Path: "/big"}); len(r.Body) != 64 {
		t.Errorf("read %d bytes of an answer, want the bound 64", len(r.Body))
	}
	r = c.Send(t.Context(), Request{Method: "GET", Base: srv.URL, Path: "/stall", Timeout: 20 * time.Millisecond})
	if r.Err == nil || r.Op.Outcome != history.Unknown || r.Latency() < 20*time.Millisecond {
		t.Errorf("timed out request recorded as %+v after %s", r.Op, r.Latency())
	}
	if r := c.Send(t.Context(), Request{Method: "GET", Base: "::bad", Path: "/"}); r.Err == nil || r.Op.ID != 0 {
		t.Errorf("a request never built was recorded: %+v", r.Op)
	}
	ops := rec.Ops()
	if len(ops) != 4 {
		t.Fatalf("%d operations recorded, want the 4 sent", len(ops))
	}
	for i, op := range ops {
		if op.ID != uint64(i+1) {
			t.Errorf("op %d has id %d", i, op.ID)
		}
	}
}

// A check that compares an answer with something else must know when the
// client cut it: a cut answer judged as whole blames the backend for the
// harness's bound.
func TestSendSaysWhenItCutTheAnswerAtItsBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		max       int64
		want      int
		truncated bool
	}{{64, 64, true}, {99, 99, true}, {100, 100, false}, {101, 100, false}} {
		c := Client{HTTP: srv.Client(), History: history.NewRecorder(10), MaxBody: tc.max}
		resp := c.Send(context.Background(), Request{Method: "GET", Base: srv.URL, Path: "/"})
		if len(resp.Body) != tc.want || resp.Truncated != tc.truncated || resp.Err != nil {
			t.Errorf("MaxBody %d on a 100-byte answer: %d bytes, truncated=%v, err=%v; want %d bytes, truncated=%v",
				tc.max, len(resp.Body), resp.Truncated, resp.Err, tc.want, tc.truncated)
		}
	}
}
