package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
)

// send is a raw request: no Content-Type unless given ("" = absent).
func (s *testServer) send(t *testing.T, method, path, contentType, body string, hdr ...string) (int, map[string]string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, map[string]string{"Retry-After": resp.Header.Get("Retry-After"), "Connection": resp.Header.Get("Connection")}, raw
}

// A cross-site HTML form can send an empty POST with a form Content-Type:
// every mutating route refuses a request without a JSON Content-Type with
// 415, empty body or not, and nothing is journaled. (An empty body used to
// skip the check, so a form cancelled or completed a mission or closed an
// empty pool on a dev instance.)
func TestEveryMutationWithoutAJSONContentTypeIsRefusedAndChangesNothing(t *testing.T) {
	s := newServer(t, nil, nil)
	for _, c := range []struct{ path, body string }{
		{"/api/credits/agents", `{"agent_id":"a","skill_level":1}`},
		{"/api/credits/pools", `{"pool_id":"p","members":["a"]}`},
		{"/api/credits/missions", `{"mission_id":"m","agent_id":"a"}`},
	} {
		if st, _, raw := s.send(t, "POST", c.path, "application/json", c.body); st/100 != 2 {
			t.Fatalf("setup %s: %d %s", c.path, st, raw)
		}
	}
	st, _, raw := s.send(t, "POST", "/api/credits/approvals", "application/json",
		`{"action_type":"add","agent_id":"a","amount":600,"reason":"r","requester_id":"alice"}`)
	if st != http.StatusAccepted {
		t.Fatalf("setup approval: %d %s", st, raw)
	}
	approval := between(string(raw), `"request_id":"`, `"`)
	ids := strings.NewReplacer("/pools/{id}", "/pools/p", "/missions/{id}", "/missions/m",
		"/approvals/{id}", "/approvals/"+approval, "{agent_id}", "a")

	before := journalLen(t, s)
	var mutating int
	for _, route := range registeredRoutes(t) {
		method, pattern, _ := strings.Cut(route, " ")
		if method != http.MethodPost && method != http.MethodDelete {
			continue
		}
		mutating++
		path := ids.Replace(pattern)
		for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""} {
			for _, body := range []string{"", `{}`} {
				st, _, raw := s.send(t, method, path, ct, body)
				if st != http.StatusUnsupportedMediaType || !strings.Contains(string(raw), `"code":"unsupported_media_type"`) ||
					!strings.Contains(string(raw), `"detail"`) {
					t.Errorf("%s %s with Content-Type %q and body %q: %d %s, want 415 unsupported_media_type", method, path, ct, body, st, raw)
				}
			}
		}
	}
	if mutating < 15 {
		t.Fatalf("only %d mutating routes found", mutating)
	}
	if n := journalLen(t, s); n != before {
		t.Fatalf("refused requests journaled %d events", n-before)
	}
	// A JSON Content-Type with an empty body is still a valid command.
	if st, _, raw := s.send(t, "POST", "/api/credits/missions/m/cancel", "application/json; charset=utf-8", ""); st != http.StatusOK {
		t.Fatalf("cancel with a JSON Content-Type and no body: %d %s", st, raw)
	}
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// A request with both Content-Length and Transfer-Encoding: chunked is the
// classic request-smuggling shape: a front proxy that frames by
// Content-Length and creditd (which frames by chunks) disagree on where
// the next request starts. RFC 9112 §6.1: the server must close the
// connection after such a request. net/http drops the Content-Length
// before a handler runs and kept the connection, so a request pipelined
// behind it ran. It is refused with 400, the connection is closed, and
// nothing behind it runs.
func TestContentLengthWithChunkedIsRefusedAndClosesTheConnection(t *testing.T) {
	s := newServer(t, nil, nil)
	body := `{"agent_id":"front","skill_level":1}`
	smuggled := "POST /api/credits/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n" +
		`{"agent_id":"smuggled","skill_level":1}`
	for _, tc := range []struct{ name, head string }{
		{"content-length then chunked", fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n", len(body))},
		{"chunked then content-length", fmt.Sprintf("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n", len(body))},
		{"chunked alone", "Transfer-Encoding: chunked\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "POST /api/credits/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + tc.head + "\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body) + smuggled
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"code":"transfer_encoding_refused"`) {
				t.Errorf("first request: %d %s, want 400 transfer_encoding_refused", resp.StatusCode, raw)
			}
			if !resp.Close {
				t.Errorf("first response keeps the connection (Connection: %q)", resp.Header.Get("Connection"))
			}
			if next, err := http.ReadResponse(br, nil); err == nil {
				b, _ := io.ReadAll(next.Body)
				t.Errorf("the pipelined request ran: %d %s", next.StatusCode, b)
			}
			for _, id := range []string{"front", "smuggled"} {
				if r := s.do(t, "GET", "/api/credits/balance/"+id, nil); r.status != http.StatusNotFound {
					t.Errorf("agent %s: %d %s, want 404 (nothing may run)", id, r.status, r.raw)
				}
			}
		})
	}
	if n := journalLen(t, s); n != 0 {
		t.Fatalf("refused requests journaled %d events", n)
	}
}

// A history page read from the journal once shutdown has begun answers 503
// shutting_down (never 500), while pages inside the in-memory window are
// still served.
func TestDeepHistoryPageAfterShutdownBeganIs503(t *testing.T) {
	s := newServer(t, nil, func(c *engine.Config) { c.Projection.LedgerKeep = 1 })
	for _, p := range []struct{ path, body string }{
		{"/api/credits/agents", `{"agent_id":"a","skill_level":1}`},
		{"/api/credits/consume", `{"agent_id":"a","amount":1,"reason":"r"}`},
	} {
		if st, _, raw := s.send(t, "POST", p.path, "application/json", p.body); st != http.StatusOK {
			t.Fatalf("setup %s: %d %s", p.path, st, raw)
		}
	}
	if st, _, raw := s.send(t, "GET", "/api/credits/history/a?offset=1&limit=5", "", ""); st != http.StatusOK {
		t.Fatalf("deep page: %d %s", st, raw)
	}
	s.eng.CancelScans()
	if st, _, raw := s.send(t, "GET", "/api/credits/history/a?offset=1&limit=5", "", ""); st != http.StatusServiceUnavailable ||
		!strings.Contains(string(raw), `"code":"shutting_down"`) {
		t.Errorf("deep page after CancelScans: %d %s, want 503 shutting_down", st, raw)
	}
	if st, _, raw := s.send(t, "GET", "/api/credits/history/a?limit=1", "", ""); st != http.StatusOK {
		t.Errorf("page inside the window after CancelScans: %d %s, want 200", st, raw)
	}
}
