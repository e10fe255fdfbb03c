package load

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/creditgate/creditgate/scenarios/history"
)

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
