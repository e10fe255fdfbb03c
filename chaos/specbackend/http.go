package specbackend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// Roles from CREDITD_TOKENS.
const (
	RoleReader   = "reader"
	RoleOperator = "operator"
	RoleService  = "service"
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

type authClass int

const (
	authPublic authClass = iota
	authRead
	authMutate
	authDecide
)

// Principal is an authenticated caller.
type Principal struct {
	ID   string
	Role string
}

// ParseTokens parses "token=principal:role,...".
func ParseTokens(s string) (map[string]Principal, error) {
	out := map[string]Principal{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tok, rest, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tokens: %q: want token=principal:role", part)
		}
		id, role, ok := strings.Cut(rest, ":")
		if !ok || tok == "" || id == "" {
			return nil, fmt.Errorf("tokens: %q: want token=principal:role", part)
		}
		switch role {
		case RoleReader, RoleOperator, RoleService, RoleApprover, RoleAdmin:
		default:
			return nil, fmt.Errorf("tokens: %q: unknown role %q", part, role)
		}
		out[tok] = Principal{ID: id, Role: role}
	}
	return out, nil
}

// ServerConfig configures the HTTP layer.
type ServerConfig struct {
	Tokens       map[string]Principal // nil or empty: dev mode (principal from the body)
	MaxBodyBytes int64                // default 64 KiB
	Logger       *slog.Logger
}

type route struct {
	method, path, summary string
	auth                  authClass
	h                     func(*reqCtx) *Response
}

type routeStats struct {
	count [6]atomic.Int64 // by status class 0..5
	latNs atomic.Int64
}

// Server translates HTTP to engine calls; it never touches the journal or projections.
type Server struct {
	e        *Engine
	cfg      ServerConfig
	log      *slog.Logger
	mux      *http.ServeMux
	routes   []route
	stats    sync.Map // "METHOD path" -> *routeStats
	inflight atomic.Int64
}

// NewServer builds the handler tree for an engine.
func NewServer(e *Engine, cfg ServerConfig) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{e: e, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.routes = s.routeTable()
	byPath := map[string][]route{}
	var paths []string
	for _, rt := range s.routes {
		if _, ok := byPath[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	for _, p := range paths {
		rts := byPath[p]
		s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			for _, rt := range rts {
				if rt.method == r.Method || (rt.method == http.MethodGet && r.Method == http.MethodHead) {
					s.serve(w, r, rt)
					return
				}
			}
			var allow []string
			for _, rt := range rts {
				allow = append(allow, rt.method)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, 405, map[string]any{"detail": "method " + r.Method + " not allowed; allowed: " + strings.Join(allow, ", "), "code": "method_not_allowed"})
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"detail": "no route " + r.URL.Path, "code": "not_found"})
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type reqCtx struct {
	s         *Server
	r         *http.Request
	w         http.ResponseWriter
	principal *Principal
	fields    map[string]json.RawMessage
	allowed   map[string]bool
	route     string // "METHOD path" as in the route table
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) {
	t0 := time.Now()
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	rc := &reqCtx{s: s, r: r, w: w, route: rt.method + " " + rt.path}
	var resp *Response
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("handler panic", "route", rt.method+" "+rt.path, "panic", fmt.Sprint(p))
				resp = errResp(apiErr(500, "internal", "internal error"))
			}
		}()
		if ae := s.authorize(rc, rt.auth); ae != nil {
			resp = errResp(ae)
			return
		}
		resp = rt.h(rc)
	}()
	if resp == nil { // handler wrote the body itself
		s.observe(rt, 200, t0)
		return
	}
	if resp.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if rt.auth == authMutate || rt.auth == authDecide {
		s.e.eoc.request(resp.Status >= 500)
	}
	writeJSON(w, resp.Status, resp.Body)
	s.observe(rt, resp.Status, t0)
	if resp.Status >= 500 {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", resp.Status)
	}
}

func (s *Server) observe(rt route, status int, t0 time.Time) {
	key := rt.method + " " + rt.path
	v, ok := s.stats.Load(key)
	if !ok {
		v, _ = s.stats.LoadOrStore(key, &routeStats{})
	}
	st := v.(*routeStats)
	if c := status / 100; c >= 0 && c < 6 {
		st.count[c].Add(1)
	}
	st.latNs.Add(int64(time.Since(t0)))
}

func (s *Server) authorize(rc *reqCtx, class authClass) *APIError {
	if class == authPublic || len(s.cfg.Tokens) == 0 {
		return nil
	}
	h := rc.r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return apiErr(401, "unauthorized", "missing bearer token")
	}
	p, ok := s.cfg.Tokens[strings.TrimSpace(tok)]
	if !ok {
		return apiErr(401, "unauthorized", "invalid bearer token")
	}
	rc.principal = &p
	allowed := true
	switch class {
	case authMutate:
		allowed = p.Role == RoleOperator || p.Role == RoleService || p.Role == RoleAdmin
	case authDecide:
		allowed = p.Role == RoleApprover || p.Role == RoleAdmin
		if p.Role == RoleService && rc.s.e.cfg.Defects.Has(DefectH9ServiceRoleDecides) {
			allowed = true // defect: service accounts taken for trusted deciders
		}
	}
	if !allowed {
		return apiErr(403, "forbidden", fmt.Sprintf("role %s may not call this route", p.Role))
	}
	return nil
}

// decode reads a JSON object body and remembers which fields a handler may read.
// decode reads the JSON body; members other than the route's
// requestBodies (and idempotency_key) are refused.
func (rc *reqCtx) decode() *APIError {
	rc.allowed = map[string]bool{"idempotency_key": true}
	for _, a := range requestBodies[rc.route] {
		rc.allowed[a] = true
	}
	data, err := io.ReadAll(http.MaxBytesReader(rc.w, rc.r.Body, rc.s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) && !rc.s.e.cfg.Defects.Has(DefectH13BodyTooLarge400) { // defect: a cut body is taken for bad JSON
			return apiErr(413, "payload_too_large", fmt.Sprintf("request body exceeds %d bytes", rc.s.cfg.MaxBodyBytes))
		}
		return apiErr(400, "bad_request", "cannot read body: "+err.Error())
	}
	rc.fields = map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return apiErr(400, "malformed_json", "malformed JSON: "+err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return apiErr(400, "malformed_json", "body must be a JSON object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return apiErr(400, "malformed_json", "malformed JSON: "+err.Error())
		}
		k := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return apiErr(400, "malformed_json", "malformed JSON: "+err.Error())
		}
		if _, dup := rc.fields[k]; dup {
			return fieldErr(k, "duplicate field")
		}
		rc.fields[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return apiErr(400, "malformed_json", "malformed JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return apiErr(400, "malformed_json", "malformed JSON: trailing data after the object")
	}
	var unknown []string
	for k := range rc.fields {
		if !rc.allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 && rc.s.e.cfg.Defects.Has(DefectH14UnknownFieldsSecondaryIgnored) {
		switch rc.route {
		case "POST " + api + "/agents", "POST " + api + "/consume", "POST " + api + "/refund", "POST " + api + "/add":
		default:
			for _, k := range unknown {
				delete(rc.fields, k) // defect: the strict decoder guards the original's routes only
			}
			unknown = nil
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return &APIError{Status: 422, Code: "unknown_field", Detail: "unknown field(s): " + strings.Join(unknown, ", "), Extra: map[string]any{"field": unknown[0]}}
	}
	// actor_id is accepted on every route, and read only where the acting
	// principal comes from it: wherever it is sent, it must be a string.
	if v, ok := rc.fields["actor_id"]; ok && string(v) != "null" {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return fieldErr("actor_id", "must be a string")
		}
	}
	return nil
}

func (rc *reqCtx) raw(name string) (json.RawMessage, bool) {
	v, ok := rc.fields[name]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

func validText(s string, ident bool) string {
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "must not contain control characters"
		}
		if ident && (r == '/' || unicode.IsSpace(r)) {
			return "must not contain '/' or whitespace"
		}
	}
	return ""
}

// str reads a string field; ident fields (ids) are 1..128 chars without '/' or spaces.
func (rc *reqCtx) str(name string, required, ident bool) (string, *APIError) {
	v, ok := rc.raw(name)
	if !ok {
		if required {
			return "", fieldErr(name, "is required")
		}
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", fieldErr(name, "must be a string")
	}
	max := 1000
	if ident {
		s = strings.TrimSpace(s)
		max = 128
	}
	if required && s == "" {
		return "", fieldErr(name, "must not be empty")
	}
	if len(s) > max {
		return "", fieldErr(name, fmt.Sprintf("longer than %d bytes", max))
	}
	if why := validText(s, ident); why != "" {
		return "", fieldErr(name, why)
	}
	return s, nil
}

func (rc *reqCtx) optStr(name string, ident bool) (*string, *APIError) {
	if _, ok := rc.raw(name); !ok {
		return nil, nil
	}
	s, ae := rc.str(name, false, ident)
	if ae != nil {
		return nil, ae
	}
	if s == "" && ident {
		return nil, nil
	}
	return &s, nil
}

func (rc *reqCtx) amount(name string) (int64, *APIError) {
	v, ok := rc.raw(name)
	if !ok {
		return 0, fieldErr(name, "is required")
	}
	m, why := parseAmountMilli(v, rc.s.e.cfg.MaxAmountMilli)
	if rc.s.e.cfg.Defects.Has(DefectH9AmountExponentDecimals) {
		m, why = parseAmountMilliTextual(v, rc.s.e.cfg.MaxAmountMilli)
	}
	if why == "" && m >= rc.s.e.cfg.MaxAmountMilli && rc.s.e.cfg.Defects.Has(DefectH11AmountMaxExclusive) {
		why = "exceeds the maximum of " + formatMilli(rc.s.e.cfg.MaxAmountMilli).String() + " credits" // defect: the maximum itself refused
	}
	if why != "" {
		return 0, fieldErr(name, why)
	}
	if rc.s.e.cfg.Defects.Has(DefectH14AmountFloatTruncation) {
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err == nil && int64(f*MilliPerCredit) > 0 {
			m = int64(f * MilliPerCredit) // defect: validated exactly, converted through float64 and truncated
		}
	}
	return m, nil
}

func (rc *reqCtx) unit(name string, required bool) (*int64, *APIError) {
	v, ok := rc.raw(name)
	if !ok {
		if required {
			return nil, fieldErr(name, "is required")
		}
		return nil, nil
	}
	p, why := parseUnitPPM(v)
	if why != "" {
		return nil, fieldErr(name, why)
	}
	return &p, nil
}

// principalFor picks the acting principal: the token's, else the body field (dev mode).
func (rc *reqCtx) principalFor(field string, required bool) (string, *APIError) {
	if rc.principal != nil {
		return rc.principal.ID, nil
	}
	s, ae := rc.str(field, required, true)
	if ae != nil {
		return "", ae
	}
	if s == "" {
		s = "anonymous"
	}
	return s, nil
}

// req builds the shared part of a mutation (key, principal, correlation id).
func (rc *reqCtx) req(actorField string, actorRequired bool) (Req, *APIError) {
	actor, ae := rc.principalFor(actorField, actorRequired)
	if ae != nil {
		return Req{}, ae
	}
	hk := strings.TrimSpace(rc.r.Header.Get("Idempotency-Key"))
	bk, ae := rc.str("idempotency_key", false, false)
	if ae != nil {
		return Req{}, ae
	}
	if rc.s.e.cfg.Defects.Has(DefectH13BodyKeyMoneyOnly) {
		switch rc.route {
		case "POST " + api + "/consume", "POST " + api + "/refund", "POST " + api + "/add", "POST " + api + "/withdraw":
		default:
			bk = "" // defect: the body key is read on the original's money routes only
		}
	}
	if hk != "" && bk != "" && hk != bk {
		return Req{}, fieldErr("idempotency_key", "differs from the Idempotency-Key header")
	}
	key := hk
	if key == "" {
		key = bk
	}
	if len(key) > 200 {
		return Req{}, fieldErr("idempotency_key", "longer than 200 bytes")
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e || c == '~' {
			return Req{}, fieldErr("idempotency_key", "must be printable ASCII without spaces or '~'")
		}
	}
	corr := strings.TrimSpace(rc.r.Header.Get("X-Correlation-ID"))
	if len(corr) > 128 || validText(corr, true) != "" {
		corr = ""
	}
	return Req{Key: key, Actor: actor, Corr: corr}, nil
}

func (rc *reqCtx) pathID(name string) (string, *APIError) {
	v := strings.TrimSpace(rc.r.PathValue(name))
	if v == "" || len(v) > 128 || validText(v, true) != "" {
		return "", fieldErr(name, "invalid path parameter")
	}
	return v, nil
}

func (rc *reqCtx) queryInt(name string, def, lo, hi int64) (int64, *APIError) {
	s := rc.r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo {
		return 0, fieldErr(name, fmt.Sprintf("must be an integer >= %d", lo))
	}
	return min(n, hi), nil
}

func ok200(b any) *Response { return &Response{Status: 200, Body: b} }

type jsonRaw = json.RawMessage

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
