package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runQuick runs creditd's run with args and expects it to return before
// serving (a refused configuration).
func runQuick(t *testing.T, args ...string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run(args) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("run started the server")
		return nil
	}
}

// A token listed twice in CREDITD_TOKENS used to start with the last entry
// winning, so a token's role depended on the order of the list. It stops
// the start with a message naming the variable, not the token.
func TestDuplicateTokenInCREDITD_TOKENSStopsStart(t *testing.T) {
	for _, spec := range []string{
		"s3cret-tok=alice:admin,s3cret-tok=bob:reader",
		"s3cret-tok=alice:admin, s3cret-tok=alice:admin",
	} {
		t.Setenv("CREDITD_TOKENS", spec)
		err := runQuick(t, "-journal", filepath.Join(t.TempDir(), "j.jsonl"), "-addr", "127.0.0.1:0")
		if err == nil || !strings.Contains(err.Error(), "CREDITD_TOKENS") || !strings.Contains(err.Error(), "once") {
			t.Errorf("CREDITD_TOKENS=%q: err = %v, want a refusal naming CREDITD_TOKENS", spec, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-tok") {
			t.Errorf("the refusal prints the token: %v", err)
		}
	}
}

// Secret settings from the environment: a database URL with a password in
// both places libpq reads it, bearer tokens, a KARMA URL with credentials.
var secretEnv = []string{
	"CREDITD_STORE=postgres://creditd:hunter2@db.example/credits?sslmode=disable&password=hunter3",
	"CREDITD_TOKENS=s3cret-tok=alice:admin,other-tok=bob:reader",
	"CREDITD_KARMA_URL=http://karma:kpass1@127.0.0.1:1/?api_token=kpass2",
}

var secretValues = []string{"hunter2", "hunter3", "s3cret-tok", "other-tok", "kpass1", "kpass2"}

func leaked(out string) []string {
	var got []string
	for _, s := range secretValues {
		if strings.Contains(out, s) {
			got = append(got, s)
		}
	}
	return got
}

// The usage text (printed on --help and on any flag error) used to show
// the database URL with its password and every bearer token as their
// "(default …)": it shows "set" for secret settings, a redacted KARMA URL.
func TestUsageNeverPrintsSecretSettings(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"--no-such-flag"}, {"-max-batch", "x"}} {
		cmd := exec.Command(creditdBinary(t), args...)
		cmd.Env = append(cmd.Environ(), secretEnv...)
		out, _ := cmd.CombinedOutput()
		if l := leaked(string(out)); len(l) > 0 {
			t.Errorf("creditd %v prints secrets %v:\n%s", args, l, out)
		}
		if !strings.Contains(string(out), "(CREDITD_TOKENS) (default set)") || !strings.Contains(string(out), "(CREDITD_STORE) (default set)") {
			t.Errorf("creditd %v: usage does not say the secrets are set:\n%s", args, out)
		}
	}
}

// URLs are logged with their passwords redacted, in the user:pass@ part and
// in password-like query parameters.
func TestRedactDropsPasswordsFromURLs(t *testing.T) {
	for _, raw := range []string{
		"postgres://creditd:hunter2@db/credits?sslmode=disable",
		"postgres://db/credits?password=hunter2&sslmode=disable",
		"postgresql://u@db/credits?sslpassword=hunter2&PASSWORD=hunter3",
		"http://karma:hunter2@k/?api_token=hunter3",
		"postgres://db/credits?password=hunter2;%zz",
	} {
		got := redact(raw)
		if strings.Contains(got, "hunter") {
			t.Errorf("redact(%q) = %q keeps a password", raw, got)
		}
	}
	if got := redact("postgres://db/credits?sslmode=disable"); got != "postgres://db/credits?sslmode=disable" {
		t.Errorf("redact changed a URL without secrets: %q", got)
	}
}

// The "creditd listening" line logs the KARMA URL (and the store) without
// their passwords.
func TestListeningLogRedactsPasswordsInURLs(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(creditdBinary(t), "-addr", addr, "-journal", filepath.Join(t.TempDir(), "j.jsonl"),
		"-karma-url", "http://karma:kpass1@127.0.0.1:1", "-tokens", "", "-log-level", "info")
	var stderr bytes.Buffer
	sw := &syncWriter{w: &stderr}
	cmd.Stderr = sw
	logged := func() string { sw.mu.Lock(); defer sw.mu.Unlock(); return stderr.String() }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	deadline := time.Now().Add(30 * time.Second)
	exited := make(chan struct{})
	go func() { _, _ = cmd.Process.Wait(); close(exited) }()
	for !strings.Contains(logged(), "creditd listening") {
		select {
		case <-exited:
			t.Fatalf("creditd exited:\n%s", logged())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line:\n%s", logged())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := logged()
	if l := leaked(out); len(l) > 0 {
		t.Errorf("the log prints secrets %v:\n%s", l, out)
	}
	if !strings.Contains(out, "karma:xxxxx@127.0.0.1:1") {
		t.Errorf("the listening line does not name the (redacted) KARMA URL:\n%s", out)
	}
}

// A KARMA URL the client refuses is reported redacted too.
func TestRefusedKarmaURLIsReportedWithoutItsPassword(t *testing.T) {
	err := runQuick(t, "-journal", filepath.Join(t.TempDir(), "j.jsonl"), "-addr", "127.0.0.1:0",
		"-karma-url", "http://karma:kpass1@127.0.0.1:1/?password=kpass2")
	if err == nil || !strings.Contains(err.Error(), "CREDITD_KARMA_URL") {
		t.Fatalf("err = %v, want a refusal naming CREDITD_KARMA_URL", err)
	}
	if l := leaked(err.Error()); len(l) > 0 {
		t.Errorf("the refusal prints secrets %v: %v", l, err)
	}
}
