package karmastub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Control drives a running stub over its /control endpoint (for the
// harness, which may run the stub as a container or process). Safe for
// concurrent use if HTTPClient is.
type Control struct {
	BaseURL    string       // e.g. "http://127.0.0.1:8001"
	HTTPClient *http.Client // nil means a client with a 5s timeout
}

// SetMode switches the stub's mode; it returns after the stub confirmed it.
func (c *Control) SetMode(ctx context.Context, m Mode) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("karmastub: encode mode: %w", err)
	}
	_, err = c.do(ctx, http.MethodPost, body)
	return err
}

// State reads the stub's mode and counters.
func (c *Control) State(ctx context.Context) (State, error) {
	return c.do(ctx, http.MethodGet, nil)
}

func (c *Control) do(ctx context.Context, method string, body []byte) (State, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/control", bytes.NewReader(body))
	if err != nil {
		return State{}, fmt.Errorf("karmastub: control request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return State{}, fmt.Errorf("karmastub: control %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return State{}, fmt.Errorf("karmastub: control %s: read: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return State{}, fmt.Errorf("karmastub: control %s: status %d: %s", method, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{}, fmt.Errorf("karmastub: control %s: decode state: %w", method, err)
	}
	return st, nil
}
