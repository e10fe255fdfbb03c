package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// The contract with the original system's clients: SPEC §6, table "The
// original's response shapes". Every field a client of the original reads,
// per route, with its JSON type. Ours may add fields; these may never be
// dropped, renamed or change type. This table is the one place the contract
// is written down in code: the live test below checks a running server
// against it, and the OpenAPI test checks each field is marked x-original.
//
// Paths: "a.b" is a nested field, "a[]" each element of array a, "a{}"
// each value of object a.
type kind string

const (
	kString  kind = "string"
	kNumber  kind = "number"
	kBool    kind = "bool"
	kObject  kind = "object"
	kArray   kind = "array"
	kNull    kind = "null"
	kDate    kind = "string (ISO 8601 date-time)"
	kStrNull kind = "string or null"
	// kUnixNull is a Unix time in seconds (a number), or null.
	kUnixNull kind = "number (Unix time in seconds) or null"
)

type contractField struct {
	path string
	kind kind
}

type contractRoute struct {
	route  string // "METHOD /path" as documented in openapi.json
	fields []contractField
}

var originalShapes = []contractRoute{
	{"GET /api/credits/health", []contractField{{"status", kString}, {"timestamp", kDate}}},
	{"GET /api/health", []contractField{{"status", kString}, {"timestamp", kDate}}},
	{"GET /api/credits/info", []contractField{{"name", kString}, {"version", kString}, {"config", kObject},
		{"config.event_sourcing_enabled", kBool}, {"config.event_sourcing_metrics", kObject}}},
	{"POST /api/credits/agents", []contractField{{"agent_id", kString}, {"initial_credits", kNumber},
		{"balance", kNumber}, {"skill_level", kNumber}}},
	{"POST /api/credits/consume", creditFields(true)},
	{"POST /api/credits/refund", creditFields(true)},
	{"POST /api/credits/add", creditFields(false)},
	{"GET /api/credits/balance/{agent_id}", []contractField{{"agent_id", kString}, {"balance", kNumber}}},
	{"GET /api/credits/balances", []contractField{{"balances", kObject}, {"balances{}", kNumber}, {"total_agents", kNumber}}},
	{"GET /api/credits/history/{agent_id}", []contractField{{"agent_id", kString}, {"history", kArray},
		{"history[].event_id", kString}, {"history[].timestamp", kDate}, {"history[].entity_id", kString},
		{"history[].entity_type", kString}, {"history[].amount", kNumber}, {"history[].balance_after", kNumber},
		{"history[].reason", kString}, {"history[].mission_id", kStrNull}, {"total_entries", kNumber}}},
	{"GET /api/credits/metrics", []contractField{
		{"journal", kObject}, {"journal.total_events", kNumber}, {"journal.file_size_mb", kNumber},
		{"journal.idempotency_violations", kNumber}, {"journal.file_path", kString},
		{"event_bus", kObject}, {"event_bus.total_published", kNumber}, {"event_bus.total_subscriber_errors", kNumber},
		{"event_bus.subscribers_by_type", kObject}, {"event_bus.subscribers_by_type{}", kNumber},
		{"replay", kObject}, {"replay.total_events", kNumber}, {"replay.replay_duration_seconds", kNumber},
		{"replay.last_replay_timestamp", kUnixNull}, {"replay.integrity_errors_count", kNumber},
		{"replay.snapshot_used", kStrNull}, {"replay.events_skipped_by_snapshot", kNumber},
		{"replay.snapshot_restore_duration_seconds", kNumber}}},
}

// errorShape is the original's error body, whatever the route.
var errorShape = []contractField{{"detail", kString}}

// creditFields: consume and refund answer mission_id, null when absent.
func creditFields(mission bool) []contractField {
	f := []contractField{{"agent_id", kString}, {"amount", kNumber}, {"balance_after", kNumber}, {"reason", kString}}
	if mission {
		f = append(f, contractField{"mission_id", kNull})
	}
	return f
}

// lookup returns the values at path in v ("a[]" and "a{}" fan out). ok is
// false when a step is missing (an empty array or object fans out to none).
func lookup(v any, path string) (vals []any, ok bool) {
	cur := []any{v}
	for _, step := range strings.Split(path, ".") {
		name, fan := step, ""
		if n, ok := strings.CutSuffix(step, "[]"); ok {
			name, fan = n, "[]"
		} else if n, ok := strings.CutSuffix(step, "{}"); ok {
			name, fan = n, "{}"
		}
		var next []any
		for _, c := range cur {
			m, isObj := c.(map[string]any)
			if !isObj {
				return nil, false
			}
			x, present := m[name]
			if !present {
				return nil, false
			}
			switch fan {
			case "[]":
				arr, isArr := x.([]any)
				if !isArr {
					return nil, false
				}
				next = append(next, arr...)
			case "{}":
				obj, isObj := x.(map[string]any)
				if !isObj {
					return nil, false
				}
				for _, k := range sortedMapKeys(obj) {
					next = append(next, obj[k])
				}
			default:
				next = append(next, x)
			}
		}
		cur = next
	}
	return cur, true
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hasKind reports whether a decoded JSON value (numbers as json.Number or
// float64) is of kind k.
func hasKind(v any, k kind) bool {
	switch k {
	case kString:
		_, ok := v.(string)
		return ok
	case kDate:
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	case kNumber:
		switch v.(type) {
		case float64, json.Number:
			return true
		}
		return false
	case kBool:
		_, ok := v.(bool)
		return ok
	case kObject:
		_, ok := v.(map[string]any)
		return ok
	case kArray:
		_, ok := v.([]any)
		return ok
	case kNull:
		return v == nil
	case kStrNull:
		_, ok := v.(string)
		return ok || v == nil
	case kUnixNull:
		if v == nil {
			return true
		}
		// Seconds, not milliseconds: before 5138-11-16.
		f, ok := number(v)
		return ok && f >= 0 && f < 1e11
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// checkShape fails t for every field of want that body lacks or holds with
// the wrong type.
func checkShape(t *testing.T, what string, body map[string]any, want []contractField) {
	t.Helper()
	if body == nil {
		t.Errorf("%s: no JSON object in the response", what)
		return
	}
	for _, f := range want {
		vals, ok := lookup(body, f.path)
		if !ok {
			t.Errorf("%s: field %s missing", what, f.path)
			continue
		}
		if len(vals) == 0 && (strings.Contains(f.path, "[]") || strings.Contains(f.path, "{}")) {
			t.Errorf("%s: field %s: the fixture must produce at least one element to check", what, f.path)
		}
		for _, v := range vals {
			if !hasKind(v, f.kind) {
				t.Errorf("%s: field %s = %#v, want %s", what, f.path, v, f.kind)
				break
			}
		}
	}
}

// A client written for the original works against creditd: every original
// route answers every field of the original's shape with the same type.
func TestOriginalRoutesAnswerTheOriginalsResponseShapes(t *testing.T) {
	srv := newServer(t, nil, nil)
	got := map[string]response{}
	call := func(route, path string, body any, wantStatus int) response {
		t.Helper()
		method, _, _ := strings.Cut(route, " ")
		r := srv.do(t, method, path, body)
		if r.status != wantStatus {
			t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, wantStatus, r.raw)
		}
		got[route] = r
		return r
	}
	agent := call("POST /api/credits/agents", "/api/credits/agents", map[string]any{"agent_id": "orig-1", "skill_level": 0.8}, http.StatusOK)
	call("POST /api/credits/consume", "/api/credits/consume", map[string]any{"agent_id": "orig-1", "amount": 12.5, "reason": "work"}, http.StatusOK)
	call("POST /api/credits/refund", "/api/credits/refund", map[string]any{"agent_id": "orig-1", "amount": 2.5, "reason": "partly unused"}, http.StatusOK)
	call("POST /api/credits/add", "/api/credits/add", map[string]any{"agent_id": "orig-1", "amount": 1.005, "reason": "bonus"}, http.StatusOK)
	call("GET /api/credits/balance/{agent_id}", "/api/credits/balance/orig-1", nil, http.StatusOK)
	call("GET /api/credits/balances", "/api/credits/balances", nil, http.StatusOK)
	hist := call("GET /api/credits/history/{agent_id}", "/api/credits/history/orig-1?limit=10", nil, http.StatusOK)
	call("GET /api/credits/metrics", "/api/credits/metrics", nil, http.StatusOK)
	health := call("GET /api/credits/health", "/api/credits/health", nil, http.StatusOK)
	call("GET /api/health", "/api/health", nil, http.StatusOK)
	info := call("GET /api/credits/info", "/api/credits/info", nil, http.StatusOK)

	for _, rt := range originalShapes {
		r, ok := got[rt.route]
		if !ok {
			t.Errorf("%s is in the contract table but the test never called it", rt.route)
			continue
		}
		checkShape(t, rt.route, r.body, rt.fields)
	}

	// Values the original's clients rely on, beyond types.
	if health.str("status") != "ok" {
		t.Errorf(`health status = %q, want "ok"`, health.str("status"))
	}
	if cfg, _ := info.body["config"].(map[string]any); cfg["event_sourcing_enabled"] != true {
		t.Errorf("info config.event_sourcing_enabled = %v, want true", cfg["event_sourcing_enabled"])
	}
	if fmt.Sprint(agent.body["initial_credits"]) != "80" || fmt.Sprint(agent.body["balance"]) != "80" {
		t.Errorf("agent initial_credits/balance = %v/%v, want 80/80", agent.body["initial_credits"], agent.body["balance"])
	}
	h, _ := hist.body["history"].([]any)
	var amounts []string
	for _, e := range h {
		em := e.(map[string]any)
		amounts = append(amounts, fmt.Sprint(em["amount"]))
		if em["entity_id"] != "orig-1" || em["entity_type"] != "agent" {
			t.Errorf("history entry entity = %v/%v, want orig-1/agent", em["entity_id"], em["entity_type"])
		}
	}
	// Newest first, consumes negative.
	if want := []string{"1.005", "2.5", "-12.5", "80"}; fmt.Sprint(amounts) != fmt.Sprint(want) {
		t.Errorf("history amounts = %v, want %v (newest first, consume negative)", amounts, want)
	}
	if fmt.Sprint(hist.body["total_entries"]) != "4" {
		t.Errorf("total_entries = %v, want 4", hist.body["total_entries"])
	}

	// Errors carry detail on every kind of refusal.
	for _, e := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/api/credits/balance/nobody", nil, http.StatusNotFound},
		{"POST", "/api/credits/consume", map[string]any{"agent_id": "orig-1", "amount": 1e6, "reason": "too much"}, http.StatusConflict},
		{"POST", "/api/credits/agents", map[string]any{"agent_id": "orig-1"}, http.StatusConflict},
		{"POST", "/api/credits/consume", map[string]any{"agent_id": "orig-1", "amount": "x"}, http.StatusUnprocessableEntity},
		{"POST", "/api/credits/consume", "{", http.StatusBadRequest},
		{"DELETE", "/api/credits/consume", nil, http.StatusMethodNotAllowed},
		{"GET", "/api/credits/nothing-here", nil, http.StatusNotFound},
	} {
		r := srv.do(t, e.method, e.path, e.body)
		if r.status != e.status {
			t.Errorf("%s %s = %d, want %d: %s", e.method, e.path, r.status, e.status, r.raw)
		}
		checkShape(t, fmt.Sprintf("error of %s %s", e.method, e.path), r.body, errorShape)
	}
}

// The OpenAPI document marks exactly the contract's fields as the
// original's: each field of the table is x-original in the route's 2xx
// response schema (and detail in Error).
func TestOpenAPIMarksTheOriginalsFields(t *testing.T) {
	_, doc := loadOpenAPI(t)
	ops := operations(doc)
	for _, rt := range originalShapes {
		op, ok := ops[rt.route]
		if !ok {
			t.Errorf("%s: not documented", rt.route)
			continue
		}
		schema := successSchema(t, doc, op)
		if schema == nil {
			t.Errorf("%s: no 2xx JSON response schema", rt.route)
			continue
		}
		for _, f := range rt.fields {
			prop := schemaAt(t, doc, schema, f.path)
			if prop == nil {
				t.Errorf("%s: field %s not documented", rt.route, f.path)
				continue
			}
			if strings.HasSuffix(f.path, "{}") {
				continue // map values: the map itself carries the mark
			}
			if prop["x-original"] != true {
				t.Errorf("%s: field %s is not marked x-original", rt.route, f.path)
			}
			if typ, nullable, ok := documentedType(t, doc, prop); ok && !typeMatches(f.kind, typ, nullable) {
				t.Errorf("%s: field %s documented as %s (nullable %v), the original's type is %s", rt.route, f.path, typ, nullable, f.kind)
			}
		}
	}
	errSchema := deref(t, doc, map[string]any{"$ref": "#/components/schemas/Error"})
	for _, f := range errorShape {
		if p := schemaAt(t, doc, errSchema, f.path); p == nil || p["x-original"] != true {
			t.Errorf("Error: field %s missing or not marked x-original", f.path)
		}
	}
}

// documentedType is a property's OpenAPI type and nullability; ok is false
// for a property without a type of its own (a combination).
func documentedType(t *testing.T, doc map[string]any, prop map[string]any) (typ string, nullable, ok bool) {
	p := deref(t, doc, prop)
	typ, ok = p["type"].(string)
	nullable = p["nullable"] == true || prop["nullable"] == true
	return typ, nullable, ok
}

// typeMatches reports whether an OpenAPI type documents a contract kind,
// so a client generated from the document reads the original's types.
func typeMatches(k kind, typ string, nullable bool) bool {
	switch k {
	case kString, kDate:
		return typ == "string"
	case kStrNull:
		return typ == "string" && nullable
	case kNumber:
		return typ == "number" || typ == "integer"
	case kUnixNull:
		return (typ == "number" || typ == "integer") && nullable
	case kBool:
		return typ == "boolean"
	case kObject:
		return typ == "object"
	case kArray:
		return typ == "array"
	}
	return true // kNull: any nullable type
}

// successSchema returns the schema of an operation's lowest 2xx response.
func successSchema(t *testing.T, doc map[string]any, op map[string]any) map[string]any {
	t.Helper()
	resps, _ := op["responses"].(map[string]any)
	var codes []string
	for c := range resps {
		if strings.HasPrefix(c, "2") {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		return nil
	}
	r := deref(t, doc, resps[codes[0]])
	content, _ := r["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	return deref(t, doc, mt["schema"])
}

// schemaAt walks a path through properties, items ([]) and
// additionalProperties ({}), looking into allOf parts; it returns the
// property schema as written (its x-original mark included), or nil.
func schemaAt(t *testing.T, doc map[string]any, schema map[string]any, path string) map[string]any {
	t.Helper()
	cur := schema
	for _, step := range strings.Split(path, ".") {
		name, fan := step, ""
		if n, ok := strings.CutSuffix(step, "[]"); ok {
			name, fan = n, "[]"
		} else if n, ok := strings.CutSuffix(step, "{}"); ok {
			name, fan = n, "{}"
		}
		prop := property(t, doc, cur, name)
		if prop == nil {
			return nil
		}
		switch fan {
		case "[]":
			items := deref(t, doc, deref(t, doc, prop)["items"])
			if items == nil {
				return nil
			}
			cur = items
			continue
		case "{}":
			ap, _ := deref(t, doc, prop)["additionalProperties"].(map[string]any)
			if ap == nil {
				return nil
			}
			cur = ap
			continue
		}
		cur = prop
	}
	return cur
}

// property finds name among a schema's properties, its allOf parts
// included; the returned map is the property as written (not dereferenced).
func property(t *testing.T, doc map[string]any, schema map[string]any, name string) map[string]any {
	t.Helper()
	s := deref(t, doc, schema)
	if props, ok := s["properties"].(map[string]any); ok {
		if p, ok := props[name].(map[string]any); ok {
			return p
		}
	}
	parts, _ := s["allOf"].([]any)
	for _, part := range parts {
		if p := property(t, doc, deref(t, doc, part), name); p != nil {
			return p
		}
	}
	return nil
}
