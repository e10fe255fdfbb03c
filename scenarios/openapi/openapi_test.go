package openapi

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, doc string) *Doc {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func bodyOf(t *testing.T, d *Doc, method, path string) *Schema {
	t.Helper()
	for _, op := range d.Operations() {
		if op.Method == method && op.Path == path {
			return op.Body
		}
	}
	t.Fatalf("no operation %s %s in %v", method, path, d.Operations())
	return nil
}

// A schema that refers to itself (a tree node, two schemas naming each
// other) is read in bounded time: the harness reads documents of backends
// it did not write, and a loop here would hang gate A.
func TestSelfReferringSchemasAreReadInBoundedTime(t *testing.T) {
	doc := `{"paths": {"/api/credits/pools": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}}}},
	  "/api/credits/nodes": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}},
	 "components": {"schemas": {
	  "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop2"}]},
	  "Loop2": {"$ref": "#/components/schemas/Loop"},
	  "Node": {"type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"}},
	           "allOf": [{"$ref": "#/components/schemas/Node"}]}}}}`
	done := make(chan []string)
	go func() {
		d := parse(t, doc)
		loop := d.Members(bodyOf(t, d, "POST", "/api/credits/pools"))
		node := d.Members(bodyOf(t, d, "POST", "/api/credits/nodes"))
		child := d.Flatten(d.Flatten(bodyOf(t, d, "POST", "/api/credits/nodes")).Properties["child"])
		done <- append(append(loop, node...), strings.Join(d.Members(child), "+"))
	}()
	select {
	case got := <-done:
		if want := []string{"child", "name", "child+name"}; !slices.Equal(got, want) {
			t.Fatalf("members %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a self-referring schema did not end")
	}
}

// What the harness does not read cannot stop it reading the rest:
// path-level parameters and summaries, 3.1 type lists, boolean schemas,
// a required that is not a list.
func TestMembersOfOtherShapesDoNotStopTheDocumentBeingRead(t *testing.T) {
	d := parse(t, `{"openapi": "3.1.0", "paths": {"/api/credits/pools/{pool_id}/close": {
	   "summary": "close", "parameters": [{"name": "pool_id", "in": "path"}], "x-owner": 7,
	   "post": {"requestBody": {"content": {"application/json; charset=utf-8": {"schema": {
	     "type": ["object", "null"], "required": true,
	     "properties": {"actor_id": {"type": ["null", "string"]}, "anything": true, "nothing": false}}}}}}}}}`)
	ops := d.Operations()
	if len(ops) != 1 || ops[0].Method != "POST" {
		t.Fatalf("operations %+v, want only the POST (parameters and summary are not operations)", ops)
	}
	b := d.Flatten(ops[0].Body)
	if b.Type != "object" || d.Flatten(b.Properties["actor_id"]).Type != "string" {
		t.Fatalf("types %q / %q, want the first non-null of each list", b.Type, d.Flatten(b.Properties["actor_id"]).Type)
	}
	if got := d.Members(ops[0].Body); !slices.Equal(got, []string{"actor_id", "anything", "nothing"}) {
		t.Fatalf("members %v", got)
	}
}

// Bodies are found wherever a document may put them: a referenced request
// body, a +json media type, a Swagger 2 body parameter with #/definitions.
func TestRequestBodiesAreFoundThroughEveryWayOfWritingThem(t *testing.T) {
	d := parse(t, `{"paths": {
	   "/a": {"post": {"requestBody": {"$ref": "#/components/requestBodies/A"}}},
	   "/b": {"post": {"requestBody": {"content": {"text/plain": {}, "application/vnd.credit+json": {"schema": {"properties": {"b": {}}}}}}}},
	   "/c": {"post": {"parameters": [{"in": "path", "name": "x"}, {"in": "body", "name": "body", "schema": {"$ref": "#/definitions/C"}}]}},
	   "/d": {"get": {}, "delete": {"requestBody": {"content": {"text/plain": {"schema": {"properties": {"d": {}}}}}}}}},
	 "definitions": {"C": {"properties": {"c1": {}, "c2": {}}}},
	 "components": {"requestBodies": {"A": {"$ref": "#/components/requestBodies/A2"}, "A2": {"content": {"application/json": {"schema": {
	   "allOf": [{"properties": {"a1": {}}}, {"$ref": "#/components/schemas/A3"}]}}}}},
	   "schemas": {"A3": {"properties": {"a2": {}}, "required": ["a2"]}}}}`)
	for _, tc := range []struct {
		method, path string
		want         []string
	}{
		{"POST", "/a", []string{"a1", "a2"}},
		{"POST", "/b", []string{"b"}},
		{"POST", "/c", []string{"c1", "c2"}},
		{"GET", "/d", nil},
		{"DELETE", "/d", nil}, // no JSON body
	} {
		if got := d.Members(bodyOf(t, d, tc.method, tc.path)); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: members %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	if req := d.Flatten(bodyOf(t, d, "POST", "/a")).Required; !slices.Equal(req, []string{"a2"}) {
		t.Errorf("required %v, want [a2] from the allOf part", req)
	}
}

// The operations come in one order whatever the document's member order
// (every random choice of a run comes from its seed; map order is not one).
func TestOperationsAreOrderedByPathThenMethod(t *testing.T) {
	d := parse(t, `{"paths": {"/b": {"post": {}, "get": {}, "delete": {}}, "/a": {"put": {}, "PATCH": {}}}}`)
	var got []string
	for _, op := range d.Operations() {
		got = append(got, op.Method+" "+op.Path)
	}
	want := []string{"PATCH /a", "PUT /a", "DELETE /b", "GET /b", "POST /b"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestOnlyADocumentThatIsNoJSONObjectIsAnError(t *testing.T) {
	for _, bad := range []string{``, `[]`, `"x"`, `{"paths": `} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) = nil error", bad)
		}
	}
	d := parse(t, `{"paths": [1, 2], "components": {"schemas": 3}}`)
	if len(d.Operations()) != 0 {
		t.Fatalf("operations %v from a document without paths", d.Operations())
	}
}
