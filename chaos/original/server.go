package original

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	maxBodyBytes      = 64 << 10
	maxIDLen          = 256
	maxReasonLen      = 1000
	maxKeyLen         = 255
	maxHistoryInMem   = 10_000 // newest ledger entries kept per agent
	defaultHistoryLim = 100
	maxHistoryLimit   = 1000
	// apply5xxEvery: with ApplyThen5xx every this many-th write is applied
	// and journaled but answered 500.
	apply5xxEvery = 7
	// lazySyncEvery: with LazyFsync the journal syncs every this many-th
	// append only.
	lazySyncEvery = 8
	// idemCacheCap: with H12KeyCacheBounded only this many newest
	// Idempotency-Keys are kept.
	idemCacheCap = 1000
	// overdraftToleranceMilli: with H12OverdraftTolerance a consume may
	// exceed the balance by this much (0.01 credits).
	overdraftToleranceMilli = 10
	version                 = "1.0.0"
)

// Config configures a Server. The zero value needs only DataDir.
type Config struct {
	// DataDir holds the journal (JournalName); created if missing.
	DataDir string
	// Defects switched on (none: a correct backend).
	Defects Defects
	// OpenAPI serves GET /openapi.json (as FastAPI would). Off by default,
	// so the harness must discover the routes by probing.
	OpenAPI bool
	// NoFsync skips the fsync after each journal line (tests only; the
	// durability promise is gone).
	NoFsync bool
	// Logger receives start and failure messages (default: discarded).
	Logger *slog.Logger
}

// Server is the backend: state, journal and the HTTP handler.
type Server struct {
	cfg   Config
	float bool // money as float64 (FloatMoney or AcceptNonFinite)
	log   *slog.Logger

	mu       sync.RWMutex
	agents   map[string]*agent
	idem     map[string]idemEntry
	seq      int64
	j        *journal
	damage   []damage         // found at start; reported by health
	writes   int64            // successful writes since start (ApplyThen5xx)
	appended int64            // events appended since start
	byType   map[string]int64 // events folded, by event_type

	replaying bool        // Open is folding the journal (RefundReplaySign)
	idemLater []*event    // keyed events whose answer is built after replay (H8RetryBodyAfterRestart)
	idemOrder []string    // cached keys, oldest first (H12KeyCacheBounded)
	ids       *mrand.Rand // event ids with SeededEventIDs

	replayEvents   int64
	replayDuration time.Duration
	replayAt       time.Time
}

type agent struct {
	balance money
	skill   string
	history []histEntry // oldest first, the newest maxHistoryInMem
	total   int
	// The anomaly norm, a fold of the agent's unflagged consumes: a consume
	// at anomalyFactor × their mean (after normMin of them) is flagged,
	// never refused.
	consumes int
	consumed float64
}

// normMin consumes make a norm; anomalyFactor × the norm is an anomaly.
// SPEC §5's anomalies are consumes at 10× the norm; flagging from 5× keeps
// every one of them flagged while the mean of normal consumes drifts.
const (
	normMin       = 5
	anomalyFactor = 5
)

// anomalous reports whether a consume of amount is ≥ 5× the agent's norm.
func (a *agent) anomalous(amount string) bool {
	f, err := strconv.ParseFloat(amount, 64)
	return err == nil && a.consumes >= normMin && f >= anomalyFactor*a.consumed/float64(a.consumes)
}

type histEntry struct {
	EventID      string  `json:"event_id"`
	Timestamp    string  `json:"timestamp"`
	EntityID     string  `json:"entity_id"`
	EntityType   string  `json:"entity_type"`
	Amount       money   `json:"amount"`
	BalanceAfter money   `json:"balance_after"`
	Reason       string  `json:"reason"`
	MissionID    *string `json:"mission_id"`
}

type idemEntry struct {
	hash string
	body []byte
	// restored: rebuilt from the journal at start (H12ReplayHeaderLiveOnly).
	restored bool
}

// Open replays the journal in cfg.DataDir and returns a Server ready to
// serve. Damage found in the journal does not stop it (health reports it);
// an unopenable journal for appends does not either (reads work, writes
// and health answer 503).
func Open(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("original: no data directory")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Defects == nil {
		cfg.Defects = Defects{}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("original: data dir: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		float:  cfg.Defects[FloatMoney] || cfg.Defects[AcceptNonFinite],
		log:    cfg.Logger,
		agents: map[string]*agent{},
		idem:   map[string]idemEntry{},
		byType: map[string]int64{},
	}
	path := filepath.Join(cfg.DataDir, JournalName)
	start := time.Now()
	res, err := readJournal(path, cfg.Defects[H10CRCWarnOnly], cfg.Defects[H12GapDropsNext])
	if err != nil {
		return nil, err
	}
	silent := cfg.Defects[DropTornSilently]
	if res.tornCut >= 0 && !silent {
		side, err := cutTornTail(path, res, time.Now())
		if err != nil {
			return nil, err
		}
		res.damage[len(res.damage)-1].Reason += ", moved to " + filepath.Base(side)
	}
	s.replaying = true
	for _, ev := range res.events {
		if why := s.applyLocked(ev); why != "" {
			res.damage = append(res.damage, damage{ev.line, "seq " + strconv.FormatInt(ev.Seq, 10) + ": " + why})
			continue
		}
		s.seq = ev.Seq
		s.replayEvents++
	}
	s.replaying = false
	for _, ev := range s.idemLater { // H8RetryBodyAfterRestart: answers from the final state
		k := s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)
		e := s.idem[k]
		e.body = responseBody(ev, s.agents[ev.Payload.AgentID].balance)
		s.idem[k] = e
	}
	s.idemLater = nil
	if len(res.events) > 0 {
		s.seq = res.events[len(res.events)-1].Seq
	}
	if cfg.Defects[H10SeqFromCount] {
		s.seq = s.replayEvents // the next write is seq = events replayed + 1
	}
	if cfg.Defects[ForgetKeysOnRestart] {
		// The key cache is warmed by live writes only; the journal's keys
		// are not loaded back.
		s.idem = map[string]idemEntry{}
	}
	if cfg.Defects[SeededEventIDs] {
		s.ids = mrand.New(mrand.NewPCG(42, 42)) // reproducible ids
	}
	s.replayDuration, s.replayAt = time.Since(start), time.Now()
	if !silent {
		s.damage = res.damage
	}
	s.j = &journal{path: path, size: res.size, fsync: !cfg.NoFsync}
	if cfg.Defects[LazyFsync] {
		s.j.syncEvery = lazySyncEvery
	}
	s.j.f, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.j.err = fmt.Errorf("journal: open %s for appends: %w", path, err)
		s.log.Error("journal not writable; serving reads only", "err", err)
	}
	for _, d := range s.damage {
		s.log.Warn("journal damage found at start", "file", path, "line", d.Line, "reason", d.Reason)
	}
	s.log.Info("replayed journal", "file", path, "events", s.replayEvents, "damaged_lines", len(res.damage),
		"took", s.replayDuration.Round(time.Microsecond), "defects", cfg.Defects.String())
	return s, nil
}

// Close closes the journal file.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.j.f == nil {
		return nil
	}
	err := s.j.f.Close()
	if s.j.err == nil {
		s.j.err = errors.New("journal: closed")
	}
	return err
}

// JournalPath is the journal file's path.
func (s *Server) JournalPath() string { return s.j.path }

// applyLocked folds one event into the state; a non-empty result says why
// it cannot apply (replay reports it as damage). Live writes decide first
// and then apply through here, so replay and live are one fold.
func (s *Server) applyLocked(ev *event) string {
	p := ev.Payload
	amt, err := parseMoneyText(p.Amount, s.float)
	if err != nil {
		return err.Error()
	}
	if s.replaying && s.cfg.Defects[H8ReplayCents] && !amt.isFloat {
		f, _ := strconv.ParseFloat(p.Amount, 64)
		amt = money{milli: int64(math.Round(f*100)) * 10} // round(float(x), 2)
	}
	a := s.agents[p.AgentID]
	signed := amt
	switch {
	case ev.EventType == typeAllocated && p.Initial:
		if a == nil {
			a = &agent{}
			s.agents[p.AgentID] = a
		}
		a.balance, a.skill = amt, p.SkillLevel
	case a == nil:
		return fmt.Sprintf("%s for unknown agent %q", ev.EventType, p.AgentID)
	case ev.EventType == typeConsumed || (s.replaying && ev.EventType == typeRefunded && s.cfg.Defects[RefundReplaySign]):
		signed = amt.neg()
		if a.balance, err = a.balance.add(signed); err != nil {
			return err.Error()
		}
		// Flagged consumes stay out of the norm, so anomalies do not
		// teach the detector that they are normal.
		normed := !(s.replaying && s.cfg.Defects[H12AnomalyNormNotReplayed]) // the norm: live consumes only
		if f, err := strconv.ParseFloat(p.Amount, 64); err == nil && normed && (ev.Metadata.AnomalyDetected == nil || !*ev.Metadata.AnomalyDetected) {
			a.consumes++
			a.consumed += f
		}
	default: // add, refund
		if a.balance, err = a.balance.add(amt); err != nil {
			return err.Error()
		}
		if ev.EventType == typeRefunded && s.cfg.Defects[H10HistoryRefundNegative] {
			signed = amt.neg() // the ledger: everything but an allocation is a debit
		}
	}
	a.total++
	s.byType[ev.EventType]++
	ts := ev.Timestamp
	if s.cfg.Defects[H10FoldClock] {
		ts = time.Now().UTC().Format(time.RFC3339Nano) // stamped when folded
	}
	mission := p.MissionID
	if s.replaying && s.cfg.Defects[H12ReplayDropsMissionID] {
		mission = nil // the replay reads it from the metadata, where it is not
	}
	a.history = append(a.history, histEntry{EventID: ev.EventID, Timestamp: ts, EntityID: p.AgentID,
		EntityType: "agent", Amount: signed, BalanceAfter: a.balance, Reason: p.Reason, MissionID: mission})
	if len(a.history) > maxHistoryInMem {
		a.history = append(a.history[:0], a.history[len(a.history)-maxHistoryInMem:]...)
	}
	if ev.IdempotencyKey != "" && ev.Metadata.RequestHash != "" {
		k := s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)
		if _, seen := s.idem[k]; !seen {
			if s.replaying && s.cfg.Defects[H8RetryBodyAfterRestart] {
				// The answer is built once replay is done (see Open).
				s.idem[k] = idemEntry{hash: ev.Metadata.RequestHash}
				s.idemLater = append(s.idemLater, ev)
			} else {
				s.idem[k] = idemEntry{hash: ev.Metadata.RequestHash, body: responseBody(ev, a.balance), restored: s.replaying}
			}
			if s.replaying && s.cfg.Defects[H12KeyConflictAfterRestart] {
				e := s.idem[k]
				e.hash = "" // the key alone is loaded back
				s.idem[k] = e
			}
			if s.cfg.Defects[H12KeyCacheBounded] {
				// A bounded cache: the oldest key makes room.
				s.idemOrder = append(s.idemOrder, k)
				if len(s.idemOrder) > idemCacheCap {
					delete(s.idem, s.idemOrder[0])
					s.idemOrder = s.idemOrder[1:]
				}
			}
		}
	}
	return ""
}

// replayTimestamp is replay.last_replay_timestamp: Unix seconds, or with
// H12ReplayTimestampMillis milliseconds.
func (s *Server) replayTimestamp() float64 {
	if s.cfg.Defects[H12ReplayTimestampMillis] {
		return float64(s.replayAt.UnixMilli())
	}
	return float64(s.replayAt.UnixNano()) / 1e9
}

// idemKey is the key cache's key of an Idempotency-Key sent to route: the
// key itself, or with H12KeyPerRoute the route and the key.
func (s *Server) idemKey(route, key string) string {
	if s.cfg.Defects[H12KeyPerRoute] {
		return route + "\x00" + key
	}
	return key
}

// ledgerAmount is how GET /history writes an entry's amount: the amount,
// or with H12HistoryNegFraction as the legacy formatter
// fmt.Sprintf("%d.%03d", m/1000, abs(m%1000)) renders it, which drops the
// sign of an amount between -1 and 0.
func (s *Server) ledgerAmount(m money) money {
	if !s.cfg.Defects[H12HistoryNegFraction] || m.isFloat {
		return m
	}
	whole, frac := m.milli/milliPerCredit, m.milli%milliPerCredit
	if frac < 0 {
		frac = -frac
	}
	txt := fmt.Sprintf("%d.%03d", whole, frac)
	if whole < 0 {
		txt = fmt.Sprintf("-%d.%03d", -whole, frac)
	}
	out, err := parseMoneyText(txt, false)
	if err != nil {
		return m
	}
	return out
}

// answerMeta is a consume answer's metadata: the anomaly verdict.
type answerMeta struct {
	AnomalyDetected bool `json:"anomaly_detected"`
}

// responseBody is the success answer of the write ev, given the balance
// after it: the original's fields plus event_id.
func responseBody(ev *event, after money) []byte {
	p := ev.Payload
	var v any
	switch {
	case p.Initial:
		v = struct {
			AgentID        string      `json:"agent_id"`
			InitialCredits money       `json:"initial_credits"`
			Balance        money       `json:"balance"`
			SkillLevel     json.Number `json:"skill_level"`
			EventID        string      `json:"event_id"`
		}{p.AgentID, after, after, json.Number(p.SkillLevel), ev.EventID}
	case ev.Metadata.Route == "add":
		amt, _ := parseMoneyText(p.Amount, after.isFloat)
		v = struct {
			AgentID      string `json:"agent_id"`
			Amount       money  `json:"amount"`
			BalanceAfter money  `json:"balance_after"`
			Reason       string `json:"reason"`
			EventID      string `json:"event_id"`
		}{p.AgentID, amt, after, p.Reason, ev.EventID}
	default:
		amt, _ := parseMoneyText(p.Amount, after.isFloat)
		var meta *answerMeta
		if ev.Metadata.AnomalyDetected != nil {
			meta = &answerMeta{AnomalyDetected: *ev.Metadata.AnomalyDetected}
		}
		v = struct {
			AgentID      string      `json:"agent_id"`
			Amount       money       `json:"amount"`
			BalanceAfter money       `json:"balance_after"`
			Reason       string      `json:"reason"`
			MissionID    *string     `json:"mission_id"`
			EventID      string      `json:"event_id"`
			Metadata     *answerMeta `json:"metadata,omitempty"`
		}{p.AgentID, amt, after, p.Reason, p.MissionID, ev.EventID, meta}
	}
	b, err := encode(v)
	if err != nil {
		panic(fmt.Sprintf("original: encode response: %v", err)) // only our own types: a bug
	}
	return b
}

// ServeHTTP routes like FastAPI: unknown path 404 {"detail":"Not Found"},
// known path with another method 405 {"detail":"Method Not Allowed"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var allowed []string
	for _, rt := range s.routes() {
		param, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		rt.h(w, r, param)
		return
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "Method Not Allowed"})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
}

type route struct {
	method  string
	pattern []string // "{}" is the one path parameter
	h       func(http.ResponseWriter, *http.Request, string)
}

func (rt route) match(segs []string) (string, bool) {
	if len(segs) != len(rt.pattern) {
		return "", false
	}
	param := ""
	for i, p := range rt.pattern {
		if p == "{}" {
			if segs[i] == "" {
				return "", false
			}
			param = segs[i]
		} else if p != segs[i] {
			return "", false
		}
	}
	return param, true
}

func (s *Server) routes() []route {
	c := func(rest ...string) []string { return append([]string{"api", "credits"}, rest...) }
	rs := []route{
		{"GET", []string{"api", "health"}, s.health},
		{"GET", c("health"), s.health},
		{"GET", c("info"), s.info},
		{"POST", c("agents"), s.write("agents")},
		{"POST", c("consume"), s.write("consume")},
		{"POST", c("refund"), s.write("refund")},
		{"POST", c("add"), s.write("add")},
		{"GET", c("balance", "{}"), s.balance},
		{"GET", c("balances"), s.balances},
		{"GET", c("history", "{}"), s.history},
		{"GET", c("metrics"), s.metrics},
	}
	if s.cfg.OpenAPI {
		rs = append(rs, route{"GET", []string{"openapi.json"}, s.openapi})
	}
	return rs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encode(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErr answers {"detail": "<code>: <msg>", "code": code, ...extra}.
func writeErr(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	body := map[string]any{"detail": code + ": " + msg, "code": code}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	jerr, dmg := s.j.err, s.damage
	s.mu.RUnlock()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if s.cfg.Defects[HealthAlwaysOK] {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "timestamp": now})
		return
	}
	switch {
	case jerr != nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "failed", "timestamp": now,
			"detail": "journal not writable, writes are refused: " + jerr.Error()})
	case len(dmg) > 0:
		parts := make([]string, 0, 5)
		for i, d := range dmg {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("and %d more", len(dmg)-5))
				break
			}
			parts = append(parts, d.String())
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "degraded", "timestamp": now,
			"detail":           fmt.Sprintf("journal %s damaged at start (%d lines): %s", JournalName, len(dmg), strings.Join(parts, "; ")),
			"integrity_errors": len(dmg)})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "timestamp": now})
	}
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	total := s.seq
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "credit-system-original", "version": version,
		"config": map[string]any{"event_sourcing_enabled": true,
			"event_sourcing_metrics": map[string]any{"total_events": total, "file_path": s.j.path}},
	})
}

func (s *Server) balance(w http.ResponseWriter, _ *http.Request, id string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.agents[id]
	if a == nil && s.cfg.Defects[UnknownBalanceZero] {
		a = &agent{balance: money{isFloat: s.float}}
	}
	if a == nil {
		writeErr(w, http.StatusNotFound, "agent_not_found", fmt.Sprintf("agent %q not found", id), nil)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		AgentID string `json:"agent_id"`
		Balance money  `json:"balance"`
	}{id, a.balance})
}

func (s *Server) balances(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[string]money, len(s.agents))
	for id, a := range s.agents {
		if s.cfg.Defects[H8BalancesSkipEmpty] && !a.balance.positive() {
			continue // only "active" agents
		}
		b := a.balance
		if s.cfg.Defects[H12BalancesCents] && !b.isFloat {
			b.milli = int64(math.Round(float64(b.milli)/10)) * 10 // round(balance, 2)
		}
		m[id] = b
	}
	writeJSON(w, http.StatusOK, struct {
		Balances    map[string]money `json:"balances"`
		TotalAgents int              `json:"total_agents"`
	}{m, len(m)})
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, id string) {
	limit := defaultHistoryLim
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistoryLimit {
			writeErr(w, http.StatusUnprocessableEntity, "validation_error",
				fmt.Sprintf("limit: must be an integer from 1 to %d", maxHistoryLimit), nil)
			return
		}
		limit = n
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.agents[id]
	if a == nil {
		writeErr(w, http.StatusNotFound, "agent_not_found", fmt.Sprintf("agent %q not found", id), nil)
		return
	}
	out := make([]histEntry, 0, min(limit, len(a.history)))
	if s.cfg.Defects[H8HistoryLimitOldest] {
		page := a.history[:min(limit, len(a.history))]
		for i := len(page) - 1; i >= 0; i-- {
			out = append(out, page[i])
		}
	} else {
		for i := len(a.history) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, a.history[i])
		}
	}
	for i := range out {
		out[i].Amount = s.ledgerAmount(out[i].Amount)
	}
	writeJSON(w, http.StatusOK, struct {
		AgentID      string      `json:"agent_id"`
		History      []histEntry `json:"history"`
		TotalEntries int         `json:"total_entries"`
	}{id, out, a.total})
}

func (s *Server) metrics(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	byType := make(map[string]int64, len(s.byType))
	for k, v := range s.byType {
		byType[k] = v
	}
	total := s.seq
	if s.cfg.Defects[MetricsCountSinceStart] {
		total = s.appended
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"journal": map[string]any{"total_events": total, "file_size_mb": float64(s.j.size) / (1 << 20),
			"idempotency_violations": 0, "file_path": s.j.path},
		// One subscriber per type: the balance projection. published_by_type
		// is ours.
		"event_bus": map[string]any{"total_published": s.appended, "total_subscriber_errors": 0,
			"subscribers_by_type": map[string]int{typeAllocated: 1, typeConsumed: 1, typeRefunded: 1},
			"published_by_type":   byType},
		"replay": map[string]any{"total_events": s.replayEvents,
			"replay_duration_seconds": s.replayDuration.Seconds(),
			"last_replay_timestamp":   s.replayTimestamp(),
			"integrity_errors_count":  len(s.damage), "snapshot_used": nil,
			"events_skipped_by_snapshot": 0, "snapshot_restore_duration_seconds": 0.0},
	})
}

// write handles POST /agents, /consume, /refund and /add: decode and
// validate, then under the lock: idempotency, rules, journal (fsynced),
// apply, answer.
func (s *Server) write(kind string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error(), nil)
			return
		}
		if len(body) > maxBodyBytes {
			writeErr(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body above %d bytes", maxBodyBytes), nil)
			return
		}
		if status, code, msg := refuseRequest(r, kind, body); status != 0 {
			if code == "bad_request" && s.cfg.Defects[H10MalformedJSON422] {
				status, code = http.StatusUnprocessableEntity, "validation_error" // as FastAPI answers a JSON decode error
			}
			writeErr(w, status, code, msg, nil)
			return
		}
		ev, ferr := s.decode(kind, body)
		if ferr != nil {
			writeErr(w, http.StatusUnprocessableEntity, "validation_error", ferr.Error(), nil)
			return
		}
		// SPEC §3: the key comes as the header or as the body's
		// idempotency_key (decode read it); both given must agree.
		key := r.Header.Get("Idempotency-Key")
		if key != "" && ev.IdempotencyKey != "" && key != ev.IdempotencyKey {
			writeErr(w, http.StatusUnprocessableEntity, "validation_error", "Idempotency-Key header and idempotency_key member differ", nil)
			return
		}
		key = or(key, ev.IdempotencyKey)
		ev.IdempotencyKey = key
		if key != "" && !s.cfg.Defects[IgnoreIdempotency] {
			h := sha256.Sum256(append([]byte(kind+"\n"), canonical(body)...))
			ev.Metadata.RequestHash = hex.EncodeToString(h[:16])
		}
		s.commit(w, kind, ev)
	}
}

// compact drops insignificant whitespace, so a retry that re-indents its
// body is still the same request.
// canonical is the body as one request whatever its spelling: members
// sorted, no whitespace, numbers as written (a JSON object is unordered,
// RFC 8259, so a retry may send its members in another order).
func canonical(b []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return compact(b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return compact(b)
	}
	return out
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// decode validates the body into an event (without seq, ids or balance).
func (s *Server) decode(kind string, body []byte) (*event, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(quotePythonTokens(body), &f); err != nil {
		return nil, &fieldError{"body", "not a JSON object: " + err.Error()}
	}
	agentID, err := strField(f, "agent_id", true, maxIDLen)
	if err != nil {
		return nil, err
	}
	if agentID == "" || strings.ContainsAny(agentID, "/?#") {
		return nil, &fieldError{"agent_id", "must be a non-empty id without / ? #"}
	}
	actor, err := strField(f, "actor_id", false, maxIDLen)
	if err != nil {
		return nil, err
	}
	bodyKey, err := strField(f, "idempotency_key", false, maxKeyLen)
	if err != nil {
		return nil, err
	}
	if !printableASCII(bodyKey) {
		return nil, &fieldError{"idempotency_key", "printable ASCII only"}
	}
	ev := &event{EventType: typeAllocated, ActorID: or(actor, "system"), SchemaVersion: 1, IdempotencyKey: bodyKey,
		Payload: payload{AgentID: agentID}, Metadata: metadata{Route: kind}}
	if kind == "agents" {
		skill, initial, err := parseSkill(f["skill_level"], s.float, s.cfg.Defects[H10SkillFloatTruncate])
		if err != nil {
			return nil, err
		}
		ev.Payload.Initial, ev.Payload.SkillLevel = true, skill
		ev.Payload.Amount, ev.Payload.Reason = initial.text(), "initial_allocation"
		return ev, nil
	}
	amt, err := parseAmount("amount", f["amount"], s.float, s.cfg.Defects[AcceptNonFinite], s.cfg.Defects[TruncateExtraDecimals],
		s.cfg.Defects[H12MaxAmountIntPart])
	if err != nil {
		return nil, err
	}
	ev.Payload.Amount = amt.text()
	if ev.Payload.Reason, err = strField(f, "reason", false, maxReasonLen); err != nil {
		return nil, err
	}
	if kind != "add" {
		m, err := strField(f, "mission_id", false, maxIDLen)
		if err != nil {
			return nil, err
		}
		if m != "" || (s.cfg.Defects[H12EmptyMissionUngated] && len(f["mission_id"]) > 0 && string(f["mission_id"]) != "null") {
			ev.Payload.MissionID = &m // with H12EmptyMissionUngated: given at all, even ""
		}
	}
	switch kind {
	case "consume":
		ev.EventType = typeConsumed
	case "refund":
		ev.EventType = typeRefunded
	}
	return ev, nil
}

// quotePythonTokens turns the bare NaN, Infinity and -Infinity that
// Python's json.dumps writes (and the original's json.loads accepted) into
// strings, so the amount rules decide about them and name the field,
// instead of a JSON syntax error.
func quotePythonTokens(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	toks := [][]byte{[]byte("NaN"), []byte("Infinity"), []byte("-Infinity")}
	out := make([]byte, 0, len(b)+8)
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			out = append(out, c)
			continue
		}
		if c == '"' {
			inStr = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, tok := range toks {
			if bytes.HasPrefix(b[i:], tok) {
				out = append(append(append(out, '"'), tok...), '"')
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out
}

func strField(f map[string]json.RawMessage, name string, required bool, maxLen int) (string, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", &fieldError{name, "field required"}
		}
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", &fieldError{name, "must be a string"}
	}
	if len(v) > maxLen {
		return "", &fieldError{name, fmt.Sprintf("longer than %d characters", maxLen)}
	}
	return v, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// afterBalanceCheck, when set, runs between OverdrawRace's balance check
// and its write (a test seam; nil in production).
var afterBalanceCheck func()

// afterAgentCheck, when set, runs between H12RegisterRace's existence
// check and its write (a test seam; nil in production).
var afterAgentCheck func()

// afterKeyCheck, when set, runs between H10KeyCheckRace's key lookup and
// its write (a test seam; nil in production).
var afterKeyCheck func()

// commit runs the decided write under the lock.
func (s *Server) commit(w http.ResponseWriter, kind string, ev *event) {
	checked := false
	if kind == "consume" && s.cfg.Defects[OverdrawRace] {
		// Refuse an overdraft under the read lock, so refusals never queue
		// behind the writer; the write below trusts this check.
		if status, body := s.precheckConsume(ev); status != 0 {
			writeRaw(w, status, body)
			return
		}
		checked = true
		if afterBalanceCheck != nil {
			afterBalanceCheck()
		}
	}
	keyChecked := false
	if ev.Metadata.RequestHash != "" && s.cfg.Defects[H10KeyCheckRace] {
		// Answer retries under the read lock, so they never queue behind
		// the writer; the write below trusts this lookup.
		s.mu.RLock()
		prev, seen := s.idem[s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)]
		s.mu.RUnlock()
		if seen {
			if prev.hash != ev.Metadata.RequestHash {
				writeRaw(w, http.StatusConflict, errBody("idempotency_key_conflict",
					"this Idempotency-Key was used with a different request", nil))
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, http.StatusOK, prev.body)
			return
		}
		keyChecked = true
		if afterKeyCheck != nil {
			afterKeyCheck()
		}
	}
	agentChecked := false
	if kind == "agents" && s.cfg.Defects[H12RegisterRace] {
		// Refuse a re-registration under the read lock, so it never queues
		// behind the writer; the write below trusts this check.
		s.mu.RLock()
		_, exists := s.agents[ev.Payload.AgentID]
		_, keyed := s.idem[s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)]
		jerr := s.j.err
		s.mu.RUnlock()
		if exists && !(keyed && ev.Metadata.RequestHash != "") && jerr == nil {
			writeRaw(w, http.StatusConflict, errBody("agent_exists", fmt.Sprintf("agent %q is already registered", ev.Payload.AgentID), nil))
			return
		}
		agentChecked = true
		if afterAgentCheck != nil {
			afterAgentCheck()
		}
	}
	s.mu.Lock()
	status, body, replayed := s.commitLocked(kind, ev, checked, keyChecked, agentChecked)
	s.mu.Unlock()
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, body)
}

func errBody(code, msg string, extra map[string]any) []byte {
	m := map[string]any{"detail": code + ": " + msg, "code": code}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := encode(m)
	return b
}

// precheckConsume is OverdrawRace's balance check under the read lock: the
// 409 of an overdraft, or 0 (also when a keyed retry, a failed journal or
// an unknown agent is for commitLocked to answer).
func (s *Server) precheckConsume(ev *event) (int, []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := &ev.Payload
	if _, seen := s.idem[s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)]; (seen && ev.Metadata.RequestHash != "") || s.j.err != nil {
		return 0, nil
	}
	a := s.agents[p.AgentID]
	if a == nil {
		return 0, nil
	}
	amt, err := parseMoneyText(p.Amount, s.float)
	if err == nil && a.balance.less(amt) {
		return http.StatusConflict, insufficientBody(a, amt, p.AgentID)
	}
	return 0, nil
}

func insufficientBody(a *agent, amt money, agentID string) []byte {
	return errBody("insufficient_credits",
		fmt.Sprintf("balance %s is below the amount %s", a.balance.text(), amt.text()),
		map[string]any{"balance": a.balance, "agent_id": agentID})
}

// commitLocked decides and writes ev. balanceChecked: a consume's balance
// was checked already (OverdrawRace); keyChecked: the key was looked up
// already (H10KeyCheckRace); agentChecked: a registration's agent was
// looked up already (H12RegisterRace).
func (s *Server) commitLocked(kind string, ev *event, balanceChecked, keyChecked, agentChecked bool) (int, []byte, bool) {
	p := &ev.Payload
	if h := ev.Metadata.RequestHash; h != "" && !keyChecked {
		if prev, ok := s.idem[s.idemKey(ev.Metadata.Route, ev.IdempotencyKey)]; ok {
			if prev.hash != h && (prev.hash != "" || !s.cfg.Defects[H12KeyConflictAfterRestart]) {
				return http.StatusConflict, errBody("idempotency_key_conflict",
					"this Idempotency-Key was used with a different request", nil), false
			}
			return http.StatusOK, prev.body, !(prev.restored && s.cfg.Defects[H12ReplayHeaderLiveOnly])
		}
	}
	if s.j.err != nil {
		return http.StatusServiceUnavailable, errBody("journal_failed", s.j.err.Error(), nil), false
	}
	a := s.agents[p.AgentID]
	amt, err := parseMoneyText(p.Amount, s.float)
	if err != nil {
		panic(fmt.Sprintf("original: decoded amount %q does not parse: %v", p.Amount, err))
	}
	after := amt
	switch {
	case kind == "agents":
		if a != nil && !s.cfg.Defects[ReregisterResets] && !agentChecked {
			return http.StatusConflict, errBody("agent_exists", fmt.Sprintf("agent %q is already registered", p.AgentID), nil), false
		}
	case a == nil:
		return http.StatusNotFound, errBody("agent_not_found", fmt.Sprintf("agent %q not found", p.AgentID), nil), false
	case kind == "consume":
		short := a.balance.less(amt)
		if s.cfg.Defects[H12OverdraftTolerance] && !amt.isFloat {
			short = a.balance.milli+overdraftToleranceMilli < amt.milli // balance < amount - 0.01
		}
		if s.cfg.Defects[H10ConsumeExactBalance] {
			short = !amt.less(a.balance) // amount >= balance: insufficient
		}
		if !balanceChecked && short {
			return http.StatusConflict, insufficientBody(a, amt, p.AgentID), false
		}
		after, err = a.balance.add(amt.neg())
		flagged := a.anomalous(amt.text())
		ev.Metadata.AnomalyDetected = &flagged
	default:
		// Credits created at or above the threshold (SPEC §5: add, and a
		// refund that names no mission) need an approval this backend
		// cannot give: refused.
		threshold := money{milli: approvalThresholdCredits * milliPerCredit, f: approvalThresholdCredits, isFloat: amt.isFloat}
		gated := !amt.less(threshold)
		if s.cfg.Defects[H8ThresholdExclusive] {
			gated = threshold.less(amt) // amount > threshold: exactly 500 passes
		}
		if (kind == "add" || (kind == "refund" && p.MissionID == nil)) && !s.cfg.Defects[MintWithoutApproval] && gated {
			return http.StatusForbidden, errBody("approval_required", fmt.Sprintf(
				"%s of %s credits needs an approval (threshold %d); this backend has no approval routes",
				kind, amt.text(), approvalThresholdCredits), nil), false
		}
		after, err = a.balance.add(amt)
	}
	if err != nil {
		return http.StatusUnprocessableEntity, errBody("validation_error", "amount: "+err.Error(), nil), false
	}
	p.BalanceAfter = after.text()
	ev.Seq = s.seq + 1
	ev.EventID = s.newEventID()
	ev.CorrelationID = newUUID()
	ev.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
	if s.cfg.Defects[H12NaiveTimestamp] {
		ev.Timestamp = time.Now().UTC().Format("2006-01-02T15:04:05.000000") // datetime.utcnow().isoformat()
	}
	if err := s.j.append(ev, kind == "refund" && s.cfg.Defects[H8RefundNoFsync]); err != nil {
		s.log.Error("journal write failed; refusing writes from now on", "err", err)
		return http.StatusServiceUnavailable, errBody("journal_failed", err.Error(), nil), false
	}
	if why := s.applyLocked(ev); why != "" {
		panic("original: a decided write does not apply: " + why)
	}
	s.seq = ev.Seq
	s.appended++
	s.writes++
	body := responseBody(ev, s.agents[p.AgentID].balance)
	if s.cfg.Defects[ApplyThen5xx] && s.writes%apply5xxEvery == 0 {
		return http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`), false
	}
	return http.StatusOK, body, false
}

// newEventID is a new event's id: random, or with SeededEventIDs drawn
// from the seeded generator (callers hold s.mu).
func (s *Server) newEventID() string {
	if s.ids == nil {
		return newUUID()
	}
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], s.ids.Uint64())
	}
	return formatUUID(b)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return formatUUID(b)
}

// formatUUID stamps b as a version 4 UUID and writes it out.
func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
