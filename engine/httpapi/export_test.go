package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/httpapi"
)

// stalledExport opens GET /events for the whole journal and never reads the
// body, so the server's writes fill the socket buffers and block.
func stalledExport(t *testing.T, s *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := fmt.Fprintf(c, "GET /api/credits/events?limit=1000000 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}

// Issue 9, defect 3: GET /events held the journal's read lock while writing
// to the socket, with no write timeout, so one client that stopped reading
// blocked Close (and so SIGTERM) forever. The export now copies bounded
// chunks out of the journal and writes them holding nothing: appends and
// Close proceed while a reader is stalled, and exports beyond MaxExports
// are refused with 503 instead of pinning memory.
func TestStalledExportBlocksNeitherAppendsNorShutdown(t *testing.T) {
	s := newServer(t, nil, nil)
	ctx := context.Background()
	if _, err := s.eng.CreateAgent(ctx, engine.Request{ActorID: "op"}, "a", 0.5); err != nil {
		t.Fatal(err)
	}
	reason := strings.Repeat("x", 400) // ~8 MB of journal: far beyond socket buffers
	for i := 0; i < 20_000; i++ {
		if _, err := s.eng.Add(ctx, engine.Request{ActorID: "op"}, engine.CreditInput{AgentID: "a", AmountMilli: 1, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < httpapi.MaxExports; i++ {
		stalledExport(t, s)
	}
	time.Sleep(300 * time.Millisecond) // let every stalled handler block in a write

	// One export too many is refused at once.
	resp, err := s.client.Get(s.URL + "/api/credits/events?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("export beyond %d concurrent: status %d, want 503", httpapi.MaxExports, resp.StatusCode)
	}

	// Appends still go through.
	done := make(chan error, 1)
	go func() {
		r := s.do(t, "POST", "/api/credits/consume", map[string]any{"agent_id": "a", "amount": 1, "reason": "during export"})
		if r.status != 200 {
			done <- fmt.Errorf("consume during stalled exports: %d %s", r.status, r.raw)
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a consume did not finish within 5s while exports were stalled")
	}

	// Close (the last step of a SIGTERM drain) does not wait for the readers.
	closed := make(chan error, 1)
	go func() { closed <- s.eng.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("engine Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("engine Close blocked by a client that stopped reading /events")
	}
}

// The chunked export returns exactly the journal, in seq order, across
// chunk boundaries and with limit and after_seq honoured.
func TestChunkedExportEqualsTheJournal(t *testing.T) {
	s := newServer(t, nil, nil)
	ctx := context.Background()
	if _, err := s.eng.CreateAgent(ctx, engine.Request{ActorID: "op"}, "a", 0.5); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 9000; i++ {
		if _, err := s.eng.Add(ctx, engine.Request{ActorID: "op"}, engine.CreditInput{AgentID: "a", AmountMilli: 1}); err != nil {
			t.Fatal(err)
		}
	}
	want := readJournal(t, s.path)
	for _, c := range []struct{ after, limit, first, n int }{{0, 1_000_000, 1, len(want)}, {100, 5000, 101, 5000}, {8990, 100, 8991, len(want) - 8990}} {
		resp, err := s.client.Get(fmt.Sprintf("%s/api/credits/events?after_seq=%d&limit=%d", s.URL, c.after, c.limit))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		seq := c.first
		got := 0
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), fmt.Sprintf(`{"seq":%d,`, seq)) {
				t.Fatalf("after_seq=%d: line %d = %.40s…, want seq %d", c.after, got, sc.Text(), seq)
			}
			seq++
			got++
		}
		resp.Body.Close()
		if got != c.n {
			t.Fatalf("after_seq=%d limit=%d: %d lines, want %d", c.after, c.limit, got, c.n)
		}
	}
}
