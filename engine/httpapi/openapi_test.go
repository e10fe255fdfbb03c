package httpapi_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/engine/httpapi"
)

// The OpenAPI document is hand-written; these tests keep it true to the
// handlers: it is valid, it lists exactly the routes the mux registers, its
// request bodies use the handler structs' JSON names, its auth claims match
// the server's, and the server serves the checked-in bytes.

const openapiFile = "openapi.json"

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (raw []byte, doc map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(openapiFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s is not JSON: %v", openapiFile, err)
	}
	if dec.More() {
		t.Fatalf("%s has trailing data after the document", openapiFile)
	}
	return raw, doc
}

// resolve follows a local JSON pointer ("#/components/schemas/X").
func resolve(doc map[string]any, ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref resolves v if it is a {"$ref": ...} object.
func deref(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if r, ok := m["$ref"].(string); ok {
		target, ok := resolve(doc, r)
		if !ok {
			t.Fatalf("unresolved $ref %q", r)
		}
		return deref(t, doc, target)
	}
	return m
}

// operations returns "METHOD path" → operation object.
func operations(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		im, _ := item.(map[string]any)
		for _, m := range httpMethods {
			if op, ok := im[m].(map[string]any); ok {
				out[strings.ToUpper(m)+" "+p] = op
			}
		}
	}
	return out
}

func TestOpenAPIDocumentIsValidOpenAPI303WithResolvableRefs(t *testing.T) {
	_, doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Fatalf(`"openapi" is %q, want 3.0.x`, v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Error("info needs title and version")
	}

	// Every $ref anywhere in the document points at something.
	refs := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"]; ok {
				refs++
				rs, _ := r.(string)
				if _, ok := resolve(doc, rs); !ok {
					t.Errorf("%s: $ref %q does not resolve", path, rs)
				}
			}
			for k, c := range x {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(path+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("#", doc)
	if refs == 0 {
		t.Error("no $ref found: the walk is broken")
	}

	schemes, _ := resolve(doc, "#/components/securitySchemes/bearerAuth")
	if sm, _ := schemes.(map[string]any); sm["type"] != "http" || sm["scheme"] != "bearer" {
		t.Errorf("bearerAuth security scheme = %v, want http bearer", schemes)
	}

	// Per operation: a unique operationId, responses with a 2xx, and path
	// parameters declared exactly for the path's {names}.
	ids := map[string]string{}
	braces := regexp.MustCompile(`\{([^}]+)\}`)
	for key, op := range operations(doc) {
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share operationId %q", key, other, id)
		}
		ids[id] = key
		resps, _ := op["responses"].(map[string]any)
		has2xx := false
		for code := range resps {
			has2xx = has2xx || strings.HasPrefix(code, "2")
		}
		if !has2xx {
			t.Errorf("%s: no 2xx response", key)
		}
		var want, got []string
		for _, m := range braces.FindAllStringSubmatch(strings.SplitN(key, " ", 2)[1], -1) {
			want = append(want, m[1])
		}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := deref(t, doc, p)
			if pm["in"] == "path" {
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v must be required", key, pm["name"])
				}
				got = append(got, pm["name"].(string))
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: path parameters declared %v, path has %v", key, got, want)
		}
	}
}

// registeredRoutes parses server.go and returns the patterns routes()
// registers ("METHOD /path"), evaluating string constants such as prefix.
// The catch-all "/" is left out: it is the 404 handler, not a route.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "server.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	var eval func(e ast.Expr) string
	eval = func(e ast.Expr) string {
		switch x := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(x.Value)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(x.Pos()), err)
			}
			return s
		case *ast.Ident:
			s, ok := consts[x.Name]
			if !ok {
				t.Fatalf("%s: pattern uses %s, not a string constant of server.go", fset.Position(x.Pos()), x.Name)
			}
			return s
		case *ast.BinaryExpr:
			if x.Op == token.ADD {
				return eval(x.X) + eval(x.Y)
			}
		case *ast.ParenExpr:
			return eval(x.X)
		}
		t.Fatalf("%s: cannot evaluate route pattern", fset.Position(e.Pos()))
		return ""
	}
	var out []string
	found := false
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "routes" {
			continue
		}
		found = true
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") || len(call.Args) == 0 {
				return true
			}
			if p := eval(call.Args[0]); p != "/" {
				out = append(out, p)
			}
			return true
		})
	}
	if !found || len(out) == 0 {
		t.Fatal("no routes() with registered patterns found in server.go")
	}
	return out
}

func TestOpenAPIDocumentsExactlyTheRegisteredRoutes(t *testing.T) {
	_, doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for key := range operations(doc) {
		documented[key] = true
	}
	registered := map[string]bool{}
	for _, p := range registeredRoutes(t) {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method: every route must name one", p)
			continue
		}
		key := method + " " + path
		if registered[key] {
			t.Errorf("route %q registered twice", key)
		}
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %q is registered but not documented in %s", key, openapiFile)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("%s documents %q, which the server does not register", openapiFile, key)
		}
	}
	t.Logf("%d routes registered, %d documented", len(registered), len(documented))
}

// structTags returns the JSON field names of each struct type in the
// package's non-test sources, embedded structs flattened.
func structTags(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	var fields func(name string) []string
	fields = func(name string) []string {
		st, ok := structs[name]
		if !ok {
			t.Fatalf("no struct %s in package httpapi", name)
		}
		var out []string
		for _, fl := range st.Fields.List {
			if len(fl.Names) == 0 { // embedded
				if id, ok := fl.Type.(*ast.Ident); ok {
					out = append(out, fields(id.Name)...)
				}
				continue
			}
			if fl.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fl.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			if name != "" && name != "-" {
				out = append(out, name)
			}
		}
		return out
	}
	out := map[string][]string{}
	for name := range structs {
		out[name] = fields(name)
	}
	return out
}

// Request schemas and the handler struct each decodes into. exact: the
// schema lists every field; otherwise the struct is shared by several
// routes and the schema lists the fields this route uses.
var requestSchemas = []struct {
	schema, goStruct string
	exact            bool
}{
	{"CreateAgentRequest", "agentBody", true},
	{"CreditRequest", "creditBody", true},
	{"ApprovalRequestBody", "approvalBody", true},
	{"DecisionRequest", "decisionBody", true},
	{"CollaborationRequest", "collaborationBody", true},
	{"PoolCreateRequest", "poolCreateBody", true},
	{"PoolMemberRequest", "poolMemberBody", true},
	{"PoolActorRequest", "poolActorBody", true},
	{"PoolMoveRequest", "poolMoveBody", true},
	{"PoolTransferRequest", "poolTransferBody", true},
	{"PoolCloseRequest", "poolCloseBody", true},
	{"MissionStartRequest", "missionStartBody", true},
	{"MissionEndRequest", "missionEndBody", true},
	{"MissionRateRequest", "missionRateBody", true},
}

func TestOpenAPIRequestBodiesUseTheHandlerStructsJSONNames(t *testing.T) {
	_, doc := loadOpenAPI(t)
	tags := structTags(t)
	covered := map[string]bool{}
	for _, rs := range requestSchemas {
		covered[rs.schema] = true
		s := deref(t, doc, map[string]any{"$ref": "#/components/schemas/" + rs.schema})
		if s == nil {
			t.Errorf("schema %s missing", rs.schema)
			continue
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: unknown fields are rejected, so additionalProperties must be false", rs.schema)
		}
		props, _ := s["properties"].(map[string]any)
		var documented []string
		for k := range props {
			documented = append(documented, k)
		}
		goFields := tags[rs.goStruct]
		for _, k := range documented {
			if !slices.Contains(goFields, k) {
				t.Errorf("%s documents field %q, which %s does not decode (it has %v)", rs.schema, k, rs.goStruct, goFields)
			}
		}
		if rs.exact {
			for _, k := range goFields {
				if _, ok := props[k]; !ok {
					t.Errorf("%s does not document field %q of %s", rs.schema, k, rs.goStruct)
				}
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("%s requires %q, which it does not define", rs.schema, r)
			}
		}
	}
	// Every documented request body is one of the schemas checked above.
	for key, op := range operations(doc) {
		rb := deref(t, doc, op["requestBody"])
		if rb == nil {
			continue
		}
		content, _ := rb["content"].(map[string]any)
		mt, _ := content["application/json"].(map[string]any)
		sch, _ := mt["schema"].(map[string]any)
		ref, _ := sch["$ref"].(string)
		if name := strings.TrimPrefix(ref, "#/components/schemas/"); !covered[name] {
			t.Errorf("%s: request body schema %q is not checked against a handler struct", key, ref)
		}
	}
}

func TestServedOpenAPIIsTheCheckedInDocument(t *testing.T) {
	raw, _ := loadOpenAPI(t)
	// With tokens configured: the document needs none.
	srv := newServer(t, httpapi.Tokens{"tok-reader": {Name: "r", Role: httpapi.RoleReader}}, nil)
	resp, err := srv.client.Get(srv.URL + "/api/credits/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/credits/openapi.json = %d: %s", resp.StatusCode, got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("served document (%d bytes) differs from %s (%d bytes)", len(got), openapiFile, len(raw))
	}
	if r := srv.do(t, "GET", "/api/credits/openapi.yaml", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /api/credits/openapi.yaml = %d, want 404 (the document is JSON now)", r.status)
	}
}

// The document's security claims hold: operations marked `security: []`
// answer without a token, every other operation answers 401 without one.
func TestOpenAPISecurityMatchesAuthentication(t *testing.T) {
	_, doc := loadOpenAPI(t)
	srv := newServer(t, httpapi.Tokens{"tok-admin": {Name: "root", Role: httpapi.RoleAdmin}}, nil)
	braces := regexp.MustCompile(`\{[^}]+\}`)
	for key, op := range operations(doc) {
		method, path, _ := strings.Cut(key, " ")
		public := false
		if sec, ok := op["security"].([]any); ok && len(sec) == 0 {
			public = true
		}
		var body any
		if method != http.MethodGet {
			body = "{}"
		}
		r := srv.do(t, method, braces.ReplaceAllString(path, "x"), body)
		switch {
		case public && r.status == http.StatusUnauthorized:
			t.Errorf("%s is documented without security but answers 401 without a token", key)
		case !public && r.status != http.StatusUnauthorized:
			t.Errorf("%s is documented with bearer auth but answers %d without a token, not 401", key, r.status)
		}
	}
}
