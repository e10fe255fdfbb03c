package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Issue 9, defect 3: one client that stopped reading GET /events held the
// journal's read lock across a blocked socket write, so SIGTERM never
// finished (Close waited for the lock forever). With the export writing
// outside the lock and the drain limit cutting leftover connections,
// creditd exits promptly on SIGTERM while readers are stalled.
func TestSIGTERMIsNotBlockedByStalledEventReaders(t *testing.T) {
	addr := freeAddr(t)
	journal := filepath.Join(t.TempDir(), "credits.jsonl")
	cmd := exec.Command(creditdBinary(t), "-addr", addr, "-journal", journal, "-fsync=false", "-tokens", "",
		"-karma-url", "", "-log-level", "warn", "-shutdown-timeout", "1s")
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("creditd not ready: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	post := func(path, body string) {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("POST %s: %d", path, resp.StatusCode)
		}
	}
	post("/api/credits/agents", `{"agent_id":"a","skill_level":1}`)
	// ~8 MB of journal, far beyond the socket buffers of the stalled readers.
	reason := strings.Repeat("x", 1000)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				post("/api/credits/add", fmt.Sprintf(`{"agent_id":"a","amount":0.001,"reason":%q}`, reason))
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /api/credits/events?limit=1000000 HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	}
	time.Sleep(300 * time.Millisecond) // let the exports block in their writes
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Logf("creditd exited %.1fs after SIGTERM with 4 stalled readers", time.Since(start).Seconds())
	case <-time.After(10 * time.Second):
		t.Fatalf("creditd still running 10s after SIGTERM (drain limit 1s) with stalled /events readers\n%s", stderr.String())
	}
}
