package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/loopback"
)

// Header names.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	headerVegetaSeq      = "X-Vegeta-Seq" // set by vegeta on every hit
	headerOp             = "X-Creditgate-Op"
)

// maxResponseBody bounds what the client reads of one response.
const maxResponseBody = 4 << 20

// role of a request within its hit.
type role uint8

const (
	roleOriginal  role = iota
	roleRetry          // immediate retry, sent after the original returned
	roleDuplicate      // concurrent duplicate, sent with the original
	roleFollowUp       // approve after an approval request
	roleSetup
)

func (r role) String() string {
	return [...]string{"original", "retry", "concurrent_duplicate", "follow_up", "setup"}[r]
}

// reqRecord is one request as executed: the plan's view and, embedded, the
// history's (filled by history.Fill, the one classifier).
type reqRecord struct {
	op           Op
	kind         OpKind
	role         role
	key          string
	method, path string
	body         []byte
	history.Op
}

// good reports an acknowledgement or a refusal the load provokes.
func (rec *reqRecord) good() bool { return rec.Outcome.Acked() || expectedRefusal(rec.kind, rec.Op) }

// hitRecord is everything one vegeta hit did.
type hitRecord struct {
	seq        uint64
	intendedNs int64 // since base
	recs       []reqRecord
}

// runner holds one Run's state shared by the targeter, the transport and the
// results loop.
type runner struct {
	cfg     Config
	pacer   Pacer
	base    time.Time
	beganNs atomic.Int64
	ctx     context.Context
	rt      *http.Transport

	planMu  sync.Mutex
	planner *planner
	planned uint64
	limit   uint64

	pending sync.Map // op id → Op, targeter → transport
	hits    sync.Map // vegeta seq → *hitRecord, transport → results loop
	agg     *aggregator
}

// Run sets up the agents and attacks cfg.BaseURL with the configured
// phases. It returns when the last phase ended and every in-flight request
// returned (bounded by the request timeout), or when ctx is done. The Result
// is returned even with an error when the attack ran.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, pacer: cfg.pacer(), base: time.Now(), ctx: ctx}
	r.rt = newTransport(cfg)
	defer r.rt.CloseIdleConnections()
	r.planner = newPlanner(cfg)

	agg, err := newAggregator(r)
	if err != nil {
		return nil, err
	}
	r.agg = agg
	defer agg.closeLog()

	if err := r.setup(); err != nil {
		_ = agg.res.History.Close()
		return agg.result(), err
	}
	r.limit = agg.intended
	r.attack()
	res := agg.result()
	if err := res.History.Close(); err != nil {
		return res, fmt.Errorf("load: history stream: %w", err)
	}
	if err := agg.closeLog(); err != nil {
		return res, fmt.Errorf("load: interval log: %w", err)
	}
	return res, ctx.Err()
}

func newTransport(cfg Config) *http.Transport {
	// Second line of defence behind CheckTarget: refuse to dial anything
	// but loopback, whatever a name resolved to.
	d := loopback.Dialer(cfg.RequestTimeout, cfg.AllowRemote)
	conns := 2*cfg.Concurrency + 8 // duplicates and follow-ups need their own
	return &http.Transport{
		Proxy:                 nil, // never through a proxy: loopback means loopback
		DialContext:           d.DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		DisableCompression:    true,
	}
}

func (r *runner) now() int64 { return int64(time.Since(r.base)) }

// setup creates the agents and tops them up, sequentially; it stops at the
// first unexpected outcome.
func (r *runner) setup() error {
	for i := 0; i < r.cfg.Agents; i++ {
		for _, kind := range []OpKind{KindSetupAgent, KindSetupAdd} {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			op := Op{ID: uint64(i), Kind: kind, Agent: i, AmountMilli: r.cfg.SetupMilli}
			rec := r.newRecord(op, roleSetup)
			rec.key = fmt.Sprintf("%s-%s-%d", r.cfg.KeyPrefix, kind, i)
			rec.Op.Key = rec.key
			r.exec(&rec, r.cfg.Token)
			r.agg.recordSetup(rec)
			if !rec.good() {
				return fmt.Errorf("load: setup of agent %s failed: %s %s: status %d %s %s",
					r.cfg.AgentID(i), rec.method, rec.path, rec.Status, rec.Code, rec.Err)
			}
		}
	}
	return nil
}

func (r *runner) newRecord(op Op, ro role) reqRecord {
	method, path, body := r.cfg.request(op)
	rec := reqRecord{op: op, kind: op.Kind, role: ro, key: r.cfg.Key(op), method: method, path: path, body: body}
	rec.Op = history.Op{Kind: historyKind(op.Kind), Role: historyRole(ro), Key: rec.key,
		AmountMilli: op.AmountMilli}
	if op.Kind != KindBalances {
		rec.Agent = r.cfg.AgentID(op.Agent)
	}
	return rec
}

// exec sends rec's request with a fresh timeout and fills in the response.
func (r *runner) exec(rec *reqRecord, token string) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.RequestTimeout)
	defer cancel()
	var body io.Reader
	if rec.body != nil {
		body = bytes.NewReader(rec.body)
	}
	req, err := http.NewRequestWithContext(ctx, rec.method, r.cfg.BaseURL+rec.path, body)
	if err != nil {
		rec.CallNs = r.now()
		rec.ReturnNs = rec.CallNs
		r.finish(rec, nil, nil, err)
		return
	}
	setHeaders(req.Header, rec.key, token, rec.body != nil)
	resp, _ := r.roundTrip(req, rec)
	if resp != nil {
		resp.Body.Close()
	}
}

func setHeaders(h http.Header, key, token string, hasBody bool) {
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	if key != "" {
		h.Set(headerIdempotencyKey, key)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// roundTrip sends req on the base transport, reads the whole (bounded) body,
// and records timing and outcome in rec. The returned response carries the
// body in memory.
func (r *runner) roundTrip(req *http.Request, rec *reqRecord) (*http.Response, error) {
	rec.CallNs = r.now()
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		rec.ReturnNs = r.now()
		r.finish(rec, nil, nil, err)
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	rec.ReturnNs = r.now()
	if err != nil {
		r.finish(rec, nil, nil, err)
		return nil, err
	}
	r.finish(rec, resp, b, nil)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// finish classifies a response (or error) into rec with history.Fill.
func (r *runner) finish(rec *reqRecord, resp *http.Response, body []byte, err error) {
	hr := history.Response{Body: body, Err: err}
	if resp != nil {
		hr.Status, hr.Replayed = resp.StatusCode, resp.Header.Get(headerReplayed) == "true"
	}
	history.Fill(&rec.Op, hr)
}

// targeter hands vegeta the next planned op, in hit order.
func (r *runner) targeter(tgt *vegeta.Target) error {
	if tgt == nil {
		return vegeta.ErrNilTarget
	}
	r.planMu.Lock()
	if r.planned >= r.limit {
		r.planMu.Unlock()
		return vegeta.ErrNoTargets
	}
	op := r.planner.Next()
	r.planned++
	r.planMu.Unlock()

	method, path, body := r.cfg.request(op)
	tgt.Method, tgt.URL, tgt.Body = method, r.cfg.BaseURL+path, body
	tgt.Header = http.Header{}
	setHeaders(tgt.Header, r.cfg.Key(op), r.cfg.Token, body != nil)
	tgt.Header.Set(headerOp, strconv.FormatUint(op.ID, 10))
	r.pending.Store(op.ID, op)
	return nil
}

// hitTransport is the http.RoundTripper vegeta's client uses: it executes
// the whole hit (original, duplicate or retry, follow-up) and leaves its
// records for the results loop under the hit's vegeta sequence number.
type hitTransport struct{ r *runner }

func (t hitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.r
	seq, err1 := strconv.ParseUint(req.Header.Get(headerVegetaSeq), 10, 64)
	opID, err2 := strconv.ParseUint(req.Header.Get(headerOp), 10, 64)
	v, ok := r.pending.LoadAndDelete(opID)
	if err1 != nil || err2 != nil || !ok {
		return nil, errors.New("load: request without a planned op (internal)")
	}
	op := v.(Op)
	off, _ := r.pacer.HitAt(seq)
	h := &hitRecord{seq: seq, intendedNs: r.beganNs.Load() + int64(off)}
	defer r.hits.Store(seq, h)

	// vegeta's client has no timeout (the transport owns it): bound the
	// original like every other request.
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.RequestTimeout)
	defer cancel()
	req = req.WithContext(ctx)

	orig := r.newRecord(op, roleOriginal)
	var dup reqRecord
	var wg sync.WaitGroup
	if op.Retry == RetryConcurrent {
		dup = r.newRecord(op, roleDuplicate)
		wg.Add(1)
		go func() { defer wg.Done(); r.exec(&dup, r.cfg.Token) }()
	}
	resp, err := r.roundTrip(req, &orig)
	wg.Wait()
	h.recs = append(h.recs, orig)
	switch {
	case op.Retry == RetryConcurrent:
		h.recs = append(h.recs, dup)
	case op.Retry == RetryImmediate:
		retry := r.newRecord(op, roleRetry)
		r.exec(&retry, r.cfg.Token)
		h.recs = append(h.recs, retry)
	case op.Kind == KindApproval && orig.Outcome.Acked():
		// A missing request_id is sent as is: the refusal is recorded and the
		// audit sees an acknowledged request nobody decided.
		fu := reqRecord{op: op, kind: KindApprove, role: roleFollowUp, key: r.cfg.Key(op) + "-approve",
			method: "POST", path: approvePath(r.cfg, orig.RequestID), body: approveBody()}
		fu.Op = history.Op{Kind: history.KindApprove, Role: history.FollowUp, Key: fu.key, Entity: orig.RequestID}
		r.exec(&fu, r.cfg.ApproverToken)
		h.recs = append(h.recs, fu)
	}
	return resp, err
}

// startPacer records when vegeta's attack began: vegeta computes elapsed
// from its own start time, so start = now − elapsed at the first Pace call
// (which happens before the first hit).
type startPacer struct {
	Pacer
	once sync.Once
	r    *runner
}

func (s *startPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	s.once.Do(func() { s.r.beganNs.Store(s.r.now() - int64(elapsed)) })
	return s.Pacer.Pace(elapsed, hits)
}

// attack runs vegeta and consumes its results until the channel closes.
func (r *runner) attack() {
	c := r.cfg
	client := &http.Client{
		Transport:     hitTransport{r},
		Timeout:       0, // the transport bounds each request itself
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(uint64(min(c.Concurrency, 10))),
		vegeta.MaxWorkers(uint64(c.Concurrency)),
		vegeta.MaxBody(0),
	)
	// Bound the attack in time: its phases, then the request timeout for
	// the last hits, then a grace second; ctx cancels it earlier.
	deadline := time.AfterFunc(c.Duration+c.RequestTimeout+time.Second, func() { atk.Stop() })
	defer deadline.Stop()
	stopOnCancel := context.AfterFunc(r.ctx, func() { atk.Stop() })
	defer stopOnCancel()

	done := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		r.agg.tick(done)
	}()

	sp := &startPacer{Pacer: r.pacer, r: r}
	results := atk.Attack(r.targeter, sp, c.Duration, "creditgate")
	for res := range results {
		v, ok := r.hits.LoadAndDelete(res.Seq)
		if !ok {
			if res.Error != vegeta.ErrNoTargets.Error() {
				r.agg.recordOrphan(res)
			}
			continue
		}
		r.agg.recordHit(v.(*hitRecord))
	}
	close(done)
	<-tickerDone
	r.agg.finish(r.now())
}

// aggregator folds hit records into histograms, counters and the history.
// recordHit runs on the results loop; tick on its own goroutine; mu guards all.
type aggregator struct {
	mu  sync.Mutex
	r   *runner
	res Result

	phaseStart []time.Duration
	phaseSent  []uint64
	phaseGood  []uint64
	intended   uint64

	// interval state; bucketed by completion time, aligned to the attack start.
	cur        *hdr.Histogram
	curStartNs int64
	curCounts  [3]int64 // ok, expected, unexpected
	logFile    *os.File
	logBuf     *bufio.Writer
	logW       *hdr.HistogramLogWriter
	logErr     error

	lastProgressNs int64
	lastCompleted  int64
	completed      int64
}

func newAggregator(r *runner) (*aggregator, error) {
	c := r.cfg
	a := &aggregator{r: r, cur: NewHistogram()}
	a.res = Result{
		Seed:      c.Seed,
		Started:   r.base,
		Overall:   NewHistogram(),
		Endpoints: map[string]*hdr.Histogram{},
		Status:    map[string]map[int]int64{},
		History:   history.NewRecorderAt(c.HistoryCap, r.base),
	}
	var at time.Duration
	for _, p := range c.Phases {
		a.phaseStart = append(a.phaseStart, at)
		a.res.Phases = append(a.res.Phases, PhaseResult{Name: p.Name, Start: at, Duration: p.Duration, Warmup: p.Warmup, Hist: NewHistogram()})
		at += p.Duration
	}
	a.phaseSent = make([]uint64, len(c.Phases))
	a.phaseGood = make([]uint64, len(c.Phases))
	// Count intended hits per phase from the schedule itself (bounded by
	// Validate's maxTotalHits), so the phase of hit i is exactly that of HitAt(i).
	for i := uint64(0); i < maxTotalHits+1; i++ {
		t, ok := r.pacer.HitAt(i)
		if !ok {
			break
		}
		a.res.Phases[a.phaseOf(t)].Intended++
		a.intended++
	}
	if c.HistoryPath != "" {
		if err := a.res.History.StreamTo(c.HistoryPath); err != nil {
			return nil, fmt.Errorf("load: history stream: %w", err)
		}
	}
	if c.IntervalLogPath != "" {
		f, err := os.Create(c.IntervalLogPath)
		if err != nil {
			return nil, fmt.Errorf("load: interval log: %w", err)
		}
		a.logFile, a.logBuf = f, bufio.NewWriter(f)
		a.logW = hdr.NewHistogramLogWriter(a.logBuf)
		startMs := r.base.UnixMilli()
		a.logW.SetBaseTime(startMs)
		a.logErr = errors.Join(
			a.logW.OutputLogFormatVersion(),
			a.logW.OutputComment("[creditgate load: latency in microseconds from the intended send time; interval max column = µs/1e6 = seconds]"),
			a.logW.OutputStartTime(startMs),
			a.logW.OutputBaseTime(startMs),
			a.logW.OutputLegend(),
		)
	}
	return a, nil
}

func (a *aggregator) phaseOf(t time.Duration) int {
	i := 0
	for j, s := range a.phaseStart {
		if t >= s {
			i = j
		}
	}
	return i
}

func (a *aggregator) record(h *hdr.Histogram, us int64) {
	if us < histMinUs {
		us = histMinUs
	}
	if us > histMaxUs {
		us = histMaxUs
		a.res.Clamped++
	}
	_ = h.RecordValue(us) // in range by construction
}

func (a *aggregator) countStatus(endpoint string, status int) {
	m := a.res.Status[endpoint]
	if m == nil {
		m = map[int]int64{}
		a.res.Status[endpoint] = m
	}
	m[status]++
}

func (a *aggregator) sample(list *[]ErrorSample, rec reqRecord) {
	if len(*list) >= a.r.cfg.ErrorSamples {
		return
	}
	detail := rec.Err
	*list = append(*list, ErrorSample{Endpoint: Endpoint(rec.kind), OpID: rec.op.ID, Status: rec.Status, Code: rec.Code, Detail: detail, At: time.Duration(rec.CallNs)})
}

func (a *aggregator) history(rec reqRecord) {
	a.res.History.Add(rec.Op)
}

func (a *aggregator) recordSetup(rec reqRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.countStatus(Endpoint(rec.kind), rec.Status)
	a.history(rec)
	if !rec.good() {
		a.sample(&a.res.SetupErrors, rec)
	}
}

// recordOrphan counts a vegeta result that never reached the transport.
func (a *aggregator) recordOrphan(res *vegeta.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res.Requests++
	a.res.Unexpected++
	a.res.Unknown++
	a.countStatus("unknown", int(res.Code))
	if len(a.res.UnexpectedSamples) < a.r.cfg.ErrorSamples {
		a.res.UnexpectedSamples = append(a.res.UnexpectedSamples, ErrorSample{Endpoint: "unknown", Status: int(res.Code), Detail: res.Error})
	}
}

func (a *aggregator) recordHit(h *hitRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	began := a.r.beganNs.Load()
	pi := a.phaseOf(time.Duration(h.intendedNs - began))
	warm := a.res.Phases[pi].Warmup
	for _, rec := range h.recs {
		a.rotateLocked(rec.ReturnNs)
		from := rec.CallNs // closed-loop steps: from their own send
		if rec.role == roleOriginal || rec.role == roleDuplicate {
			from = h.intendedNs // scheduled by the pacer: from the intended time
		}
		us := (rec.ReturnNs - from) / 1e3
		ep := Endpoint(rec.kind)
		a.record(a.res.Phases[pi].Hist, us)
		a.record(a.cur, us)
		if !warm {
			a.record(a.res.Overall, us)
			eh := a.res.Endpoints[ep]
			if eh == nil {
				eh = NewHistogram()
				a.res.Endpoints[ep] = eh
			}
			a.record(eh, us)
		}
		a.countStatus(ep, rec.Status)
		a.res.Requests++
		a.completed++
		switch {
		case rec.Outcome.Acked():
			a.res.OK++
			a.curCounts[0]++
		case expectedRefusal(rec.kind, rec.Op):
			a.res.Expected++
			a.curCounts[1]++
			a.sample(&a.res.ExpectedSamples, rec)
		default:
			a.res.Unexpected++
			a.curCounts[2]++
			if rec.Outcome == history.Unknown {
				a.res.Unknown++
			}
			a.sample(&a.res.UnexpectedSamples, rec)
		}
		if rec.role == roleRetry || rec.role == roleDuplicate {
			a.res.RetriesSent++
		}
		a.history(rec)
	}
	a.phaseSent[pi]++
	if h.recs[0].good() {
		a.phaseGood[pi]++
	}
}

// rotateLocked closes every interval that ended at or before nowNs.
func (a *aggregator) rotateLocked(nowNs int64) {
	began := a.r.beganNs.Load()
	if began == 0 && a.curStartNs == 0 {
		return // attack not started
	}
	iv := int64(a.r.cfg.Interval)
	if a.curStartNs == 0 {
		a.curStartNs = began
	}
	for n := 0; nowNs >= a.curStartNs+iv && n < 1_000_000; n++ {
		a.flushLocked(a.curStartNs + iv)
	}
}

// flushLocked writes the current interval ending at endNs and starts the next.
func (a *aggregator) flushLocked(endNs int64) {
	began := a.r.beganNs.Load()
	h := a.cur
	d := time.Duration(endNs - a.curStartNs)
	if d <= 0 {
		return
	}
	p := Interval{
		Start: time.Duration(a.curStartNs - began), Duration: d,
		Count: h.TotalCount(), OK: a.curCounts[0], Expected: a.curCounts[1], Errors: a.curCounts[2],
	}
	p.Rate = float64(p.Count) / d.Seconds()
	s := Summarize("", h)
	p.P50Ms, p.P95Ms, p.P99Ms, p.MaxMs = s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs
	if len(a.res.Timeseries) < maxIntervals {
		a.res.Timeseries = append(a.res.Timeseries, p)
	}
	if a.logW != nil && a.logErr == nil {
		baseMs := a.r.base.UnixMilli()
		h.SetStartTimeMs(baseMs + a.curStartNs/1e6)
		h.SetEndTimeMs(baseMs + endNs/1e6)
		a.logErr = a.logW.OutputIntervalHistogram(h)
	}
	h.Reset()
	a.curCounts = [3]int64{}
	a.curStartNs = endNs
}

// maxIntervals bounds the timeseries (a day at 1s).
const maxIntervals = 86_400

// tick rotates intervals and reports progress until done closes.
func (a *aggregator) tick(done <-chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		now := a.r.now()
		a.mu.Lock()
		a.rotateLocked(now)
		var p *Progress
		if a.r.cfg.Progress != nil && a.r.beganNs.Load() != 0 &&
			time.Duration(now-max(a.lastProgressNs, a.r.beganNs.Load())) >= a.r.cfg.ProgressEvery {
			p = a.progressLocked(now)
		}
		a.mu.Unlock()
		if p != nil {
			a.r.cfg.Progress(*p)
		}
	}
}

func (a *aggregator) progressLocked(now int64) *Progress {
	began := a.r.beganNs.Load()
	elapsed := time.Duration(now - began)
	since := now - max(a.lastProgressNs, began)
	p := &Progress{
		Phase:      a.r.cfg.Phases[a.phaseOf(elapsed)].Name,
		Elapsed:    elapsed,
		Remaining:  max(0, a.r.cfg.Duration-elapsed),
		TargetRate: a.r.pacer.Rate(elapsed),
		Completed:  a.completed,
		OK:         a.res.OK,
		Expected:   a.res.Expected,
		Errors:     a.res.Unexpected,
	}
	if since > 0 {
		p.Rate = float64(a.completed-a.lastCompleted) / time.Duration(since).Seconds()
	}
	h := a.res.Overall
	if h.TotalCount() == 0 {
		h = a.res.Phases[a.phaseOf(elapsed)].Hist
	}
	p.P95 = Percentile(h, 95)
	a.lastProgressNs, a.lastCompleted = now, a.completed
	return p
}

// finish closes the last interval and computes rates.
func (a *aggregator) finish(endNs int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rotateLocked(endNs)
	if a.curStartNs != 0 && endNs > a.curStartNs {
		a.flushLocked(endNs)
	}
	began := a.r.beganNs.Load()
	if began != 0 {
		a.res.AttackStart = time.Duration(began)
		a.res.Duration = time.Duration(endNs - began)
	}
	a.res.Intended = a.intended
	var tgtHits, good uint64
	var dur time.Duration
	for i := range a.res.Phases {
		p := &a.res.Phases[i]
		p.Sent, p.Good = a.phaseSent[i], a.phaseGood[i]
		a.res.Sent += p.Sent
		if s := p.Duration.Seconds(); s > 0 {
			p.TargetRate = float64(p.Intended) / s
			p.AchievedRate = float64(p.Good) / s
		}
		if !p.Warmup {
			tgtHits += p.Intended
			good += p.Good
			dur += p.Duration
		}
	}
	if a.res.Sent < a.intended {
		a.res.Unsent = a.intended - a.res.Sent
	}
	if s := dur.Seconds(); s > 0 {
		a.res.TargetRate = float64(tgtHits) / s
		a.res.AchievedRate = float64(good) / s
	}
}

func (a *aggregator) result() *Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.res
	return &r
}

// closeLog flushes and closes the interval log once; later calls return the
// first error.
func (a *aggregator) closeLog() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.logFile == nil {
		return a.logErr
	}
	err := errors.Join(a.logErr, a.logBuf.Flush(), a.logFile.Close())
	a.logFile, a.logW, a.logErr = nil, nil, err
	return err
}
