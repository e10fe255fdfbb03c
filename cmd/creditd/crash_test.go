package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// creditdBinary builds this command once per test binary run.
func creditdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditd-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "creditd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is one running creditd.
type proc struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// start runs creditd on journal and waits until it is ready.
func start(t *testing.T, journal string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(creditdBinary(t), "-addr", addr, "-journal", journal, "-fsync=true", "-tokens", "",
		"-karma-url", "", "-log-level", "warn", "-recovery", "quarantine")
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, base: "http://" + addr, stderr: &stderr, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("creditd exited during start: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("creditd not ready after 60s: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not an assertion
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// kill SIGKILLs the process and waits for it; callable from any goroutine.
func (p *proc) kill(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("SIGKILL: %v", err)
	}
	<-p.done
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("creditd did not stop cleanly on SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("creditd did not stop within 60s of SIGTERM")
	}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func (p *proc) post(path, key string, body any) (int, map[string]any, http.Header, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return resp.StatusCode, nil, resp.Header, err
	}
	return resp.StatusCode, out, resp.Header, nil
}

func (p *proc) get(t *testing.T, path string, out any) {
	t.Helper()
	resp, err := client.Get(p.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		t.Fatal(err)
	}
}

// ack is one acknowledged mutation as the client saw it.
type ack struct{ key, eventID, path, agent, amount string }

// TestKill9NeverLosesAnAcknowledgedMutation loads creditd with concurrent
// keyed consumes and refunds, SIGKILLs it mid-load, restarts it and checks
// the recorded client history against the journal and the API.
func TestKill9NeverLosesAnAcknowledgedMutation(t *testing.T) {
	const (
		clients    = 16
		rounds     = 3
		killAfter  = 150 // acknowledged mutations per round before the kill
		agentCount = 4
	)
	journal := filepath.Join(t.TempDir(), "credits.jsonl")
	p := start(t, journal)
	for i := 0; i < agentCount; i++ {
		id := fmt.Sprintf("agent-%d", i)
		if st, body, _, err := p.post("/api/credits/agents", "create-"+id, map[string]any{"agent_id": id, "skill_level": 1}); err != nil || st != http.StatusOK {
			t.Fatalf("create %s: %d %v %v", id, st, body, err)
		}
		if st, body, _, err := p.post("/api/credits/add", "fund-"+id, map[string]any{"agent_id": id, "amount": 400, "reason": "fund"}); err != nil || st != http.StatusOK {
			t.Fatalf("fund %s: %d %v %v", id, st, body, err)
		}
	}

	var acked []ack
	for round := 1; round <= rounds; round++ {
		var mu sync.Mutex
		var n atomic.Int64
		stopLoad := make(chan struct{})
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stopLoad:
						return
					default:
					}
					key := fmt.Sprintf("r%d-c%d-%d", round, c, i)
					agent := fmt.Sprintf("agent-%d", (c+i)%agentCount)
					path, amount := "/api/credits/consume", "0.5"
					if i%3 == 2 {
						path, amount = "/api/credits/refund", "0.25"
					}
					st, body, _, err := p.post(path, key, map[string]any{"agent_id": agent, "amount": json.Number(amount), "reason": "load"})
					if err != nil {
						// Unknown outcome (the process died under it): not acknowledged.
						select {
						case <-killed:
							return
						default:
						}
						continue
					}
					if st == http.StatusOK {
						id, _ := body["event_id"].(string)
						mu.Lock()
						acked = append(acked, ack{key: key, eventID: id, path: path, agent: agent, amount: amount})
						mu.Unlock()
						if n.Add(1) == killAfter {
							p.kill(t)
							close(killed)
						}
					} else if st != http.StatusConflict {
						t.Errorf("%s %s: unexpected status %d %v", path, key, st, body)
					}
				}
			}()
		}
		<-killed
		close(stopLoad)
		wg.Wait()

		p = start(t, journal)
		checkJournalAgainstHistory(t, p, journal, acked)

		var d1, d2 struct {
			Seq    json.Number `json:"seq"`
			Digest string      `json:"digest"`
		}
		p.get(t, "/api/credits/digest", &d1)
		p.stop(t)
		p = start(t, journal)
		p.get(t, "/api/credits/digest", &d2)
		if d1 != d2 {
			t.Fatalf("round %d: digest changed across a clean restart: %+v → %+v", round, d1, d2)
		}
		t.Logf("round %d: %d acknowledged mutations so far, seq %s", round, len(acked), d2.Seq)
	}
	p.stop(t)
}

func checkJournalAgainstHistory(t *testing.T, p *proc, journal string, acked []ack) {
	t.Helper()
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{} // idempotency key → event ids
	fold := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lastSeq uint64
	for line := 1; sc.Scan(); line++ {
		ev, err := event.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("journal line %d after restart: %v", line, err)
		}
		if ev.Seq != lastSeq+1 {
			t.Fatalf("journal line %d: seq %d after %d", line, ev.Seq, lastSeq)
		}
		lastSeq = ev.Seq
		byKey[ev.IdempotencyKey] = append(byKey[ev.IdempotencyKey], ev.EventID)
		var c event.Credit
		if err := json.Unmarshal(ev.Payload, &c); err != nil {
			t.Fatal(err)
		}
		if d, ok := event.Delta(ev.EventType, c.AmountMilli); ok {
			fold[c.AgentID] += d
		}
	}
	for k, ids := range byKey {
		if len(ids) != 1 {
			t.Errorf("idempotency key %q is %d times in the journal", k, len(ids))
		}
	}
	for _, a := range acked {
		ids := byKey[a.key]
		if len(ids) != 1 || ids[0] != a.eventID {
			t.Errorf("acknowledged %s (event %s) is in the journal as %v", a.key, a.eventID, ids)
		}
	}
	var bal struct {
		Balances map[string]json.Number `json:"balances"`
	}
	p.get(t, "/api/credits/balances", &bal)
	if len(bal.Balances) != len(fold) {
		t.Errorf("API has %d agents, the journal %d", len(bal.Balances), len(fold))
	}
	for id, m := range fold {
		if m < 0 {
			t.Errorf("%s: negative balance %d in the fold", id, m)
		}
		if got := string(bal.Balances[id]); got != money.Format(m) {
			t.Errorf("%s: API balance %s, fold of the journal %s", id, got, money.Format(m))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// Retrying an acknowledged request after the crash replays it.
	a := acked[len(acked)/2]
	st, body, hdr, err := p.post(a.path, a.key, map[string]any{"agent_id": a.agent, "amount": json.Number(a.amount), "reason": "load"})
	if err != nil || st != http.StatusOK || body["event_id"] != a.eventID || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of acknowledged %s after restart: %d %v %v, want a replay of %s", a.key, st, body, err, a.eventID)
	}
}
