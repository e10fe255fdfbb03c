package karmastub

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"
)

// Kind names a failure mode of the stub.
type Kind string

const (
	Healthy Kind = "healthy" // answer at once
	Slow    Kind = "slow"    // answer after DelayMs
	Error   Kind = "error"   // answer Status (default 503)
	Hang    Kind = "hang"    // never answer; hold the request until the client goes away (bounded by HangMax)
	Flap    Kind = "flap"    // alternate healthy / error every FlapPeriodMs, starting healthy
	Drop    Kind = "drop"    // close the connection without an answer (KARMA crashing mid-request)
)

// Limits of a Mode, and defaults for its zero fields.
const (
	DefaultSlowDelayMs   = 500
	DefaultErrorStatus   = http.StatusServiceUnavailable
	DefaultFlapPeriodMs  = 1000
	MaxDelayMs           = 60_000
	MaxFlapPeriodMs      = 3_600_000
	DefaultHangMax       = 60 * time.Second
	maxControlBodyBytes  = 4 << 10
	minScore, maxScore   = 0.1, 0.95
	scoreDecimalsFactor  = 1e4
	errorCodeUnavailable = "karma_unavailable"
)

// Mode is the stub's behaviour, also the JSON body of POST /control.
type Mode struct {
	Kind         Kind `json:"mode"`
	DelayMs      int  `json:"delay_ms,omitempty"`       // slow: delay of each answer
	Status       int  `json:"status,omitempty"`         // error, flap: status of a failed answer (400..599)
	FlapPeriodMs int  `json:"flap_period_ms,omitempty"` // flap: length of each healthy or error phase
}

// Validate checks the kind and the limits; zero fields are valid (defaults).
func (m Mode) Validate() error {
	switch m.Kind {
	case Healthy, Slow, Error, Hang, Flap, Drop:
	default:
		return fmt.Errorf("karmastub: unknown mode %q (want healthy, slow, error, hang, flap or drop)", m.Kind)
	}
	if m.DelayMs < 0 || m.DelayMs > MaxDelayMs {
		return fmt.Errorf("karmastub: delay_ms %d outside [0,%d]", m.DelayMs, MaxDelayMs)
	}
	if m.Status != 0 && (m.Status < 400 || m.Status > 599) {
		return fmt.Errorf("karmastub: status %d outside [400,599]", m.Status)
	}
	if m.FlapPeriodMs < 0 || m.FlapPeriodMs > MaxFlapPeriodMs {
		return fmt.Errorf("karmastub: flap_period_ms %d outside [0,%d]", m.FlapPeriodMs, MaxFlapPeriodMs)
	}
	return nil
}

func (m Mode) withDefaults() Mode {
	if m.Kind == Slow && m.DelayMs == 0 {
		m.DelayMs = DefaultSlowDelayMs
	}
	if (m.Kind == Error || m.Kind == Flap) && m.Status == 0 {
		m.Status = DefaultErrorStatus
	}
	if m.Kind == Flap && m.FlapPeriodMs == 0 {
		m.FlapPeriodMs = DefaultFlapPeriodMs
	}
	return m
}

// State is the answer of GET /control: the mode, since when, and counters.
type State struct {
	Mode
	Seed  int64     `json:"seed"`
	Since time.Time `json:"since"`
	// Served counts score and health requests received, by the mode in force.
	Served         map[Kind]uint64 `json:"served"`
	ScoreRequests  uint64          `json:"score_requests"`
	HealthRequests uint64          `json:"health_requests"`
	Failed         uint64          `json:"failed"` // answered with an error status, dropped, or hung
}

// Server is the fake KARMA. Create it with New; it is an http.Handler.
type Server struct {
	// HangMax bounds how long a hung or delayed request is held. Set it
	// before serving; zero means DefaultHangMax.
	HangMax time.Duration
	// Log receives mode changes; nil discards them. Set it before serving.
	Log *slog.Logger

	seed      int64
	mux       *http.ServeMux
	closed    chan struct{}
	closeOnce sync.Once

	mu    sync.Mutex
	mode  Mode
	since time.Time
	stats State // counters only
}

// New returns a healthy stub whose scores derive from seed.
func New(seed int64) *Server {
	s := &Server{
		seed:   seed,
		mux:    http.NewServeMux(),
		closed: make(chan struct{}),
		mode:   Mode{Kind: Healthy},
		since:  time.Now(),
		stats:  State{Served: map[Kind]uint64{}},
	}
	s.mux.HandleFunc("GET /v1/score/{agent_id}", s.handleScore)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /control", s.handleGetControl)
	s.mux.HandleFunc("POST /control", s.handlePostControl)
	return s
}

// ScoreFor is the stub's deterministic score of agentID under seed:
// FNV-1a of the seed and the id, mixed (FNV-1a alone moves only its low
// bits for a different last byte, so "a1" and "a2" scored alike), mapped
// into [0.1, 0.95], 4 decimals.
func ScoreFor(seed int64, agentID string) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(agentID))
	u := float64(mix64(h.Sum64())>>11) / (1 << 53) // uniform in [0,1)
	v := minScore + (maxScore-minScore)*u
	return math.Round(v*scoreDecimalsFactor) / scoreDecimalsFactor
}

// mix64 is MurmurHash3's 64-bit finalizer: every input bit moves about
// half the output bits.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetMode switches the behaviour for requests arriving from now on.
func (s *Server) SetMode(m Mode) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m = m.withDefaults()
	s.mu.Lock()
	s.mode, s.since = m, time.Now()
	s.mu.Unlock()
	if s.Log != nil {
		s.Log.Info("karma stub mode set", "mode", m.Kind, "delay_ms", m.DelayMs, "status", m.Status, "flap_period_ms", m.FlapPeriodMs)
	}
	return nil
}

// State returns the mode and a copy of the counters.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Mode, st.Seed, st.Since = s.mode, s.seed, s.since
	st.Served = make(map[Kind]uint64, len(s.stats.Served))
	for k, v := range s.stats.Served {
		st.Served[k] = v
	}
	return st
}

// Close releases every hung or delayed request (they answer 503) so an
// http.Server can shut down promptly. The stub keeps serving afterwards,
// but hang and slow no longer wait.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

func (s *Server) handleScore(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	s.serve(w, r, true, func() {
		writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "score": ScoreFor(s.seed, id)})
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, false, func() { writeJSON(w, http.StatusOK, map[string]string{"status": "ok"}) })
}

// serve applies the current mode to a dependency request; answer writes the
// healthy answer. The health endpoint obeys the mode too, otherwise a
// client's health probe would close its breaker while scores still fail.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, score bool, answer func()) {
	s.mu.Lock()
	m, since := s.mode, s.since
	s.stats.Served[m.Kind]++
	if score {
		s.stats.ScoreRequests++
	} else {
		s.stats.HealthRequests++
	}
	s.mu.Unlock()

	switch m.Kind {
	case Healthy:
		answer()
	case Slow:
		if !s.wait(r, time.Duration(m.DelayMs)*time.Millisecond) {
			s.fail(w, http.StatusServiceUnavailable, "released before the delay ended")
			return
		}
		answer()
	case Error:
		s.fail(w, m.Status, "mode error")
	case Hang:
		s.wait(r, s.hangMax())
		s.fail(w, http.StatusServiceUnavailable, "hang released")
	case Flap:
		period := time.Duration(m.FlapPeriodMs) * time.Millisecond
		if (time.Since(since)/period)%2 == 1 {
			s.fail(w, m.Status, "mode flap, error phase")
			return
		}
		answer()
	case Drop:
		s.countFailed()
		// ErrAbortHandler makes net/http close the connection without an
		// answer and without logging a panic.
		panic(http.ErrAbortHandler)
	}
}

// wait holds the request for d; false if the client went away or Close was called first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d > s.hangMax() {
		d = s.hangMax()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

func (s *Server) hangMax() time.Duration {
	if s.HangMax > 0 {
		return s.HangMax
	}
	return DefaultHangMax
}

func (s *Server) countFailed() {
	s.mu.Lock()
	s.stats.Failed++
	s.mu.Unlock()
}

func (s *Server) fail(w http.ResponseWriter, status int, detail string) {
	s.countFailed()
	writeJSON(w, status, map[string]string{"detail": "karma stub: " + detail, "code": errorCodeUnavailable})
}

func (s *Server) handleGetControl(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) handlePostControl(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBodyBytes))
	dec.DisallowUnknownFields()
	var m Mode
	if err := dec.Decode(&m); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": err.Error(), "code": "body_too_large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "karmastub: malformed mode: " + err.Error(), "code": "malformed_json"})
		return
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "karmastub: trailing data after the mode", "code": "malformed_json"})
		return
	}
	if err := s.SetMode(m); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"detail": err.Error(), "code": "invalid_field"})
		return
	}
	writeJSON(w, http.StatusOK, s.State())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do about it
}
