package main

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// No silent defaults: every bad CREDITD_* value stops the start with an
// error naming the variable and the accepted form. run returns before it
// opens the journal or listens, so a wrong case here would block: each case
// is a bad value.
func TestBadSettingStopsStartNamingTheVariableAndForm(t *testing.T) {
	cases := []struct{ key, value, form string }{
		{"CREDITD_APPROVAL_THRESHOLD", "500.5x", "at most 3 decimals"},
		{"CREDITD_APPROVAL_THRESHOLD", "1.0001", "at most 3 decimals"},
		{"CREDITD_APPROVAL_THRESHOLD", "0", "greater than 0"},
		{"CREDITD_APPROVAL_THRESHOLD", "", "greater than 0"},
		{"CREDITD_APPROVAL_HIGH", "-5", "greater than 0"},
		{"CREDITD_SYNERGIE_CAP", "1e400", "greater than 0"},
		{"CREDITD_MAX_AMOUNT", "lots", "greater than 0"},
		{"CREDITD_MISSION_FAIL_REFUND", "1.5", "within (0, 1]"},
		{"CREDITD_MISSION_FAIL_REFUND", "0", "within (0, 1]"},
		{"CREDITD_MISSION_FAIL_REFUND", "NaN", "within (0, 1]"},
		{"CREDITD_MISSION_FAIL_REFUND", "half", "within (0, 1]"},
		{"CREDITD_FSYNC", "yes", "true or false"},
		{"CREDITD_KARMA_TIMEOUT", "100", "duration"},
		{"CREDITD_KARMA_TIMEOUT", "10s", "1ms..2s"},
		{"CREDITD_APPROVAL_TIMEOUT_HIGH", "-3s", "duration"},
		{"CREDITD_SHUTDOWN_TIMEOUT", "soon", "duration"},
		{"CREDITD_IDEMPOTENCY_MEMORY_KEYS", "0", "integer within 1..2000000"},
		{"CREDITD_IDEMPOTENCY_MEMORY_KEYS", "2.5", "integer"},
		{"CREDITD_IDEMPOTENCY_RETENTION", "24", "duration"},
		{"CREDITD_IDEMPOTENCY_RETENTION", "1s", "1m0s..2160h0m0s"},
		{"CREDITD_IDEMPOTENCY_WINDOW", "20000", "not a setting of creditd"}, // replaced by the retention
		{"CREDITD_MAX_BATCH", "99999", "integer within 1..8192"},
		{"CREDITD_LEDGER_KEEP", "-1", "integer"},
		{"CREDITD_APPROVALS_KEEP", "x", "integer"},
		{"CREDITD_RECOVERY", "lenient", "quarantine, strict"},
		{"CREDITD_LOG_LEVEL", "verbose", "debug, info, warn, error"},
		{"CREDITD_APROVAL_THRESHOLD", "500", "not a setting of creditd"}, // misspelt
	}
	journal := filepath.Join(t.TempDir(), "credits.jsonl")
	for _, c := range cases {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			t.Setenv(c.key, c.value)
			done := make(chan error, 1)
			go func() { done <- run([]string{"-journal", journal, "-addr", "127.0.0.1:0"}) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("run accepted the value")
				}
				if !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.form) {
					t.Errorf("error %q does not name %s and the form %q", err, c.key, c.form)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("run started the server: the value was accepted")
			}
		})
	}
}

// Settings that disagree with each other are refused by name too.
func TestInconsistentThresholdsStopStart(t *testing.T) {
	t.Setenv("CREDITD_APPROVAL_THRESHOLD", "6000")
	err := run([]string{"-journal", filepath.Join(t.TempDir(), "j.jsonl")})
	if err == nil || !strings.Contains(err.Error(), "CREDITD_APPROVAL_HIGH") {
		t.Fatalf("threshold above HIGH: err = %v, want one naming CREDITD_APPROVAL_HIGH", err)
	}
}

// Money settings are parsed like request amounts: exact milli, no float.
func TestCreditsSettingIsExact(t *testing.T) {
	for in, want := range map[string]int64{"1.005": 1005, "500": 500_000, "0.001": 1, "1e3": 1_000_000, "2.675": 2675} {
		var m int64
		if err := (&creditsValue{&m}).Set(in); err != nil || m != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, m, err, want)
		}
	}
}

// The binary itself: a bad value exits non-zero with the message on stderr.
func TestCreditdExitsNonZeroOnAnUnparsableThreshold(t *testing.T) {
	cmd := exec.Command(creditdBinary(t), "-journal", filepath.Join(t.TempDir(), "j.jsonl"), "-addr", freeAddr(t))
	cmd.Env = append(cmd.Environ(), "CREDITD_APPROVAL_THRESHOLD=500.5x")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("creditd with CREDITD_APPROVAL_THRESHOLD=500.5x: err %v, want a non-zero exit", err)
	}
	msg := stderr.String()
	if !strings.Contains(msg, `CREDITD_APPROVAL_THRESHOLD="500.5x"`) || !strings.Contains(msg, "at most 3 decimals") {
		t.Errorf("stderr %q does not name the variable, its value and the accepted form", msg)
	}
}

// A threshold of 1.005 is 1005 milli, not the 1004 a float gives: an add of
// 1.004 runs at once, an add of 1.005 needs an approval.
func TestThresholdOf1005MilliIsExactInTheRunningServer(t *testing.T) {
	t.Setenv("CREDITD_APPROVAL_THRESHOLD", "1.005")
	t.Setenv("CREDITD_SYNERGIE_BASE", "0.5") // a reward must stay below the threshold
	p := start(t, filepath.Join(t.TempDir(), "credits.jsonl"))
	defer p.stop(t)
	if st, body, _, err := p.post("/api/credits/agents", "", map[string]any{"agent_id": "th-1", "skill_level": 0.5}); err != nil || st != http.StatusOK {
		t.Fatalf("create agent: %d %v %v", st, body, err)
	}
	for _, c := range []struct {
		amount float64
		want   int
	}{{1.004, http.StatusOK}, {1.005, http.StatusAccepted}} {
		st, body, _, err := p.post("/api/credits/add", "", map[string]any{"agent_id": "th-1", "amount": c.amount, "reason": "threshold"})
		if err != nil || st != c.want {
			t.Errorf("add %v with threshold 1.005 = %d %v %v, want %d", c.amount, st, body, err, c.want)
		}
	}
}
