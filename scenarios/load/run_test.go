package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/creditgate/creditgate/scenarios/history"
)

func TestRunRecordsEveryEndpointAndEveryAcknowledgedMutationOnce(t *testing.T) {
	f, srv := newFakeBackend(t)
	c := testConfig(srv)
	c.RetryShare = 0.3
	c.Mix = Mix{Consume: 10, Refund: 3, Refill: 3, Balance: 5, History: 3, Balances: 2, Approval: 2, Collaboration: 2}
	c.IntervalLogPath = filepath.Join(t.TempDir(), "latency.hlog")
	c.HistoryPath = filepath.Join(t.TempDir(), "history.jsonl")
	var mu sync.Mutex
	var progress []Progress
	c.ProgressEvery = 500 * time.Millisecond
	c.Progress = func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }

	res, err := Run(t.Context(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Unexpected != 0 {
		t.Fatalf("%d unexpected errors: %v", res.Unexpected, res.UnexpectedSamples)
	}
	if res.Sent+res.Unsent != res.Intended || res.Intended != 300 {
		t.Errorf("intended %d, sent %d, unsent %d: want 300 = sent + unsent", res.Intended, res.Sent, res.Unsent)
	}
	for _, ep := range []string{"POST /consume", "POST /refund", "POST /add", "GET /balance/{id}", "GET /history/{id}",
		"GET /balances", "POST /approvals", "POST /approvals/{id}/approve", "POST /synergie/collaborations"} {
		if h := res.Endpoints[ep]; h == nil || h.TotalCount() == 0 {
			t.Errorf("no latencies recorded for %s", ep)
		}
	}
	var sum int64
	for _, h := range res.Endpoints {
		sum += h.TotalCount()
	}
	if sum != res.Overall.TotalCount() || sum != res.Requests {
		t.Errorf("endpoint counts %d, overall %d, requests %d: want equal", sum, res.Overall.TotalCount(), res.Requests)
	}
	if res.RetriesSent == 0 {
		t.Error("no retries were injected")
	}
	if res.TargetRate < 199 || res.TargetRate > 201 {
		t.Errorf("target rate %v, want 200", res.TargetRate)
	}

	// Every acknowledged key appears in the history with a single event id,
	// and the backend wrote exactly one event per acknowledged key.
	events := map[string]string{}
	replays := 0
	reads := 0
	for _, e := range res.History.Ops() {
		if e.ReturnNs < e.CallNs {
			t.Fatalf("returned before called: %+v", e)
		}
		if !e.Kind.Mutation() {
			if e.Kind == history.KindReadBalance && e.Outcome == history.OK && e.HasRead {
				reads++
			}
			continue
		}
		if e.Key == "" {
			t.Fatalf("mutation without key: %+v", e)
		}
		if !e.Outcome.Acked() {
			continue
		}
		if prev, ok := events[e.Key]; ok && prev != e.EventID {
			t.Fatalf("key %s acknowledged with %s and %s", e.Key, prev, e.EventID)
		}
		events[e.Key] = e.EventID
		if e.Outcome == history.Replayed {
			replays++
		}
	}
	if reads == 0 {
		t.Error("no balance read recorded with its value")
	}
	if int64(len(events)) != f.eventCount() {
		t.Errorf("client saw %d acknowledged keys, backend wrote %d events", len(events), f.eventCount())
	}
	if int64(replays) > res.RetriesSent || replays == 0 {
		t.Errorf("%d replayed answers for %d retries", replays, res.RetriesSent)
	}
	var buf bytes.Buffer
	if err := res.History.WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := history.ReadJSONL(&buf, 1<<20)
	if err != nil || len(back) != res.History.Len() {
		t.Fatalf("history JSONL round trip: %d of %d entries, %v", len(back), res.History.Len(), err)
	}
	hf, err := os.Open(c.HistoryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	streamed, err := history.ReadJSONL(hf, 1<<20)
	if err != nil || len(streamed) != res.History.Len() {
		t.Fatalf("streamed history: %d of %d entries, %v", len(streamed), res.History.Len(), err)
	}

	// The interval log holds every recorded latency exactly once.
	lf, err := os.Open(c.IntervalLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	rd := hdr.NewHistogramLogReader(lf)
	var logged, intervals int64
	for i := 0; i < 10_000; i++ {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("interval log: %v", err)
		}
		if h == nil {
			break
		}
		logged += h.TotalCount()
		intervals++
	}
	if logged != res.Requests || intervals < 6 {
		t.Errorf("interval log: %d latencies in %d intervals, want %d in ≥ 6", logged, intervals, res.Requests)
	}
	var tsCount int64
	for _, iv := range res.Timeseries {
		tsCount += iv.Count
	}
	if tsCount != res.Requests || int64(len(res.Timeseries)) != intervals {
		t.Errorf("timeseries: %d latencies in %d points", tsCount, len(res.Timeseries))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) == 0 {
		t.Error("no progress reported")
	}
	var out strings.Builder
	for _, p := range progress {
		PrintProgress(&out)(p)
	}
	if !strings.Contains(out.String(), "req/s") {
		t.Errorf("progress line: %q", out.String())
	}
}

// The load only records: against a backend that executes every retry, the
// history shows keys acknowledged twice without Idempotent-Replayed under
// different event ids, which gates/audit's retry rule rejects.
func TestRetriesAgainstABackendWithoutIdempotencyAreRecordedAsTwoExecutions(t *testing.T) {
	f, srv := newFakeBackend(t)
	f.noIdempotency = true
	c := testConfig(srv)
	c.Duration = time.Second
	c.RetryShare = 0.5
	c.Mix = Mix{Refill: 1, Refund: 1}
	res, err := Run(t.Context(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.RetriesSent < 20 {
		t.Fatalf("only %d retries sent", res.RetriesSent)
	}
	executed := map[string]map[string]bool{} // key → event ids acknowledged without replay
	for _, e := range res.History.Ops() {
		if e.Outcome == history.OK && e.Kind.Mutation() && e.Role != history.Setup {
			if executed[e.Key] == nil {
				executed[e.Key] = map[string]bool{}
			}
			executed[e.Key][e.EventID] = true
		}
	}
	twice := 0
	for _, ids := range executed {
		if len(ids) > 1 {
			twice++
		}
	}
	if int64(twice) < res.RetriesSent/2 {
		t.Errorf("%d keys executed twice for %d retries against a backend that executes every retry", twice, res.RetriesSent)
	}
}

// A server that stalls once for 200 ms while the only worker waits: hits due
// during the stall are sent late, and their latency must include the wait
// (measured from the intended send time), not just their own service time.
func TestLatencyIsMeasuredFromTheIntendedSendTime(t *testing.T) {
	f, srv := newFakeBackend(t)
	var once sync.Once
	var mu sync.Mutex
	var first time.Time
	f.stall = func(r *http.Request) {
		if r.Method != http.MethodGet {
			return // setup
		}
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		since := time.Since(first)
		mu.Unlock()
		if since >= 300*time.Millisecond {
			once.Do(func() { time.Sleep(200 * time.Millisecond) })
		}
	}
	c := testConfig(srv)
	c.Rate, c.Duration, c.Concurrency = 100, time.Second, 1
	c.Mix = Mix{Balance: 1}
	c.RetryShare = -1
	res, err := Run(t.Context(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Intended != 100 || res.Sent != 100 || res.Unexpected != 0 {
		t.Fatalf("intended %d, sent %d, unexpected %d", res.Intended, res.Sent, res.Unexpected)
	}
	h := res.Endpoints["GET /balance/{id}"]
	if max := Percentile(h, 100); max < 200*time.Millisecond {
		t.Errorf("max latency %s, want ≥ 200ms (the stall)", max)
	}
	// ~10 hits were due in the first half of the stall: each waited ≥ 100 ms.
	// Measured from the actual send they would be sub-millisecond.
	if p95 := Percentile(h, 95); p95 < 100*time.Millisecond {
		t.Errorf("p95 %s: the stall's queued hits were measured from their send time (coordinated omission)", p95)
	}
	// Yet the achieved rate recovers: the pacer catches up after the stall.
	if res.AchievedRate < 90 {
		t.Errorf("achieved rate %v", res.AchievedRate)
	}
}

func TestWarmupIsExcludedFromOverallAndRate(t *testing.T) {
	_, srv := newFakeBackend(t)
	c := testConfig(srv)
	c.Phases = []Phase{
		{Name: "warmup", Duration: 500 * time.Millisecond, Pacer: Constant(40), Warmup: true},
		{Name: "steady", Duration: time.Second, Pacer: Constant(100)},
	}
	c.Mix = Mix{Balance: 1}
	res, err := Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Phases[0].Intended != 20 || res.Phases[1].Intended != 100 {
		t.Fatalf("phase hits %d, %d", res.Phases[0].Intended, res.Phases[1].Intended)
	}
	if res.Overall.TotalCount() != res.Phases[1].Hist.TotalCount() || res.Phases[0].Hist.TotalCount() != 20 {
		t.Errorf("overall %d, steady %d, warmup %d", res.Overall.TotalCount(), res.Phases[1].Hist.TotalCount(), res.Phases[0].Hist.TotalCount())
	}
	if res.TargetRate != 100 {
		t.Errorf("target rate %v, want the steady 100", res.TargetRate)
	}
}

func TestSetupFailureStopsTheRun(t *testing.T) {
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"detail":"no token","code":"forbidden"}`))
	}))
	c := testConfig(srv)
	res, err := Run(t.Context(), c)
	if err == nil || !strings.Contains(err.Error(), "setup") {
		t.Fatalf("err %v, want a setup failure", err)
	}
	if res == nil || len(res.SetupErrors) != 1 || res.Requests != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestCancelEndsTheAttackEarlyAndCountsUnsentHits(t *testing.T) {
	_, srv := newFakeBackend(t)
	c := testConfig(srv)
	c.Duration = 20 * time.Second
	c.Mix = Mix{Balance: 1}
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Run took %s after cancel", d)
	}
	if res.Unsent == 0 || res.Sent+res.Unsent != res.Intended {
		t.Errorf("intended %d, sent %d, unsent %d", res.Intended, res.Sent, res.Unsent)
	}
}

func TestDialGuardRefusesNonLoopbackBeforeConnecting(t *testing.T) {
	tr := newTransport(DefaultConfig().withDefaults())
	// Control runs after socket() and before connect(): nothing is sent.
	_, err := tr.DialContext(t.Context(), "tcp", "192.0.2.1:9")
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("dial to a TEST-NET address: %v, want ErrNotLoopback", err)
	}
	srv := httptestServer(t, http.NotFoundHandler())
	conn, err := tr.DialContext(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial loopback: %v", err)
	}
	conn.Close()
}

// One recording client: every request the backend received (setup,
// originals, concurrent duplicates, immediate retries, approval decisions)
// is one operation of the history, no more, no less, and the roles add up
// to what the run says it sent.
func TestEveryRequestOfALoadRunAppearsExactlyOnceInTheHistory(t *testing.T) {
	f, srv := newFakeBackend(t)
	var mu sync.Mutex
	received := map[string]int{} // method path key → requests received
	f.stall = func(r *http.Request) {
		mu.Lock()
		received[r.Method+" "+r.URL.Path+" "+r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
	}
	c := testConfig(srv)
	c.Duration = time.Second
	c.RetryShare = 0.4
	c.Mix = Mix{Consume: 4, Refill: 2, Balance: 2, Approval: 3}
	res, err := Run(t.Context(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	ops := res.History.Ops()
	if res.History.Dropped() != 0 {
		t.Fatalf("history dropped %d operations", res.History.Dropped())
	}
	mu.Lock()
	defer mu.Unlock()
	var total int
	keyed := map[string]int{} // key → requests received with it
	for k, n := range received {
		total += n
		if parts := strings.SplitN(k, " ", 3); parts[2] != "" {
			keyed[parts[2]] += n
		}
	}
	if len(ops) != total {
		t.Fatalf("backend received %d requests, history has %d operations", total, len(ops))
	}
	ids := map[uint64]bool{}
	inHistory := map[string]int{}
	roles := map[history.Role]int64{}
	var ackedApprovals int64
	for _, op := range ops {
		if ids[op.ID] {
			t.Fatalf("operation id %d recorded twice", op.ID)
		}
		ids[op.ID] = true
		if op.Key != "" {
			inHistory[op.Key]++
		}
		roles[op.Role]++
		if op.Kind == history.KindApprovalRequest && op.Role == history.Original && op.Outcome.Acked() {
			ackedApprovals++
		}
	}
	for k, n := range keyed {
		if inHistory[k] != n {
			t.Errorf("key %s: backend received %d requests, history has %d", k, n, inHistory[k])
		}
	}
	if len(inHistory) != len(keyed) {
		t.Errorf("history names %d keys, backend received %d", len(inHistory), len(keyed))
	}
	if roles[history.Original] != int64(res.Sent) {
		t.Errorf("%d originals in the history, %d hits sent", roles[history.Original], res.Sent)
	}
	if got := roles[history.Retry] + roles[history.ConcurrentDuplicate]; got != res.RetriesSent || got == 0 {
		t.Errorf("%d retries and duplicates in the history, %d counted as sent", got, res.RetriesSent)
	}
	if roles[history.FollowUp] != ackedApprovals || ackedApprovals == 0 {
		t.Errorf("%d approval decisions for %d acknowledged approval requests", roles[history.FollowUp], ackedApprovals)
	}
	if int64(len(ops))-roles[history.Setup] != res.Requests {
		t.Errorf("history has %d non-setup operations, result counts %d requests", int64(len(ops))-roles[history.Setup], res.Requests)
	}
}
