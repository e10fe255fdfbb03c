package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/scenarios/openapi"
)

// Routes is what the target serves, found at boot without any route of our
// own engine: the backend's OpenAPI document where it serves one, and a
// probe that cannot change state for every catalog route the document does
// not list (or for all of them, without a document).
type Routes struct {
	// Source says how the routes were found, for the report.
	Source string
	served map[string]bool
	why    map[string]string // route → the probe's answer when not served
	// bodies: normalized route ("POST /api/credits/pools/{}") → the
	// top-level members its documented request body names.
	bodies map[string][]string
}

// BodyMembers is scenarios.BodyDocs: the documented route serving method
// and path (a concrete path, parameters filled in) and the members its
// request body schema names; ok is false when the document names none.
// Of several templates matching a path, the one with the most literal
// segments wins ("/approvals/audit" over "/approvals/{}").
func (r Routes) BodyMembers(method, path string) (string, []string, bool) {
	segs := strings.Split(strings.TrimRight(path, "/"), "/")
	best, bestLit := "", -1
	for route := range r.bodies {
		m, p, _ := strings.Cut(route, " ")
		if m != strings.ToUpper(method) {
			continue
		}
		lit := literalMatch(strings.Split(p, "/"), segs)
		if lit < 0 {
			continue
		}
		if lit > bestLit || (lit == bestLit && route < best) {
			best, bestLit = route, lit
		}
	}
	if bestLit < 0 {
		return "", nil, false
	}
	return best, r.bodies[best], true
}

// ServesPath reports whether the backend serves the catalog route a
// request (method and concrete path) is on; a request no catalog route
// matches counts as served. Of several matching routes the one with the
// most literal segments decides ("/approvals/audit" over "/approvals/{id}").
func (r Routes) ServesPath(method, path string) bool {
	if r.served == nil {
		return true
	}
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.TrimRight(path, "/"), "/")
	best, bestLit := "", -1
	for route := range r.served {
		m, p, _ := strings.Cut(normalizeRoute(route), " ")
		if m != strings.ToUpper(method) {
			continue
		}
		if lit := literalMatch(strings.Split(p, "/"), segs); lit > bestLit {
			best, bestLit = route, lit
		}
	}
	return bestLit < 0 || r.served[best]
}

// literalMatch is how many literal segments of a template ("{}" for a
// parameter) match a path's segments, -1 when the template does not match.
func literalMatch(template, segs []string) int {
	if len(template) != len(segs) {
		return -1
	}
	lit := 0
	for i, t := range template {
		switch {
		case t == "{}":
		case t != segs[i]:
			return -1
		default:
			lit++
		}
	}
	return lit
}

// Has reports whether the backend serves a catalog route. Before discovery
// (unit tests of the harness itself) every route counts as served.
func (r Routes) Has(route string) bool { return r.served == nil || r.served[route] }

// Why names a route the backend does not serve with the probe's answer.
func (r Routes) Why(route string) string {
	if w := r.why[route]; w != "" {
		return route + " (" + w + ")"
	}
	return route
}

// Count is how many catalog routes the backend serves, of how many.
func (r Routes) Count() (served, total int) {
	for _, ok := range r.served {
		if ok {
			served++
		}
	}
	return served, len(r.served)
}

// Missing lists the catalog routes the backend does not serve, sorted.
func (r Routes) Missing() []string {
	var out []string
	for route, ok := range r.served {
		if !ok {
			out = append(out, route)
		}
	}
	sort.Strings(out)
	return out
}

// Summary is one line for the report: "target implements N of M routes
// (source); missing: …".
func (r Routes) Summary() string {
	n, m := r.Count()
	s := fmt.Sprintf("target implements %d of %d catalog routes (%s)", n, m, r.Source)
	if miss := r.Missing(); len(miss) > 0 {
		s += "; not served: " + strings.Join(miss, ", ")
	}
	if len(r.bodies) > 0 {
		s += fmt.Sprintf("; it documents %d request bodies", len(r.bodies))
	}
	return s
}

// RoutesServing is a route set where exactly the given catalog routes are
// served (for the harness's own tests and for a caller that knows them).
func RoutesServing(served ...string) Routes {
	r := Routes{Source: "given", served: map[string]bool{}, why: map[string]string{}}
	for _, route := range catalog.AllRoutes {
		r.served[route] = false
		r.why[route] = "not in the given route set"
	}
	for _, route := range served {
		r.served[route] = true
		delete(r.why, route)
	}
	return r
}

// probeID fills path parameters: no backend has an entity by that name, so a
// probe of a served route is refused (404 for the entity, 422 for the body)
// and changes nothing.
const probeID = "creditgate-probe-absent"

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// DiscoverRoutes finds which catalog routes the backend at base serves.
func DiscoverRoutes(ctx context.Context, base, token string) Routes {
	hc := &http.Client{Timeout: 5 * time.Second}
	r := Routes{served: map[string]bool{}, why: map[string]string{}}
	doc, bodies, where := openAPIRoutes(ctx, hc, base, token)
	if doc != nil {
		r.Source = "OpenAPI document at " + where + ", probes for the routes it does not list"
		r.bodies = bodies
	} else {
		r.Source = "probes (no OpenAPI document at /api/credits/openapi.json or /openapi.json)"
	}
	nf := notFoundAnswers(ctx, hc, base, token)
	for _, route := range catalog.AllRoutes {
		if doc[normalizeRoute(route)] {
			r.served[route] = true
			continue
		}
		ok, answer := probe(ctx, hc, base, token, route, nf)
		r.served[route] = ok
		if !ok {
			r.why[route] = "probe answered " + answer
		}
	}
	return r
}

func normalizeRoute(route string) string {
	m, p, _ := strings.Cut(route, " ")
	return strings.ToUpper(m) + " " + strings.TrimRight(pathParam.ReplaceAllString(p, "{}"), "/")
}

// openAPIRoutes reads the operations of the backend's OpenAPI document and
// the members of their JSON request bodies (scenarios/openapi), nil when it
// serves none.
func openAPIRoutes(ctx context.Context, hc *http.Client, base, token string) (map[string]bool, map[string][]string, string) {
	for _, path := range []string{"/api/credits/openapi.json", "/openapi.json"} {
		status, body, err := do(ctx, hc, http.MethodGet, base+path, token, nil)
		if err != nil || status != http.StatusOK {
			continue
		}
		doc, err := openapi.Parse(body)
		if err != nil || len(doc.Operations()) == 0 {
			continue
		}
		out, bodies := map[string]bool{}, map[string][]string{}
		for _, op := range doc.Operations() {
			route := normalizeRoute(op.Method + " " + op.Path)
			out[route] = true
			if members := doc.Members(op.Body); len(members) > 0 {
				bodies[route] = members
			}
		}
		out[normalizeRoute("GET "+path)] = true
		return out, bodies, path
	}
	return nil, nil, ""
}

// probe sends a request that cannot change state: path parameters name no
// entity and a body has only an unknown field. The route is served unless
// the answer is the router's own "no such route" (404/405 with a framework
// body) or no answer at all.
func probe(ctx context.Context, hc *http.Client, base, token, route string, nf map[string]string) (bool, string) {
	method, path, _ := strings.Cut(route, " ")
	path = pathParam.ReplaceAllString(path, probeID)
	var body []byte
	if method == http.MethodPost {
		body = []byte(`{"creditgate_probe": true}`)
	}
	status, raw, err := do(ctx, hc, method, base+path, token, body)
	if err != nil {
		return false, "no answer: " + err.Error()
	}
	answer := fmt.Sprintf("%d %s", status, strings.TrimSpace(truncate(string(raw), 120)))
	if status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented {
		return false, answer
	}
	if status != http.StatusNotFound {
		return true, answer
	}
	if want, ok := nf[method]; ok && strings.ReplaceAll(string(raw), path, "{path}") == want {
		return false, answer // the router's own answer for a path it has no handler for
	}
	return !routerNotFound(raw), answer
}

// noRoutePath is a path no backend serves.
const noRoutePath = "/api/credits/creditgate-probe-no-such-route/" + probeID

// notFoundAnswers learns the backend's router answer for a path it has no
// handler for, per method (GET, POST), with the path replaced by "{path}":
// a probe answered exactly so is not served, whatever the framework's
// wording ("no route /api/…"). Only 404 answers are kept.
func notFoundAnswers(ctx context.Context, hc *http.Client, base, token string) map[string]string {
	out := map[string]string{}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		var body []byte
		if m == http.MethodPost {
			body = []byte(`{"creditgate_probe": true}`)
		}
		status, raw, err := do(ctx, hc, m, base+noRoutePath, token, body)
		if err == nil && status == http.StatusNotFound {
			out[m] = strings.ReplaceAll(string(raw), noRoutePath, "{path}")
		}
	}
	return out
}

// routerNotFound recognises a router's answer for a path it has no handler
// for (as opposed to a handler's 404 for an unknown entity): a body that is
// not JSON, FastAPI/Starlette's {"detail":"Not Found"}, Go's "404 page not
// found", or our engine's "no route for …".
func routerNotFound(raw []byte) bool {
	var b struct {
		Detail any    `json:"detail"`
		Code   string `json:"code"`
	}
	if json.Unmarshal(raw, &b) != nil {
		return true
	}
	d, _ := b.Detail.(string)
	d = strings.ToLower(strings.TrimSpace(d))
	return d == "" || d == "not found" || strings.HasPrefix(d, "no route for ") || d == "404 page not found"
}

func do(ctx context.Context, hc *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20)) // an OpenAPI document can be large
	return resp.StatusCode, raw, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
