package karmastub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func startStub(t *testing.T, seed int64) (*Server, *httptest.Server) {
	t.Helper()
	s := New(seed)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // runs first: releases hung handlers so ts.Close does not wait
	return s, ts
}

func TestScoreIsDeterministicPerSeedAndWithinBounds(t *testing.T) {
	for _, id := range []string{"a1", "a2", "", "agent/with/slash", "ünïcode"} {
		v := ScoreFor(42, id)
		if v != ScoreFor(42, id) {
			t.Fatalf("ScoreFor(42,%q) not deterministic", id)
		}
		if v < 0.1 || v > 0.95 {
			t.Fatalf("ScoreFor(42,%q) = %v outside [0.1,0.95]", id, v)
		}
	}
	same := 0
	for i := range 100 {
		id := "agent-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		if ScoreFor(1, id) == ScoreFor(2, id) {
			same++
		}
	}
	if same > 5 {
		t.Fatalf("%d of 100 agents score the same under different seeds; the seed must matter", same)
	}
}

// Agents of one team are told apart: ids differing in their last
// character only (gate-b-team-a1, …-a2) score differently, so a backend
// weighting every reward by one member's score shows.
func TestIdsDifferingInTheirLastCharacterScoreApart(t *testing.T) {
	seen := map[float64]string{}
	for i := range 20 {
		id := fmt.Sprintf("gate-b-team-a%d", i)
		if other, dup := seen[ScoreFor(42, id)]; dup {
			t.Errorf("%s and %s both score %v", other, id, ScoreFor(42, id))
		}
		seen[ScoreFor(42, id)] = id
	}
}

func TestEachModeAnswersAsSpecified(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		wantStatus int // 0 = no answer expected (transport error)
		minTime    time.Duration
	}{
		{"healthy answers the score", Mode{Kind: Healthy}, 200, 0},
		{"slow answers after the delay", Mode{Kind: Slow, DelayMs: 80}, 200, 80 * time.Millisecond},
		{"error answers 503 by default", Mode{Kind: Error}, 503, 0},
		{"error answers the configured status", Mode{Kind: Error, Status: 500}, 500, 0},
		{"flap starts in its healthy phase", Mode{Kind: Flap, FlapPeriodMs: 60_000}, 200, 0},
		{"drop closes the connection without an answer", Mode{Kind: Drop}, 0, 0},
		{"hang never answers before the client gives up", Mode{Kind: Hang}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := startStub(t, 42)
			if err := s.SetMode(tt.mode); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for _, path := range []string{"/v1/score/a1", "/healthz"} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
				if tt.mode.Kind == Hang {
					hctx, hcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					req = req.WithContext(hctx)
					defer hcancel()
				}
				start := time.Now()
				resp, err := ts.Client().Do(req)
				took := time.Since(start)
				if tt.wantStatus == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("%s: got status %d, want no answer", path, resp.StatusCode)
					}
					// A hang holds the request until the client's own
					// deadline ends it: the error is that deadline, not a
					// closed connection (the deadline started before the
					// clock above, so the time says nothing).
					if tt.mode.Kind == Hang && !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("%s: %v after %v, want the client's deadline to end the wait", path, err, took)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				var body struct {
					AgentID string  `json:"agent_id"`
					Score   float64 `json:"score"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("%s: status %d, want %d", path, resp.StatusCode, tt.wantStatus)
				}
				if took < tt.minTime {
					t.Fatalf("%s: answered after %v, want at least %v", path, took, tt.minTime)
				}
				if path == "/v1/score/a1" && tt.wantStatus == 200 && (body.AgentID != "a1" || body.Score != ScoreFor(42, "a1")) {
					t.Fatalf("score answer %+v, want a1 %v", body, ScoreFor(42, "a1"))
				}
			}
			st := s.State()
			if st.ScoreRequests != 1 || st.HealthRequests != 1 || st.Served[tt.mode.Kind] != 2 {
				t.Fatalf("counters %+v, want 1 score, 1 health, 2 served in %s", st, tt.mode.Kind)
			}
		})
	}
}

func TestFlapAlternatesBetweenHealthyAndError(t *testing.T) {
	s, ts := startStub(t, 1)
	if err := s.SetMode(Mode{Kind: Flap, FlapPeriodMs: 30}); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !(seen[200] && seen[503]) {
		resp, err := ts.Client().Get(ts.URL + "/v1/score/a1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		seen[resp.StatusCode] = true
		time.Sleep(5 * time.Millisecond)
	}
	if !seen[200] || !seen[503] {
		t.Fatalf("flap answered only %v, want both 200 and 503", seen)
	}
}

func TestHangIsReleasedByCloseAndBoundedByHangMax(t *testing.T) {
	tests := []struct {
		name    string
		hangMax time.Duration
		release bool
	}{
		{"Close releases a hung request", time.Minute, true},
		{"HangMax bounds a hung request", 50 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := startStub(t, 1)
			s.HangMax = tt.hangMax
			if err := s.SetMode(Mode{Kind: Hang}); err != nil {
				t.Fatal(err)
			}
			done := make(chan int, 1)
			go func() {
				resp, err := ts.Client().Get(ts.URL + "/v1/score/a1")
				if err != nil {
					done <- 0
					return
				}
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			if tt.release {
				for s.State().ScoreRequests == 0 {
					time.Sleep(time.Millisecond)
				}
				s.Close()
			}
			select {
			case code := <-done:
				if code != http.StatusServiceUnavailable {
					t.Fatalf("released hang answered %d, want 503", code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("hung request was not released")
			}
		})
	}
}

func TestControlEndpointValidatesAndNeverObeysTheMode(t *testing.T) {
	s, ts := startStub(t, 1)
	ctl := &Control{BaseURL: ts.URL}
	ctx := context.Background()
	if err := ctl.SetMode(ctx, Mode{Kind: Hang}); err != nil {
		t.Fatal(err)
	}
	st, err := ctl.State(ctx) // must answer although the mode is hang
	if err != nil || st.Kind != Hang || st.Seed != 1 {
		t.Fatalf("State = %+v, %v; want mode hang, seed 1", st, err)
	}
	bad := []struct {
		name, body string
		want       int
	}{
		{"unknown mode", `{"mode":"sleepy"}`, 422},
		{"status outside 400..599", `{"mode":"error","status":200}`, 422},
		{"negative delay", `{"mode":"slow","delay_ms":-1}`, 422},
		{"delay above the max", `{"mode":"slow","delay_ms":60001}`, 422},
		{"unknown field", `{"mode":"healthy","colour":"red"}`, 400},
		{"not JSON", `healthy`, 400},
		{"trailing data", `{"mode":"healthy"}{}`, 400},
		{"body too large", `{"mode":"` + strings.Repeat("x", 5000) + `"}`, 413},
	}
	for _, b := range bad {
		resp, err := http.Post(ts.URL+"/control", "application/json", strings.NewReader(b.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != b.want {
			t.Errorf("%s: status %d, want %d", b.name, resp.StatusCode, b.want)
		}
	}
	if s.State().Kind != Hang {
		t.Fatalf("a rejected control request changed the mode to %s", s.State().Kind)
	}
	if err := ctl.SetMode(ctx, Mode{Kind: "sleepy"}); err == nil {
		t.Fatal("Control.SetMode accepted an unknown mode")
	}
}
