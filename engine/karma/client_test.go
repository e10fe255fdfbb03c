package karma_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/engine/karma"
)

const seed = 42

// margin is what a Score may take beyond Config.Timeout on a loaded,
// shared 2-core box under -race. Generous on purpose: these tests guard
// "bounded", not "fast".
const margin = 750 * time.Millisecond

// liveTimeout is used where a test needs a live answer: a request to a
// healthy stub must not miss its timeout just because the box is busy.
const liveTimeout = karma.MaxTimeout

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// startStub runs the fake KARMA in mode behind a real HTTP server.
func startStub(t *testing.T, mode karmastub.Mode) (*karmastub.Server, string) {
	t.Helper()
	s := karmastub.New(seed)
	if err := s.SetMode(mode); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // runs first: releases hung handlers so ts.Close does not wait on them
	return s, ts.URL
}

func newClient(t *testing.T, cfg karma.Config) *karma.Client {
	t.Helper()
	c, err := karma.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func setMode(t *testing.T, s *karmastub.Server, m karmastub.Mode) {
	t.Helper()
	if err := s.SetMode(m); err != nil {
		t.Fatal(err)
	}
}

// requests is how many requests (score and health) reached the stub.
func requests(s *karmastub.Server) uint64 {
	st := s.State()
	return st.ScoreRequests + st.HealthRequests
}

func timedScore(c *karma.Client, agentID string) (karma.Score, time.Duration) {
	start := time.Now()
	sc := c.Score(context.Background(), agentID)
	return sc, time.Since(start)
}

func TestScoreSourceFollowsKarmaMode(t *testing.T) {
	const timeout = 100 * time.Millisecond
	live := karma.Score{Value: karmastub.ScoreFor(seed, "a1"), Source: karma.SourceLive}
	fallback := karma.Score{Value: 0.5, Source: karma.SourceFallback}
	tests := []struct {
		name      string
		mode      karmastub.Mode
		timeout   time.Duration
		want      karma.Score
		wantState karma.State
	}{
		{"healthy KARMA gives the live score", karmastub.Mode{Kind: karmastub.Healthy}, liveTimeout, live, karma.StateHealthy},
		{"slow KARMA within the timeout still gives the live score", karmastub.Mode{Kind: karmastub.Slow, DelayMs: 20}, liveTimeout, live, karma.StateHealthy},
		{"slow KARMA above the timeout gives the fallback", karmastub.Mode{Kind: karmastub.Slow, DelayMs: 2000}, timeout, fallback, karma.StateDegraded},
		{"erroring KARMA gives the fallback", karmastub.Mode{Kind: karmastub.Error}, timeout, fallback, karma.StateDegraded},
		{"erroring KARMA with status 500 gives the fallback", karmastub.Mode{Kind: karmastub.Error, Status: 500}, timeout, fallback, karma.StateDegraded},
		{"hanging KARMA gives the fallback", karmastub.Mode{Kind: karmastub.Hang}, timeout, fallback, karma.StateDegraded},
		{"KARMA dropping connections gives the fallback", karmastub.Mode{Kind: karmastub.Drop}, timeout, fallback, karma.StateDegraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := startStub(t, tt.mode)
			c := newClient(t, karma.Config{URL: url, Timeout: tt.timeout})
			got, took := timedScore(c, "a1")
			if got != tt.want {
				t.Fatalf("Score = %+v, want %+v (took %v, status %+v)", got, tt.want, took, c.Status())
			}
			if took > tt.timeout+margin {
				t.Fatalf("Score took %v, want at most Timeout %v + %v", took, tt.timeout, margin)
			}
			st := c.Status()
			if st.State != tt.wantState || st.Breaker != karma.BreakerClosed {
				t.Fatalf("Status = %+v, want state %s with breaker closed after one call", st, tt.wantState)
			}
			if (tt.wantState == karma.StateDegraded) != (st.LastError != "") {
				t.Fatalf("last_error %q does not match state %s", st.LastError, st.State)
			}
		})
	}
}

func TestFailingKarmaServesTheCachedLiveScoreWithinTTL(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Healthy})
	clock := newFakeClock()
	c := newClient(t, karma.Config{URL: url, Timeout: liveTimeout, CacheTTL: time.Minute, Now: clock.Now})
	want := karmastub.ScoreFor(seed, "a1")
	if got := c.Score(context.Background(), "a1"); got.Source != karma.SourceLive || got.Value != want {
		t.Fatalf("healthy Score = %+v, want live %v", got, want)
	}
	setMode(t, stub, karmastub.Mode{Kind: karmastub.Error})
	if got := c.Score(context.Background(), "a1"); got != (karma.Score{Value: want, Source: karma.SourceCache}) {
		t.Fatalf("Score after an earlier live score = %+v, want cache %v", got, want)
	}
	if got := c.Score(context.Background(), "a2"); got != (karma.Score{Value: 0.5, Source: karma.SourceFallback}) {
		t.Fatalf("Score of a never-scored agent = %+v, want fallback 0.5", got)
	}
	clock.Advance(time.Minute)
	if got := c.Score(context.Background(), "a1"); got.Source != karma.SourceFallback {
		t.Fatalf("Score after the TTL = %+v, want fallback", got)
	}
	st := c.Status()
	if st.LiveCount != 1 || st.CacheCount != 1 || st.FallbackCount != 2 {
		t.Fatalf("counters live=%d cache=%d fallback=%d, want 1/1/2", st.LiveCount, st.CacheCount, st.FallbackCount)
	}
}

func TestOpenBreakerMakesNoCallsAndAnswersAtOnce(t *testing.T) {
	const timeout = 100 * time.Millisecond
	tests := []struct {
		name string
		mode karmastub.Mode
	}{
		{"erroring", karmastub.Mode{Kind: karmastub.Error}},
		{"hanging", karmastub.Mode{Kind: karmastub.Hang}},
		{"dropping", karmastub.Mode{Kind: karmastub.Drop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, url := startStub(t, tt.mode)
			clock := newFakeClock()
			c := newClient(t, karma.Config{URL: url, Timeout: timeout, BreakerFailures: 3, Now: clock.Now})
			for i := range 3 {
				got, took := timedScore(c, "a1")
				if got.Source != karma.SourceFallback || took > timeout+margin {
					t.Fatalf("failure %d: %+v after %v, want fallback within %v", i+1, got, took, timeout+margin)
				}
			}
			if st := c.Status(); st.State != karma.StateDown || st.Breaker != karma.BreakerOpen || st.ConsecutiveFailures != 3 {
				t.Fatalf("after 3 failures Status = %+v, want down with breaker open", st)
			}
			// Under load a failure may be the client's own timeout before
			// the stub saw the call, and a call may reach it late: count
			// once the stub's count has settled.
			before := settledRequests(stub)
			if before < 1 || before > 3 {
				t.Fatalf("stub saw %d requests for 3 failures", before)
			}
			for range 50 {
				got, took := timedScore(c, "a1")
				if got.Source != karma.SourceFallback {
					t.Fatalf("Score with open breaker = %+v, want fallback", got)
				}
				// "At once": a call against this stub can never take less
				// than the timeout, so anything below it made no call.
				if took >= timeout {
					t.Fatalf("Score with open breaker took %v, want under %v", took, timeout)
				}
			}
			if after := requests(stub); after != before {
				t.Fatalf("open breaker let %d requests through, want 0", after-before)
			}
		})
	}
}

func TestBreakerRecoversAfterCooldownWhenKarmaIsBack(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Error})
	clock := newFakeClock()
	c := newClient(t, karma.Config{URL: url, Timeout: liveTimeout, BreakerFailures: 2, BreakerCooldown: 2 * time.Second, Now: clock.Now})
	for range 2 {
		c.Score(context.Background(), "a1")
	}
	if st := c.Status(); st.State != karma.StateDown {
		t.Fatalf("Status = %+v, want down", st)
	}
	setMode(t, stub, karmastub.Mode{Kind: karmastub.Healthy})
	if got := c.Score(context.Background(), "a1"); got.Source != karma.SourceFallback {
		t.Fatalf("Score before the cooldown = %+v, want fallback (no call while open)", got)
	}
	clock.Advance(2 * time.Second)
	if st := c.Status(); st.State != karma.StateDegraded || st.Breaker != karma.BreakerHalfOpen {
		t.Fatalf("Status after the cooldown = %+v, want degraded, half-open", st)
	}
	if got := c.Score(context.Background(), "a1"); got.Source != karma.SourceLive {
		t.Fatalf("half-open probe Score = %+v, want live", got)
	}
	st := c.Status()
	if st.State != karma.StateHealthy || st.Breaker != karma.BreakerClosed || st.ConsecutiveFailures != 0 || st.LastSuccess == nil || !st.LastSuccess.Equal(clock.Now()) {
		t.Fatalf("Status after the probe = %+v, want healthy, closed, last_success now", st)
	}
}

func TestFailedProbeReopensTheBreakerForAnotherCooldown(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Error})
	clock := newFakeClock()
	c := newClient(t, karma.Config{URL: url, BreakerFailures: 1, BreakerCooldown: time.Second, Now: clock.Now})
	c.Score(context.Background(), "a1")
	clock.Advance(time.Second)
	c.Score(context.Background(), "a1") // the probe, fails
	if st := c.Status(); st.Breaker != karma.BreakerOpen {
		t.Fatalf("after a failed probe breaker = %s, want open", st.Breaker)
	}
	n := requests(stub)
	clock.Advance(999 * time.Millisecond)
	c.Score(context.Background(), "a1")
	if requests(stub) != n {
		t.Fatal("a call was made before the new cooldown ended")
	}
}

func TestHalfOpenLetsOnlyOneProbeThrough(t *testing.T) {
	const timeout = 400 * time.Millisecond
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Error})
	clock := newFakeClock()
	c := newClient(t, karma.Config{URL: url, Timeout: timeout, BreakerFailures: 1, BreakerCooldown: time.Second, Now: clock.Now})
	c.Score(context.Background(), "a1")
	setMode(t, stub, karmastub.Mode{Kind: karmastub.Hang})
	clock.Advance(time.Second)
	n := requests(stub)

	probeDone := make(chan struct{})
	go func() { defer close(probeDone); c.Score(context.Background(), "a1") }()
	for requests(stub) == n { // wait until the probe hangs in the stub
		select {
		case <-probeDone:
			t.Fatal("probe finished before reaching the stub")
		default:
			time.Sleep(time.Millisecond)
		}
	}
	for range 20 {
		got, took := timedScore(c, "a2")
		if got.Source != karma.SourceFallback || took >= timeout {
			t.Fatalf("Score during the probe = %+v after %v, want immediate fallback", got, took)
		}
	}
	<-probeDone
	if got := requests(stub) - n; got != 1 {
		t.Fatalf("half-open sent %d requests, want exactly 1 probe", got)
	}
}

func TestBackgroundProberRecoversWithoutScoreTraffic(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Error})
	clock := newFakeClock()
	c := newClient(t, karma.Config{URL: url, Timeout: liveTimeout, BreakerFailures: 1, BreakerCooldown: time.Second, ProbeInterval: 5 * time.Millisecond, Now: clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Start(ctx)
	c.Start(ctx) // a second Start is a no-op

	c.Score(context.Background(), "a1")
	if st := c.Status(); st.State != karma.StateDown {
		t.Fatalf("Status = %+v, want down", st)
	}
	// While cooling down the prober must not call KARMA.
	n := requests(stub)
	time.Sleep(50 * time.Millisecond)
	if requests(stub) != n {
		t.Fatal("prober called KARMA before the cooldown ended")
	}
	setMode(t, stub, karmastub.Mode{Kind: karmastub.Healthy})
	clock.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for c.Status().State != karma.StateHealthy {
		if time.Now().After(deadline) {
			t.Fatalf("Status stuck at %+v, want healthy after a successful health probe", c.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := stub.State(); st.HealthRequests == 0 {
		t.Fatal("recovered without a health probe")
	}
	// Closed again: the prober stays quiet.
	n = requests(stub)
	time.Sleep(50 * time.Millisecond)
	if requests(stub) != n {
		t.Fatal("prober kept calling KARMA with the breaker closed")
	}
}

// SPEC §5: health recovers by itself. One failed call (too few to open the
// breaker) leaves the client degraded; the prober, not the next score,
// brings it back once KARMA is.
func TestBackgroundProberRecoversADegradedClientWithoutScoreTraffic(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Error})
	c := newClient(t, karma.Config{URL: url, Timeout: liveTimeout, BreakerFailures: 5, BreakerCooldown: time.Second, ProbeInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Start(ctx)
	c.Score(context.Background(), "a1")
	if st := c.Status(); st.State != karma.StateDegraded || st.Breaker != karma.BreakerClosed {
		t.Fatalf("Status = %+v, want degraded with the breaker closed", st)
	}
	setMode(t, stub, karmastub.Mode{Kind: karmastub.Healthy})
	deadline := time.Now().Add(5 * time.Second)
	for c.Status().State != karma.StateHealthy {
		if time.Now().After(deadline) {
			t.Fatalf("Status stuck at %+v, want healthy after a successful health probe", c.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := stub.State(); st.HealthRequests == 0 {
		t.Fatal("recovered without a health probe")
	}
}

func TestFlappingKarmaAlwaysYieldsAValidScoreInTime(t *testing.T) {
	const timeout = 100 * time.Millisecond
	_, url := startStub(t, karmastub.Mode{Kind: karmastub.Flap, FlapPeriodMs: 20})
	c := newClient(t, karma.Config{URL: url, Timeout: timeout, BreakerFailures: 2, BreakerCooldown: 10 * time.Millisecond})
	const n = 200
	for i := range n {
		got, took := timedScore(c, "a1")
		if got.Value < 0 || got.Value > 1 || took > timeout+margin {
			t.Fatalf("call %d: %+v after %v", i, got, took)
		}
		switch got.Source {
		case karma.SourceLive, karma.SourceCache, karma.SourceFallback:
		default:
			t.Fatalf("call %d: unknown source %q", i, got.Source)
		}
		time.Sleep(time.Millisecond)
	}
	st := c.Status()
	if st.LiveCount+st.CacheCount+st.FallbackCount != n {
		t.Fatalf("counters %d+%d+%d, want %d calls accounted", st.LiveCount, st.CacheCount, st.FallbackCount, n)
	}
}

func TestStoppedKarmaGivesFallbackAndOpensTheBreaker(t *testing.T) {
	ts := httptest.NewServer(karmastub.New(seed))
	url := ts.URL
	ts.Close() // nothing listens: connection refused
	c := newClient(t, karma.Config{URL: url, BreakerFailures: 3})
	for range 3 {
		got, took := timedScore(c, "a1")
		if got != (karma.Score{Value: 0.5, Source: karma.SourceFallback}) || took > karma.DefaultTimeout+margin {
			t.Fatalf("Score = %+v after %v, want fallback 0.5 in time", got, took)
		}
	}
	if st := c.Status(); st.State != karma.StateDown || st.LastError == "" {
		t.Fatalf("Status = %+v, want down with a last_error", st)
	}
}

func TestDisabledKarmaAlwaysFallsBackAndSaysSo(t *testing.T) {
	for _, cfg := range []karma.Config{{}, karma.DefaultConfig(), {Fallback: 0.25}} {
		c := newClient(t, cfg)
		c.Start(context.Background()) // starts nothing when disabled
		want := cfg.Fallback
		if want == 0 {
			want = karma.DefaultFallback
		}
		if got := c.Score(context.Background(), "a1"); got != (karma.Score{Value: want, Source: karma.SourceFallback}) {
			t.Fatalf("disabled Score = %+v, want fallback %v", got, want)
		}
		if st := c.Status(); st.State != karma.StateDisabled || st.FallbackCount != 1 {
			t.Fatalf("disabled Status = %+v, want disabled with 1 fallback", st)
		}
	}
}

func TestAnswersBreakingTheContractAreFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"malformed JSON", 200, `{"agent_id":"a1","score":`},
		{"score above 1", 200, `{"agent_id":"a1","score":1.5}`},
		{"negative score", 200, `{"agent_id":"a1","score":-0.1}`},
		{"score missing", 200, `{"agent_id":"a1"}`},
		{"score as a string", 200, `{"agent_id":"a1","score":"0.7"}`},
		{"answer for another agent", 200, `{"agent_id":"a2","score":0.7}`},
		{"agent id missing", 200, `{"score":0.7}`},
		{"redirect", 302, ``},
		{"not found", 404, `{"agent_id":"a1","score":0.7}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			c := newClient(t, karma.Config{URL: ts.URL})
			if got := c.Score(context.Background(), "a1"); got.Source != karma.SourceFallback {
				t.Fatalf("Score = %+v, want fallback", got)
			}
			if st := c.Status(); st.ConsecutiveFailures != 1 || st.LastError == "" {
				t.Fatalf("Status = %+v, want the answer counted as a failure", st)
			}
		})
	}
}

func TestScoreAcceptsTheBoundsAndExtraFields(t *testing.T) {
	for _, body := range []string{`{"agent_id":"a/1","score":0}`, `{"agent_id":"a/1","score":1}`, `{"agent_id":"a/1","score":0.7,"model":"llama3","reason":"ok"}`} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.EscapedPath() != "/v1/score/a%2F1" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(body))
		}))
		c := newClient(t, karma.Config{URL: ts.URL + "/", Timeout: liveTimeout})
		if got := c.Score(context.Background(), "a/1"); got.Source != karma.SourceLive {
			t.Errorf("body %s: Score = %+v, want live", body, got)
		}
		ts.Close()
	}
}

func TestUnsendableAgentIDsNeverReachKarma(t *testing.T) {
	stub, url := startStub(t, karmastub.Mode{Kind: karmastub.Healthy})
	c := newClient(t, karma.Config{URL: url})
	long := string(make([]byte, karma.MaxAgentIDBytes+1))
	for _, id := range []string{"", long, "\xff\xfe"} {
		if got := c.Score(context.Background(), id); got.Source != karma.SourceFallback {
			t.Fatalf("Score(%q) = %+v, want fallback", id, got)
		}
	}
	if n := requests(stub); n != 0 {
		t.Fatalf("%d requests sent for unsendable ids", n)
	}
}

func TestCanceledCallerIsNotCountedAgainstKarma(t *testing.T) {
	_, url := startStub(t, karmastub.Mode{Kind: karmastub.Hang})
	c := newClient(t, karma.Config{URL: url, Timeout: 2 * time.Second, BreakerFailures: 1})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if got := c.Score(ctx, "a1"); got.Source != karma.SourceFallback {
		t.Fatalf("Score = %+v, want fallback", got)
	}
	if st := c.Status(); st.Breaker != karma.BreakerClosed || st.ConsecutiveFailures != 0 {
		t.Fatalf("Status = %+v, want no failure counted for a caller that gave up", st)
	}
}

// blockingTransport ignores the request context, like a broken chaos wrapper.
type blockingTransport struct{ release chan struct{} }

func (b blockingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	<-b.release
	return nil, http.ErrServerClosed
}

func TestScoreReturnsInTimeEvenIfTheTransportIgnoresItsContext(t *testing.T) {
	const timeout = 50 * time.Millisecond
	rt := blockingTransport{release: make(chan struct{})}
	defer close(rt.release)
	c := newClient(t, karma.Config{URL: "http://karma.invalid", Timeout: timeout, MaxInFlight: 2, BreakerFailures: 1000, Transport: rt})
	for i := range 5 {
		got, took := timedScore(c, "a1")
		if got.Source != karma.SourceFallback || took > timeout+margin {
			t.Fatalf("call %d: %+v after %v, want fallback within %v", i, got, took, timeout+margin)
		}
	}
	// Two calls pinned both in-flight slots; the other three were refused
	// without counting as KARMA failures.
	if st := c.Status(); st.ConsecutiveFailures != 2 {
		t.Fatalf("consecutive failures = %d, want 2 (busy calls are not KARMA's fault)", st.ConsecutiveFailures)
	}
}

func TestConcurrentScoresWhileKarmaHangsAllFinishInBoundedTime(t *testing.T) {
	const (
		timeout = 100 * time.Millisecond
		n       = 200
	)
	_, url := startStub(t, karmastub.Mode{Kind: karmastub.Hang})
	// BreakerFailures at its maximum keeps the breaker closed: the worst
	// case, every call that gets a slot waits for its timeout.
	c := newClient(t, karma.Config{URL: url, Timeout: timeout, BreakerFailures: karma.MaxBreakerFailures})
	durations := make([]time.Duration, n)
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got, took := timedScore(c, "a1")
			durations[i] = took
			if got.Source != karma.SourceFallback {
				wrong.Add(1)
			}
		})
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d scores were not the fallback", wrong.Load())
	}
	slices.Sort(durations)
	p99, maxTook := durations[n*99/100-1], durations[n-1]
	t.Logf("%d concurrent scores against a hanging KARMA: p99 %v, max %v (no performance claim)", n, p99, maxTook)
	if p99 > timeout+margin || maxTook > timeout+2*margin {
		t.Fatalf("p99 %v / max %v, want at most %v / %v", p99, maxTook, timeout+margin, timeout+2*margin)
	}
}

func TestStatusJSONHasTheDocumentedFields(t *testing.T) {
	c := newClient(t, karma.Config{})
	raw, err := json.Marshal(c.Status())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"state", "breaker", "last_error", "fallback_count", "cache_count", "live_count", "consecutive_failures", "last_success"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Status JSON %s lacks %q", raw, k)
		}
	}
}

func TestConfigValidateEnforcesHardLimits(t *testing.T) {
	tests := []struct {
		name string
		cfg  karma.Config
		ok   bool
	}{
		{"zero value (disabled)", karma.Config{}, true},
		{"defaults", karma.DefaultConfig(), true},
		{"http URL", karma.Config{URL: "http://127.0.0.1:8001"}, true},
		{"timeout at the hard max", karma.Config{Timeout: karma.MaxTimeout}, true},
		{"timeout above the hard max", karma.Config{Timeout: karma.MaxTimeout + 1}, false},
		{"negative timeout", karma.Config{Timeout: -1}, false},
		{"negative breaker failures", karma.Config{BreakerFailures: -1}, false},
		{"breaker failures above the max", karma.Config{BreakerFailures: karma.MaxBreakerFailures + 1}, false},
		{"cooldown above the max", karma.Config{BreakerCooldown: karma.MaxBreakerCooldown + 1}, false},
		{"cache ttl above the max", karma.Config{CacheTTL: karma.MaxCacheTTL + 1}, false},
		{"cache size above the max", karma.Config{CacheMaxAgents: karma.MaxCacheMaxAgents + 1}, false},
		{"in-flight above the max", karma.Config{MaxInFlight: karma.MaxMaxInFlight + 1}, false},
		{"probe interval too small", karma.Config{ProbeInterval: time.Microsecond}, false},
		{"fallback above 1", karma.Config{Fallback: 1.1}, false},
		{"negative fallback", karma.Config{Fallback: -0.1}, false},
		{"URL without scheme", karma.Config{URL: "127.0.0.1:8001"}, false},
		{"URL with another scheme", karma.Config{URL: "ftp://karma"}, false},
		{"URL with a query", karma.Config{URL: "http://karma/?x=1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if _, nerr := karma.New(tt.cfg); (nerr == nil) != tt.ok {
				t.Fatalf("New() = %v, want ok=%v", nerr, tt.ok)
			}
		})
	}
}

// settledRequests is the stub's request count once it has not moved for
// 200 ms.
func settledRequests(stub *karmastub.Server) uint64 {
	n := requests(stub)
	for {
		time.Sleep(200 * time.Millisecond)
		m := requests(stub)
		if m == n {
			return n
		}
		n = m
	}
}
