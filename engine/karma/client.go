package karma

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Source says where a score came from; engines record it as karma_source.
type Source string

const (
	SourceLive     Source = "live"     // answered by KARMA for this call
	SourceCache    Source = "cache"    // KARMA failed; a live score younger than CacheTTL
	SourceFallback Source = "fallback" // KARMA failed or is disabled; Config.Fallback
)

// Score is an agent's KARMA score in [0,1] and its source.
type Score struct {
	Value  float64 `json:"value"`
	Source Source  `json:"source"`
}

// State is KARMA's health as the engine sees it.
type State string

const (
	StateHealthy  State = "healthy"  // breaker closed and the last call succeeded (or none failed yet)
	StateDegraded State = "degraded" // failures are happening, or the breaker is half-open
	StateDown     State = "down"     // breaker open: no calls are made
	StateDisabled State = "disabled" // no URL configured: always fallback
)

// Breaker is the circuit breaker's position.
type Breaker string

const (
	BreakerClosed   Breaker = "closed"
	BreakerOpen     Breaker = "open"
	BreakerHalfOpen Breaker = "half-open"
)

// Status is a snapshot for GET /api/credits/karma/status and metrics.
type Status struct {
	State               State      `json:"state"`
	Breaker             Breaker    `json:"breaker"`
	LastError           string     `json:"last_error"`
	FallbackCount       uint64     `json:"fallback_count"`
	CacheCount          uint64     `json:"cache_count"`
	LiveCount           uint64     `json:"live_count"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastSuccess         *time.Time `json:"last_success"` // null until the first success
	CachedAgents        int        `json:"cached_agents"`
}

// maxBodyBytes bounds what is read of an answer; a score is a few dozen bytes.
const maxBodyBytes = 4 << 10

// errTimeout is the cause of a request context that hit Config.Timeout, to
// tell KARMA's slowness apart from a caller that gave up.
var errTimeout = errors.New("karma: timeout")

// Client asks KARMA for scores. Safe for concurrent use; see the package doc.
type Client struct {
	cfg      Config
	base     string // URL without trailing slash; "" = disabled
	hc       *http.Client
	own      *http.Transport // the dedicated transport, nil when cfg.Transport was given
	inflight chan struct{}   // semaphore of MaxInFlight slots

	live, cached, fallback atomic.Uint64

	mu                  sync.Mutex
	breaker             Breaker
	openedAt            time.Time
	probeInFlight       bool
	consecutiveFailures int
	lastError           string
	lastSuccess         time.Time
	cache               *scoreCache

	startOnce sync.Once
	stop      context.CancelFunc // set by Start, guarded by mu
	wg        sync.WaitGroup
}

// New validates cfg, fills defaults and returns a Client. It starts no
// goroutine; call Start for the background health prober.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:      cfg,
		base:     strings.TrimRight(cfg.URL, "/"),
		inflight: make(chan struct{}, cfg.MaxInFlight),
		breaker:  BreakerClosed,
		cache:    newScoreCache(cfg.CacheMaxAgents),
	}
	rt := cfg.Transport
	if rt == nil {
		c.own = &http.Transport{
			Proxy:                  nil, // KARMA is an internal neighbour; env proxies must not reroute it
			DialContext:            (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:           cfg.MaxInFlight,
			MaxIdleConnsPerHost:    cfg.MaxInFlight,
			MaxConnsPerHost:        cfg.MaxInFlight,
			IdleConnTimeout:        30 * time.Second,
			TLSHandshakeTimeout:    cfg.Timeout,
			ResponseHeaderTimeout:  cfg.Timeout,
			MaxResponseHeaderBytes: 16 << 10,
		}
		rt = c.own
	}
	c.hc = &http.Client{
		Transport: rt,
		// A redirect is not part of the contract: treat the 3xx as the answer (a failure).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Score returns agentID's score. It never fails: when KARMA is disabled,
// unreachable, slow, erroring, answering garbage or behind an open breaker,
// it returns the cached live score (if younger than CacheTTL) or the
// fallback. It returns within about Config.Timeout, and at once while the
// breaker is open. A call cut short because ctx was canceled is not counted
// against KARMA.
func (c *Client) Score(ctx context.Context, agentID string) Score {
	if c.base == "" || agentID == "" || len(agentID) > MaxAgentIDBytes || !utf8.ValidString(agentID) {
		return c.cacheOrFallback(agentID)
	}
	if ctx.Err() != nil {
		return c.cacheOrFallback(agentID)
	}
	probe, ok := c.admit()
	if !ok {
		return c.cacheOrFallback(agentID)
	}
	v, err := c.call(ctx, "/v1/score/"+url.PathEscape(agentID), agentID)
	if err == nil {
		c.recordSuccess(probe, agentID, v, true)
		c.live.Add(1)
		return Score{Value: v, Source: SourceLive}
	}
	c.recordFailure(ctx, probe, err)
	return c.cacheOrFallback(agentID)
}

// Status reports KARMA's health. It makes no call; the breaker's move from
// open to half-open after the cooldown is read from the clock.
func (c *Client) Status() Status {
	s := Status{
		FallbackCount: c.fallback.Load(),
		CacheCount:    c.cached.Load(),
		LiveCount:     c.live.Load(),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Breaker = c.breakerLocked(c.cfg.Now())
	s.LastError = c.lastError
	s.ConsecutiveFailures = c.consecutiveFailures
	s.CachedAgents = c.cache.len()
	if !c.lastSuccess.IsZero() {
		t := c.lastSuccess
		s.LastSuccess = &t
	}
	switch {
	case c.base == "":
		s.State = StateDisabled
	case s.Breaker == BreakerOpen:
		s.State = StateDown
	case s.Breaker == BreakerHalfOpen || c.consecutiveFailures > 0:
		s.State = StateDegraded
	default:
		s.State = StateHealthy
	}
	return s
}

// Start runs the background health prober until ctx is done or Close is
// called: every ProbeInterval, if the breaker's cooldown has passed, it
// sends the single half-open probe to GET /healthz, so the client recovers
// (and Status leaves "down") even when no Score traffic arrives; with the
// breaker closed after failures ("degraded") it probes too, so a failure
// too few to open the breaker does not keep health degraded until the next
// score. It never probes while healthy (Score traffic is the signal then)
// or while the breaker still cools down. Calling Start again is a no-op; with KARMA disabled it
// starts nothing.
func (c *Client) Start(ctx context.Context) {
	if c.base == "" {
		return
	}
	c.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		c.mu.Lock()
		c.stop = cancel
		c.mu.Unlock()
		c.wg.Add(1)
		go c.probeLoop(ctx)
	})
}

// Close stops the prober, waits for it, and closes idle connections of the
// dedicated transport. Score keeps working after Close (it makes new
// connections); Close is for orderly shutdown and leak checks.
func (c *Client) Close() {
	c.mu.Lock()
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	c.wg.Wait()
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

func (c *Client) probeLoop(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.probeHealth(ctx)
		}
	}
}

func (c *Client) probeHealth(ctx context.Context) {
	c.mu.Lock()
	b := c.breakerLocked(c.cfg.Now())
	may := (b == BreakerHalfOpen || (b == BreakerClosed && c.consecutiveFailures > 0)) && !c.probeInFlight
	if may {
		c.probeInFlight = true
	}
	c.mu.Unlock()
	if !may {
		return
	}
	if _, err := c.call(ctx, "/healthz", ""); err != nil {
		c.recordFailure(ctx, true, err)
		return
	}
	c.recordSuccess(true, "", 0, false)
}

// admit decides whether a Score may call KARMA: always while closed; only as
// the one probe while half-open; never while open.
func (c *Client) admit() (probe, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.breakerLocked(c.cfg.Now()) {
	case BreakerClosed:
		return false, true
	case BreakerHalfOpen:
		if c.probeInFlight {
			return false, false
		}
		c.probeInFlight = true
		return true, true
	default:
		return false, false
	}
}

// breakerLocked returns the breaker position, moving open to half-open once
// the cooldown has passed (a pure function of the clock, so Status and Score agree).
func (c *Client) breakerLocked(now time.Time) Breaker {
	if c.breaker == BreakerOpen && now.Sub(c.openedAt) >= c.cfg.BreakerCooldown {
		c.breaker = BreakerHalfOpen
	}
	return c.breaker
}

// recordSuccess closes the breaker: any answer proves KARMA is back, even a
// late one from a request sent before the breaker opened.
func (c *Client) recordSuccess(probe bool, agentID string, v float64, store bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if probe {
		c.probeInFlight = false
	}
	c.breaker = BreakerClosed
	c.consecutiveFailures = 0
	c.lastSuccess = now
	if store {
		c.cache.put(agentID, v, now)
	}
}

func (c *Client) recordFailure(ctx context.Context, probe bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if probe {
		c.probeInFlight = false
	}
	if errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, errBusy) {
		// The caller gave up (client disconnected, shutdown), or our own
		// in-flight limit refused the call: neither says anything about KARMA.
		return
	}
	now := c.cfg.Now()
	c.consecutiveFailures++
	c.lastError = err.Error()
	switch c.breakerLocked(now) {
	case BreakerHalfOpen:
		if probe {
			c.breaker, c.openedAt = BreakerOpen, now
		}
	case BreakerClosed:
		if c.consecutiveFailures >= c.cfg.BreakerFailures {
			c.breaker, c.openedAt = BreakerOpen, now
		}
	}
}

func (c *Client) cacheOrFallback(agentID string) Score {
	if agentID != "" {
		c.mu.Lock()
		v, ok := c.cache.get(agentID, c.cfg.Now(), c.cfg.CacheTTL)
		c.mu.Unlock()
		if ok {
			c.cached.Add(1)
			return Score{Value: v, Source: SourceCache}
		}
	}
	c.fallback.Add(1)
	return Score{Value: c.cfg.Fallback, Source: SourceFallback}
}

// errBusy means all MaxInFlight slots were taken; the call was not made.
var errBusy = errors.New("karma: too many requests in flight")

// call does one GET bounded by Timeout. The request runs in its own
// goroutine so that even a Transport that ignores its context cannot hold
// the caller past Timeout; the in-flight slot is released only when that
// goroutine ends, so a misbehaving transport can pin at most MaxInFlight
// goroutines before calls stop being made.
func (c *Client) call(ctx context.Context, path, agentID string) (float64, error) {
	select {
	case c.inflight <- struct{}{}:
	default:
		return 0, errBusy
	}
	// The caller cancels (on return), never the request goroutine: if the
	// goroutine cancelled after sending its result, the select below could
	// see both channels ready and report a finished call as cancelled.
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errTimeout)
	defer cancel()
	type result struct {
		v   float64
		err error
	}
	done := make(chan result, 1) // buffered: the goroutine never blocks on a gone caller
	go func() {
		defer func() { <-c.inflight }()
		v, err := c.get(ctx, path, agentID)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), errTimeout) {
			return 0, fmt.Errorf("karma: no answer within %v", c.cfg.Timeout)
		}
		return 0, ctx.Err()
	}
}

// get sends one request and checks the answer against the contract in
// docs/karma.md. agentID "" means a health check: any 200 passes.
func (c *Client) get(ctx context.Context, path, agentID string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, fmt.Errorf("karma: request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(context.Cause(ctx), errTimeout) {
			return 0, fmt.Errorf("karma: no answer within %v", c.cfg.Timeout)
		}
		return 0, err
	}
	defer func() {
		// Drain a little so the connection can be reused; the limit keeps a
		// misbehaving server from making us read forever.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("karma: %s answered status %d", path, resp.StatusCode)
	}
	if agentID == "" {
		return 0, nil
	}
	var body struct {
		AgentID string   `json:"agent_id"`
		Score   *float64 `json:"score"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBodyBytes)).Decode(&body); err != nil {
		if errors.Is(context.Cause(ctx), errTimeout) {
			return 0, fmt.Errorf("karma: no answer within %v", c.cfg.Timeout)
		}
		return 0, fmt.Errorf("karma: malformed answer: %w", err)
	}
	switch {
	case body.Score == nil:
		return 0, errors.New("karma: answer has no score")
	case math.IsNaN(*body.Score) || *body.Score < 0 || *body.Score > 1:
		return 0, fmt.Errorf("karma: score %v outside [0,1]", *body.Score)
	case body.AgentID != agentID:
		return 0, fmt.Errorf("karma: answer for agent %q, asked for %q", body.AgentID, agentID)
	}
	return *body.Score, nil
}
