package specbackend

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// FallbackCI is the KARMA score used when neither a live nor a cached score exists.
const FallbackCI = 0.5

type karmaCache struct {
	score float64
	at    time.Time
}

// karmaClient asks the KARMA service (GET {url}/v1/score/{agent_id} -> {"agent_id","score"})
// with a short timeout behind a circuit breaker. It never blocks an operation longer than
// one timeout, and not at all while the breaker is open. Safe for concurrent use.
type karmaClient struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client

	mu        sync.Mutex
	cache     map[string]karmaCache
	fails     int
	open      bool
	openedAt  time.Time
	lastErr   string
	lastOK    time.Time
	fallbacks int64
	lives     int64
	cached    int64
}

// KarmaStatus is GET /karma/status.
type KarmaStatus struct {
	State         string  `json:"state"`   // healthy | degraded | down
	Breaker       string  `json:"breaker"` // closed | open | half_open | disabled
	LastError     string  `json:"last_error"`
	FallbackCount int64   `json:"fallback_count"`
	LiveCount     int64   `json:"live_count"`
	CacheCount    int64   `json:"cache_count"`
	Configured    bool    `json:"configured"`
	URL           string  `json:"url,omitempty"`
	FallbackCI    float64 `json:"fallback_ci"`
}

func newKarmaClient(cfg Config, log *slog.Logger) *karmaClient {
	return &karmaClient{cfg: cfg, log: log, cache: map[string]karmaCache{},
		http: &http.Client{Timeout: cfg.KarmaTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
}

func (k *karmaClient) start(stop chan struct{}, wg *sync.WaitGroup) {
	if k.cfg.KarmaURL == "" {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			k.probe()
		}
	}()
}

func (k *karmaClient) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.KarmaTimeout*2)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.cfg.KarmaURL+"/healthz", nil)
	resp, err := k.http.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 200 {
			err = fmt.Errorf("karma healthz: status %d", resp.StatusCode)
		}
	}
	if err == nil && k.cfg.Defects.Has(DefectH14KarmaRecoveryNeedsTraffic) {
		k.mu.Lock()
		open := k.open
		k.mu.Unlock()
		if open {
			return // defect: only a real score request may close an open breaker
		}
	}
	k.result(err)
}

func (k *karmaClient) result(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Clock()
	if err == nil {
		if k.open {
			k.log.Info("karma recovered; breaker closed")
		}
		k.fails, k.open, k.lastOK = 0, false, now
		return
	}
	k.fails++
	k.lastErr = err.Error()
	if !k.open && k.fails >= k.cfg.KarmaBreakerFailures {
		k.open, k.openedAt = true, now
		k.log.Warn("karma breaker opened", "err", err)
	} else if k.open {
		k.openedAt = now
	}
}

// score returns a CI in [0,1] and its source: live | cache | fallback.
func (k *karmaClient) score(agentID string) (float64, string) {
	if k.cfg.KarmaURL == "" {
		return k.fallback(agentID)
	}
	now := k.cfg.Clock()
	k.mu.Lock()
	if c, ok := k.cache[agentID]; ok && now.Sub(c.at) < 10*time.Second && !k.open {
		k.cached++
		k.mu.Unlock()
		if k.cfg.Defects.Has(DefectH14KarmaFreshCacheLive) {
			return c.score, "live" // defect: a fresh cached score taken for a live one
		}
		return c.score, "cache"
	}
	if k.open && now.Sub(k.openedAt) < k.cfg.KarmaBreakerCooldown {
		if k.cfg.Defects.Has(DefectH11KarmaOpenSkipsCache) { // defect: breaker open -> default CI, cache not consulted
			k.fallbacks++
			k.mu.Unlock()
			return FallbackCI, "fallback"
		}
		k.mu.Unlock()
		return k.fallback(agentID)
	}
	k.mu.Unlock()
	s, err := k.fetch(agentID)
	k.result(err)
	if err != nil {
		return k.fallback(agentID)
	}
	k.mu.Lock()
	k.cache[agentID] = karmaCache{score: s, at: now}
	k.lives++
	k.mu.Unlock()
	return s, "live"
}

func (k *karmaClient) fallback(agentID string) (float64, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.cache[agentID]; ok && k.cfg.Clock().Sub(c.at) < k.cfg.KarmaCacheTTL {
		k.cached++
		return c.score, "cache"
	}
	k.fallbacks++
	return FallbackCI, "fallback"
}

func (k *karmaClient) fetch(agentID string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.KarmaTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.cfg.KarmaURL+"/v1/score/"+url.PathEscape(agentID), nil)
	if err != nil {
		return 0, err
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("karma: status %d", resp.StatusCode)
	}
	var body struct {
		Score *float64 `json:"score"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10))
	if err := dec.Decode(&body); err != nil || body.Score == nil {
		return 0, fmt.Errorf("karma: bad body")
	}
	s := *body.Score
	if math.IsNaN(s) || s < 0 || s > 1 {
		return 0, fmt.Errorf("karma: score %v out of range", s)
	}
	return s, nil
}

func (k *karmaClient) status() KarmaStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := KarmaStatus{LastError: k.lastErr, FallbackCount: k.fallbacks, LiveCount: k.lives, CacheCount: k.cached,
		Configured: k.cfg.KarmaURL != "", URL: k.cfg.KarmaURL, FallbackCI: FallbackCI}
	switch {
	case !st.Configured:
		st.State, st.Breaker = "down", "disabled"
	case k.open && k.cfg.Clock().Sub(k.openedAt) >= k.cfg.KarmaBreakerCooldown:
		st.State, st.Breaker = "down", "half_open"
	case k.open:
		st.State, st.Breaker = "down", "open"
	case k.fails > 0:
		st.State, st.Breaker = "degraded", "closed"
	default:
		st.State, st.Breaker = "healthy", "closed"
	}
	return st
}

// detectAnomaly judges a consume amount against the agent's running statistics (Welford).
// ok=false means the detector failed (panic or NaN); the caller flags it as unavailable.
func detectAnomaly(st anomalyStats, amountMilli int64, cfg *Config) (flag bool, score float64, reason string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			flag, score, reason, ok = false, 0, "", false
		}
	}()
	if st.N < cfg.AnomalyMinSamples || st.Mean <= 0 {
		return false, 0, "", true
	}
	x := float64(amountMilli)
	ratio := x / st.Mean
	var z float64
	if st.N > 1 {
		if sd := math.Sqrt(st.M2 / float64(st.N-1)); sd > 0 {
			z = (x - st.Mean) / sd
		}
	}
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) || math.IsNaN(z) || math.IsInf(z, 0) {
		return false, 0, "", false
	}
	score = math.Round(ratio*1000) / 1000
	ratioHit := ratio >= cfg.AnomalyRatio
	if cfg.Defects.Has(DefectAnomalyRatioExclusive) {
		ratioHit = ratio > cfg.AnomalyRatio // defect: exactly the threshold is not flagged
	}
	switch {
	case ratioHit:
		return true, score, fmt.Sprintf("amount is %.1fx the running mean (threshold %.0fx)", ratio, cfg.AnomalyRatio), true
	case z >= cfg.AnomalyZ:
		return true, score, fmt.Sprintf("z-score %.1f above %.1f", z, cfg.AnomalyZ), true
	}
	return false, score, "", true
}

// Edge of Chaos. score = clamp(0.55 + 0.10*load - 0.15*anomaly_rate - 0.25*error_rate, 0.1, 0.9)
// over a sliding window, smoothed (alpha 0.3, step <= 0.05 per tick). Anomalies alone
// move the raw score to at least 0.40, inside the safe band 0.3-0.7.
const (
	eocStart      = 0.55
	eocWindow     = 15 // ticks
	eocLoadTarget = 2000.0
)

func bandOf(s float64) string {
	switch {
	case s < 0.3:
		return "critical_low"
	case s < 0.5:
		return "low"
	case s <= 0.7:
		return "optimal"
	case s <= 0.85:
		return "high"
	}
	return "critical_high"
}

type eocCounts struct{ req, errs, consumes, anomalies int64 }

type eocMonitor struct {
	mu      sync.Mutex
	cur     eocCounts
	ring    []eocCounts
	ringDur []time.Duration
	score   float64
	regen   float64
	backpr  float64
	last    pEoC

	anomalyAsError bool // DefectH14EoCAnomalyAsError
}

// newEoCMonitor continues from the EoC projection (the last journaled regulation).
func newEoCMonitor(p eocProj) *eocMonitor {
	m := &eocMonitor{score: p.Score, regen: p.Regen, backpr: p.Backpress}
	m.last = pEoC{Score: p.Score, Band: bandOf(p.Score), RegenerationFactor: p.Regen, Backpressure: p.Backpress,
		AnomalyRate: p.AnomalyRate, ErrorRate: p.ErrorRate, LoadRPS: p.LoadRPS}
	return m
}

func (m *eocMonitor) request(serverErr bool) {
	m.mu.Lock()
	m.cur.req++
	if serverErr {
		m.cur.errs++
	}
	m.mu.Unlock()
}

func (m *eocMonitor) consume(anomaly bool) {
	m.mu.Lock()
	m.cur.consumes++
	if anomaly {
		m.cur.anomalies++
	}
	m.mu.Unlock()
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func step(cur, target, maxStep float64) float64 {
	return cur + clamp(target-cur, -maxStep, maxStep)
}

// tick closes one scoring interval; hadOps reports whether it saw any operation (only
// those windows are journaled, so an idle engine writes nothing).
func (m *eocMonitor) tick(dt time.Duration) (r pEoC, hadOps bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	hadOps = m.cur.req > 0 || m.cur.consumes > 0
	m.ring = append(m.ring, m.cur)
	m.ringDur = append(m.ringDur, dt)
	m.cur = eocCounts{}
	if len(m.ring) > eocWindow {
		m.ring, m.ringDur = m.ring[1:], m.ringDur[1:]
	}
	var s eocCounts
	var secs float64
	for i, c := range m.ring {
		s.req += c.req
		s.errs += c.errs
		s.consumes += c.consumes
		s.anomalies += c.anomalies
		secs += m.ringDur[i].Seconds()
	}
	var ar, er, rps float64
	if s.consumes > 0 {
		ar = float64(s.anomalies) / float64(s.consumes)
	}
	if s.req > 0 {
		er = float64(s.errs) / float64(s.req)
		if m.anomalyAsError {
			er = math.Min(1, float64(s.errs+s.anomalies)/float64(s.req)) // defect: an anomaly counted as an error
		}
	}
	if secs > 0 {
		rps = float64(s.req) / secs
	}
	load := math.Min(rps/eocLoadTarget, 1)
	raw := clamp(0.55+0.10*load-0.15*ar-0.25*er, 0.1, 0.9)
	m.score = clamp(step(m.score, m.score+0.3*(raw-m.score), 0.05), 0.1, 0.9)
	m.regen = clamp(step(m.regen, clamp(1+(0.6-m.score), 0.8, 1.2), 0.05), 0.8, 1.2)
	m.backpr = clamp(step(m.backpr, clamp(2*er+math.Max(0, load-0.9)*5, 0, 1), 0.1), 0, 1)
	m.last = eocDecision(m.score, m.regen, m.backpr, ar, er, rps)
	return m.last, hadOps
}

// eocDecision is what a closed window journals: every figure rounded to 3
// decimals, and the band of the score as journaled (0.4996 is journaled
// 0.5, which is optimal).
func eocDecision(score, regen, backpr, ar, er, rps float64) pEoC {
	r3 := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	return pEoC{Score: r3(score), Band: bandOf(r3(score)), RegenerationFactor: r3(regen), Backpressure: r3(backpr),
		AnomalyRate: r3(ar), ErrorRate: r3(er), LoadRPS: r3(rps)}
}
