package httpapi

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

// Server is the HTTP face of one engine.
type Server struct {
	eng       *engine.Engine
	tokens    Tokens
	log       *slog.Logger
	maxAmount int64
	mux       *http.ServeMux
	metrics   *metrics
	version   string
	timeout   time.Duration
	exports   chan struct{} // GET /events slots (MaxExports)
}

// Options configure a Server.
type Options struct {
	Tokens         Tokens
	Logger         *slog.Logger
	MaxAmountMilli int64
	Version        string
	// RequestTimeout bounds one request inside the engine (default 10s).
	RequestTimeout time.Duration
}

// New builds the handler tree.
func New(eng *engine.Engine, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxAmountMilli <= 0 {
		o.MaxAmountMilli = money.DefaultMaxMilli
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	s := &Server{eng: eng, tokens: o.Tokens, log: o.Logger, maxAmount: o.MaxAmountMilli,
		mux: http.NewServeMux(), metrics: newMetrics(), version: o.Version, timeout: o.RequestTimeout,
		exports: make(chan struct{}, MaxExports)}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !rw.wrote {
				s.writeError(rw, &apiError{http.StatusInternalServerError, "internal", "internal error"})
			}
		}
		_, pattern := s.mux.Handler(r)
		s.metrics.observe(r.Method, pattern, rw.status, time.Since(start))
	}()
	if len(r.TransferEncoding) > 0 {
		refuseTransferEncoding(s, rw)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// refuseTransferEncoding answers a request that came with Transfer-Encoding
// (net/http accepts only chunked) and closes the connection. Content-Length
// beside chunked is the request-smuggling shape (RFC 9112 §6.1: close the
// connection after it), but net/http deletes the Content-Length before a
// handler runs, so the two cannot be told apart here: every chunked request
// is refused. Bodies are at most MaxBodyBytes of JSON; clients send them
// with a Content-Length. Connection: close makes net/http close after this
// response, so nothing pipelined behind the request runs.
func refuseTransferEncoding(s *Server, w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	s.writeError(w, &apiError{http.StatusBadRequest, "transfer_encoding_refused",
		"a request body must be sent with Content-Length, not Transfer-Encoding: chunked (a request with both is refused and the connection closed)"})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines, flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

const prefix = "/api/credits"

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /api/health", s.health)
	m.HandleFunc("GET "+prefix+"/health", s.health)
	m.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "alive"}) })
	m.HandleFunc("GET /readyz", s.ready)
	m.HandleFunc("GET "+prefix+"/info", s.read(s.info))
	m.HandleFunc("POST "+prefix+"/agents", s.createAgent)
	m.HandleFunc("POST "+prefix+"/consume", s.credit("consume"))
	m.HandleFunc("POST "+prefix+"/refund", s.credit("refund"))
	m.HandleFunc("POST "+prefix+"/add", s.credit("add"))
	m.HandleFunc("POST "+prefix+"/withdraw", s.credit("withdraw"))
	m.HandleFunc("GET "+prefix+"/balance/{agent_id}", s.read(s.balance))
	m.HandleFunc("GET "+prefix+"/balances", s.read(s.balances))
	m.HandleFunc("GET "+prefix+"/history/{agent_id}", s.read(s.history))
	m.HandleFunc("GET "+prefix+"/metrics", s.read(s.jsonMetrics))
	m.HandleFunc("GET /metrics", s.read(s.promMetrics))

	m.HandleFunc("POST "+prefix+"/approvals", s.requestApproval)
	m.HandleFunc("GET "+prefix+"/approvals", s.read(s.listApprovals))
	m.HandleFunc("GET "+prefix+"/approvals/audit", s.read(s.audit))
	m.HandleFunc("GET "+prefix+"/approvals/{id}", s.read(s.getApproval))
	m.HandleFunc("POST "+prefix+"/approvals/{id}/approve", s.decide(true))
	m.HandleFunc("POST "+prefix+"/approvals/{id}/reject", s.decide(false))

	m.HandleFunc("POST "+prefix+"/synergie/collaborations", s.collaboration)
	m.HandleFunc("GET "+prefix+"/synergie/{agent_id}", s.read(s.synergie))

	m.HandleFunc("POST "+prefix+"/pools", s.createPool)
	m.HandleFunc("GET "+prefix+"/pools/{id}", s.read(s.getPool))
	m.HandleFunc("POST "+prefix+"/pools/{id}/members", s.addPoolMember)
	m.HandleFunc("DELETE "+prefix+"/pools/{id}/members/{agent_id}", s.removePoolMember)
	m.HandleFunc("POST "+prefix+"/pools/{id}/allocate", s.poolMove(event.PoolAllocated))
	m.HandleFunc("POST "+prefix+"/pools/{id}/consume", s.poolMove(event.PoolConsumed))
	m.HandleFunc("POST "+prefix+"/pools/{id}/refund", s.poolMove(event.PoolRefunded))
	m.HandleFunc("POST "+prefix+"/pools/{id}/transfer", s.poolTransfer)
	m.HandleFunc("POST "+prefix+"/pools/{id}/close", s.closePool)

	m.HandleFunc("POST "+prefix+"/missions", s.startMission)
	m.HandleFunc("GET "+prefix+"/missions/{id}", s.read(s.getMission))
	m.HandleFunc("POST "+prefix+"/missions/{id}/complete", s.endMission(event.MissionCompleted))
	m.HandleFunc("POST "+prefix+"/missions/{id}/fail", s.endMission(event.MissionFailed))
	m.HandleFunc("POST "+prefix+"/missions/{id}/cancel", s.endMission(event.MissionCancelled))
	m.HandleFunc("POST "+prefix+"/missions/{id}/rate", s.rateMission)

	m.HandleFunc("GET "+prefix+"/eoc", s.read(s.eoc))
	m.HandleFunc("GET "+prefix+"/karma/status", s.read(s.karmaStatus))
	m.HandleFunc("GET "+prefix+"/events", s.read(s.events))
	m.HandleFunc("GET "+prefix+"/digest", s.read(s.digest))
	m.HandleFunc("GET "+prefix+"/journal/verify", s.read(s.verify))
	m.HandleFunc("GET "+prefix+"/openapi.json", s.openapi)
	m.HandleFunc("/", s.unmatched)
}

// probeMethods are the methods tried when a request matched no route, to
// tell a wrong method on a known path (405 with Allow) from an unknown path.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// unmatched answers 405 with an Allow header when the path is a route under
// other methods, 404 otherwise. The catch-all "/" pattern matches every
// method, so ServeMux's own 405 never fires: the routes are probed instead.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.writeError(w, &apiError{http.StatusNotFound, "not_found", "no route for " + r.Method + " " + r.URL.Path})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.writeError(w, &apiError{http.StatusMethodNotAllowed, "method_not_allowed",
		"method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allow, ", ")})
}

// read wraps a query handler with authentication.
func (s *Server) read(h func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, aerr := s.authenticate(r, accessRead); aerr != nil {
			s.writeError(w, aerr)
			return
		}
		h(w, r)
	}
}

// Keyed is embedded in every mutation body: the client idempotency key may
// come in the body or the Idempotency-Key header.
type Keyed struct {
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

func (k *Keyed) take() string { key := k.IdempotencyKey; k.IdempotencyKey = ""; return key }

// mutation is the common shape of every mutating handler: authenticate,
// decode, resolve the actor and the key, run, render.
type mutation struct {
	access access
	body   interface{ take() string }
	// actor returns the body's acting principal for dev mode.
	actor func() string
	run   func(ctx context.Context, req engine.Request) (engine.Result, error)
	// render maps a durable result to status and body; replays render the
	// same way from the same events.
	render func(res engine.Result) (int, any)
}

// requestKey is the request's idempotency key as the client wrote it
// (SPEC §3): the Idempotency-Key header or the body's idempotency_key,
// which must agree when both are sent; "" when neither is.
func requestKey(r *http.Request, bodyKey string) (string, *apiError) {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && bodyKey != "" && key != bodyKey {
		return "", &apiError{http.StatusUnprocessableEntity, "invalid", "Idempotency-Key header and idempotency_key field differ"}
	}
	if key == "" {
		key = bodyKey
	}
	return key, nil
}

func (s *Server) mutate(w http.ResponseWriter, r *http.Request, m mutation) {
	p, aerr := s.authenticate(r, m.access)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	if _, aerr := decode(w, r, m.body); aerr != nil {
		s.writeError(w, aerr)
		return
	}
	key, kerr := requestKey(r, m.body.take())
	if kerr != nil {
		s.writeError(w, kerr)
		return
	}
	// A key is printable ASCII of engine.KeyAlphabet, checked before
	// anything happens: a key with invalid UTF-8 would be kept raw in memory
	// but journaled with U+FFFD, so two keys would collapse after a restart
	// and a retry would execute again. '#' is reserved: the engine derives
	// "<key>#<n>" for a command's further events.
	if key != "" && !engine.ValidKey(key) {
		s.writeError(w, &apiError{http.StatusBadRequest, "invalid_idempotency_key",
			fmt.Sprintf("idempotency key must be 1..%d characters of %s", engine.MaxKeyLen, engine.KeyAlphabet)})
		return
	}
	actor := p.Name
	if actor == "" {
		actor = m.actor()
	}
	req := engine.Request{ActorID: actor, IdempotencyKey: key, CorrelationID: r.Header.Get("X-Correlation-ID")}
	if req.CorrelationID != "" && !engine.ValidKey(req.CorrelationID) {
		s.writeError(w, &apiError{http.StatusBadRequest, "invalid_correlation_id",
			fmt.Sprintf("X-Correlation-ID must be 1..%d characters of %s", engine.MaxKeyLen, engine.KeyAlphabet)})
		return
	}
	if key != "" {
		req.RequestHash = fingerprint(r.Method+" "+r.URL.Path+" "+actor, m.body)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	res, err := m.run(ctx, req)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	status, body := m.render(res)
	writeJSON(w, status, body)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// healthBody is the original's health shape — status "ok" and a timestamp
// — plus ours: state (healthy | degraded | failed) and why. status is
// "failed" (with 503) only when the journal failed.
func healthBody(h engine.Health) map[string]any {
	status := "ok"
	if h.Status == "failed" {
		status = "failed"
	}
	body := map[string]any{"status": status, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"state": h.Status, "journal": h.Journal, "recovery": h.Recovery, "karma": h.Karma, "seq": h.Seq, "uptime": h.Uptime}
	if h.JournalErr != "" {
		body["journal_error"] = h.JournalErr
	}
	if len(h.Reasons) > 0 {
		body["reasons"] = h.Reasons
	}
	return body
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	h := s.eng.Health()
	status := http.StatusOK
	if h.Status == "failed" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, healthBody(h))
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	h := s.eng.Health()
	// Not ready while commands would fail: the journal failed, or the event
	// store cannot be reached.
	if h.Status == "failed" || h.Journal == "store_unavailable" {
		writeJSON(w, http.StatusServiceUnavailable, healthBody(h))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "creditd", "version": s.version, "storage": st.Storage, "seq": st.Seq,
		"fsync_enabled": st.FsyncEnabled, "auth": len(s.tokens) > 0,
		"features": []string{"approvals", "synergie", "karma", "anomaly_detection", "edge_of_chaos", "pools", "missions"},
		// The original's config section: every state change here is an event.
		"config": map[string]any{"event_sourcing_enabled": true, "event_sourcing_metrics": map[string]any{
			"total_events": st.TotalEvents, "file_path": st.StoreLocation, "fsync_enabled": st.FsyncEnabled}},
	})
}

func pathInt(r *http.Request, name string, def, lo, hi int) (int, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &apiError{http.StatusUnprocessableEntity, "invalid", name + " must be an integer within " + strconv.Itoa(lo) + ".." + strconv.Itoa(hi)}
	}
	return n, nil
}

// metaView renders event metadata for responses (nil-safe).
func metaView(ev *event.Envelope) any {
	if ev.Metadata == nil {
		return map[string]any{}
	}
	m := *ev.Metadata
	m.RequestHash = ""
	return m
}

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiDoc)
}
