package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/loopback"
	"github.com/creditgate/creditgate/scenarios/wire"
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

// reqRecord is one request as the recording client returned it, with the
// plan's view of it (the op it belongs to, its kind and role).
type reqRecord struct {
	opID uint64
	kind OpKind
	role role
	history.Op
}

// good reports an acknowledgement or a refusal the load provokes.
func (rec reqRecord) good() bool { return rec.Outcome.Acked() || expectedRefusal(rec.kind, rec.Op) }

// hit is one scheduled hit: its sequence number in the pacer's schedule,
// when it was due (ns on the history's clock) and the planned op.
type hit struct {
	seq        uint64
	intendedNs int64
	op         Op
}

// hitRecord is everything one hit sent, in send order (the original first).
type hitRecord struct {
	hit
	recs []reqRecord
}

// runner holds one Run's state: the dispatcher and the workers send through
// client (which records the history); agg only measures.
type runner struct {
	cfg     Config
	pacer   Pacer
	base    time.Time
	beganNs atomic.Int64 // when hit 0 was due, on the history's clock; 0 before the attack
	ctx     context.Context
	rt      *http.Transport
	client  wire.Client
	planner *planner
	limit   uint64
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
	r.client = wire.Client{
		HTTP: &http.Client{
			Transport:     r.rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		History: agg.res.History,
		MaxBody: maxResponseBody,
	}

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

func (r *runner) now() int64 { return r.client.History.Now() }

// setup creates the agents and tops them up, sequentially; it stops at the
// first unexpected outcome.
func (r *runner) setup() error {
	for i := 0; i < r.cfg.Agents; i++ {
		for _, kind := range []OpKind{KindSetupAgent, KindSetupAdd} {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			op := Op{ID: uint64(i), Kind: kind, Agent: i, AmountMilli: r.cfg.SetupMilli}
			rec := r.sendOp(op, roleSetup, fmt.Sprintf("%s-%s-%d", r.cfg.KeyPrefix, kind, i))
			r.agg.recordSetup(rec)
			if !rec.good() {
				method, path, _ := r.cfg.request(op)
				return fmt.Errorf("load: setup of agent %s failed: %s %s: status %d %s %s",
					r.cfg.AgentID(i), method, path, rec.Status, rec.Code, rec.Err)
			}
		}
	}
	return nil
}

// sendOp sends op's own request in the given role with the given key.
func (r *runner) sendOp(op Op, ro role, key string) reqRecord {
	method, path, body := r.cfg.request(op)
	h := history.Op{Kind: historyKind(op.Kind), Role: historyRole(ro), AmountMilli: op.AmountMilli}
	if op.Kind != KindBalances {
		h.Agent = r.cfg.AgentID(op.Agent)
	}
	return r.send(op.ID, op.Kind, ro, wire.Request{Method: method, Path: path, Body: body, Key: key, Token: r.cfg.Token, Op: h})
}

// send sends one request of op opID through the recording client, bounded
// by the request timeout.
func (r *runner) send(opID uint64, kind OpKind, ro role, req wire.Request) reqRecord {
	req.Base, req.Timeout = r.cfg.BaseURL, r.cfg.RequestTimeout
	resp := r.client.Send(r.ctx, req)
	return reqRecord{opID: opID, kind: kind, role: ro, Op: resp.Op}
}

// execute sends everything one hit does: the original, with its concurrent
// duplicate or followed by its immediate retry, or followed by the
// approval decision of an acknowledged approval request.
func (r *runner) execute(h hit) *hitRecord {
	op := h.op
	out := &hitRecord{hit: h}
	var dup reqRecord
	var wg sync.WaitGroup
	if op.Retry == RetryConcurrent {
		wg.Add(1)
		go func() { defer wg.Done(); dup = r.sendOp(op, roleDuplicate, r.cfg.Key(op)) }()
	}
	orig := r.sendOp(op, roleOriginal, r.cfg.Key(op))
	wg.Wait()
	out.recs = append(out.recs, orig)
	switch {
	case op.Retry == RetryConcurrent:
		out.recs = append(out.recs, dup)
	case op.Retry == RetryImmediate:
		out.recs = append(out.recs, r.sendOp(op, roleRetry, r.cfg.Key(op)))
	case op.Kind == KindApproval && orig.Outcome.Acked():
		// A missing request_id is sent as is: the refusal is recorded and the
		// audit sees an acknowledged request nobody decided.
		out.recs = append(out.recs, r.send(op.ID, KindApprove, roleFollowUp, wire.Request{
			Method: "POST", Path: approvePath(r.cfg, orig.RequestID), Body: approveBody(),
			Key: r.cfg.Key(op) + "-approve", Token: r.cfg.ApproverToken,
			Op: history.Op{Kind: history.KindApprove, Role: history.FollowUp, Entity: orig.RequestID},
		}))
	}
	return out
}

// attack is our scheduler around the pacer (a vegeta.Pacer): one
// dispatcher hands each hit, when it is due, to a pool of Concurrency
// workers over an unbuffered channel. When every worker is busy the hit
// waits, the schedule does not: its latency still counts from when it was
// due (no coordinated omission). It returns when the schedule ended (or
// ctx is done, or the phases plus the request timeout and a grace second
// passed) and every handed-out hit returned.
func (r *runner) attack() {
	c := r.cfg
	ctx, cancel := context.WithTimeout(r.ctx, c.Duration+c.RequestTimeout+time.Second)
	defer cancel()

	hits := make(chan hit) // unbuffered: a hit is sent only once a worker is free
	var workers sync.WaitGroup
	for range c.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for h := range hits {
				r.agg.recordHit(r.execute(h))
			}
		}()
	}
	done := make(chan struct{})
	tickerDone := make(chan struct{})
	r.beganNs.Store(max(r.now(), 1))
	go func() {
		defer close(tickerDone)
		r.agg.tick(done)
	}()

	r.dispatch(ctx, r.pacer, hits)
	close(hits)
	workers.Wait()
	close(done)
	<-tickerDone
	r.agg.finish(r.now())
}

// dispatch waits until each hit is due, as the pacer says (vegeta's Pace:
// how long until hit n, or stop), and hands it over with its intended
// time (HitAt). Behind schedule it hands hits over back to back.
func (r *runner) dispatch(ctx context.Context, p interface {
	vegeta.Pacer
	HitAt(uint64) (time.Duration, bool)
}, hits chan<- hit) {
	began := r.beganNs.Load()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for seq := uint64(0); seq < r.limit; seq++ {
		wait, stop := p.Pace(time.Duration(r.now()-began), seq)
		if stop {
			return
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		due, ok := p.HitAt(seq)
		if !ok {
			return
		}
		h := hit{seq: seq, intendedNs: began + int64(due), op: r.planner.Next()}
		select {
		case <-ctx.Done():
			return
		case hits <- h:
		}
	}
}

// aggregator folds hit records into histograms, counters and the history.
// It measures only: the history is recorded by the client. recordHit runs on
// the workers, tick on its own goroutine; mu guards all.
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
	*list = append(*list, ErrorSample{Endpoint: Endpoint(rec.kind), OpID: rec.opID, Status: rec.Status, Code: rec.Code, Detail: detail, At: time.Duration(rec.CallNs)})
}

func (a *aggregator) recordSetup(rec reqRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.countStatus(Endpoint(rec.kind), rec.Status)
	if !rec.good() {
		a.sample(&a.res.SetupErrors, rec)
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
