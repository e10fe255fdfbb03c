package main

import (
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
