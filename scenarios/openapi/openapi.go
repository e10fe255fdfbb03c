// Package openapi is the harness's one reading of a backend's OpenAPI
// document: its operations and the members of their JSON request bodies,
// which route discovery (gates/harness), the body fitting (scenarios) and
// the grammar fuzzer (scenarios/explore) all stand on.
//
// Documents come from backends we did not write, so it reads leniently and
// never loops: members it does not use are ignored whatever their shape
// (path-level parameters, summaries, extensions), OpenAPI 3.1 type lists
// (["string","null"]) and boolean schemas are read, Swagger 2 body
// parameters and #/definitions references are followed, and every chain of
// references ($ref, allOf, a referenced request body) is cut at MaxDepth,
// so a document whose schemas refer to themselves (a tree node) is read in
// bounded time. It only errs on a document that is not a JSON object.
//
// It imports only the standard library.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// MaxDepth bounds every chain of references the reader follows.
const MaxDepth = 8

// Doc is a parsed document.
type Doc struct {
	ops           []Operation
	schemas       map[string]*Schema         // #/components/schemas/ and #/definitions/
	requestBodies map[string]json.RawMessage // #/components/requestBodies/
}

// Operation is one method on one path template, as the document writes it
// (method upper case).
type Operation struct {
	Method, Path string
	// Body is the schema of its JSON request body, nil when it documents
	// none.
	Body *Schema
}

// Schema is the part of a JSON schema the harness reads. Flatten a schema
// before reading it: Ref and AllOf are not followed here.
type Schema struct {
	Ref        string
	Type       string // "" when unknown; the first non-null entry of a 3.1 type list
	Properties map[string]*Schema
	Required   []string
	AllOf      []*Schema
	// Min and Max are a number's documented bounds (nil: none); MinOpen
	// and MaxOpen say the bound itself is outside (exclusiveMinimum as
	// OpenAPI 3.0's flag or 3.1's number).
	Min, Max         *float64
	MinOpen, MaxOpen bool
}

// UnmarshalJSON reads any JSON value: a boolean schema (3.1) or anything
// else that is not an object is the empty schema, and members of an
// unexpected shape are left out rather than failing the document.
func (s *Schema) UnmarshalJSON(raw []byte) error {
	*s = Schema{}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	_ = json.Unmarshal(m["$ref"], &s.Ref)
	s.Type = typeName(m["type"])
	_ = json.Unmarshal(m["properties"], &s.Properties)
	_ = json.Unmarshal(m["required"], &s.Required)
	_ = json.Unmarshal(m["allOf"], &s.AllOf)
	s.Min, s.MinOpen = bound(m["minimum"], m["exclusiveMinimum"])
	s.Max, s.MaxOpen = bound(m["maximum"], m["exclusiveMaximum"])
	return nil
}

// bound reads a bound and its exclusive form: 3.0 flags the bound
// (exclusiveMinimum: true), 3.1 gives the exclusive bound as a number.
func bound(inclusive, exclusive json.RawMessage) (*float64, bool) {
	var v, x float64
	var flag bool
	switch {
	case json.Unmarshal(exclusive, &x) == nil:
		return &x, true
	case json.Unmarshal(inclusive, &v) == nil:
		return &v, json.Unmarshal(exclusive, &flag) == nil && flag
	}
	return nil, false
}

func typeName(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	for _, t := range many {
		if t != "null" {
			return t
		}
	}
	return ""
}

var methods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// Parse reads a document. It fails only when raw is not a JSON object.
func Parse(raw []byte) (*Doc, error) {
	var top struct {
		Paths       map[string]json.RawMessage `json:"paths"`
		Definitions map[string]*Schema         `json:"definitions"` // Swagger 2
		Components  struct {
			Schemas       map[string]*Schema         `json:"schemas"`
			RequestBodies map[string]json.RawMessage `json:"requestBodies"`
		} `json:"components"`
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return nil, fmt.Errorf("openapi: the document is not a JSON object")
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		// A member of another shape than OpenAPI's (paths an array …):
		// read what can be read member by member.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("openapi: the document does not parse: %w", err)
		}
		_ = json.Unmarshal(m["paths"], &top.Paths)
		_ = json.Unmarshal(m["definitions"], &top.Definitions)
		_ = json.Unmarshal(m["components"], &top.Components)
	}
	d := &Doc{schemas: map[string]*Schema{}, requestBodies: top.Components.RequestBodies}
	for n, s := range top.Definitions {
		d.schemas["#/definitions/"+n] = s
	}
	for n, s := range top.Components.Schemas {
		d.schemas["#/components/schemas/"+n] = s
	}
	for path, rawItem := range top.Paths {
		var item map[string]json.RawMessage
		if json.Unmarshal(rawItem, &item) != nil {
			continue
		}
		for key, rawOp := range item {
			if !methods[strings.ToLower(key)] {
				continue // parameters, summary, servers, x-…
			}
			d.ops = append(d.ops, Operation{Method: strings.ToUpper(key), Path: path, Body: d.opBody(rawOp)})
		}
	}
	sort.Slice(d.ops, func(i, j int) bool {
		if d.ops[i].Path != d.ops[j].Path {
			return d.ops[i].Path < d.ops[j].Path
		}
		return d.ops[i].Method < d.ops[j].Method
	})
	return d, nil
}

// opBody is the JSON request body schema of an operation: its requestBody
// (through references to #/components/requestBodies), or a Swagger 2
// parameter in the body.
func (d *Doc) opBody(rawOp json.RawMessage) *Schema {
	var op struct {
		RequestBody json.RawMessage `json:"requestBody"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	if json.Unmarshal(rawOp, &op) != nil {
		return nil
	}
	rb := op.RequestBody
	for depth := 0; len(rb) > 0 && depth <= MaxDepth; depth++ {
		var b struct {
			Ref     string                     `json:"$ref"`
			Content map[string]json.RawMessage `json:"content"`
		}
		if json.Unmarshal(rb, &b) != nil {
			return nil
		}
		if b.Ref == "" {
			return jsonSchema(b.Content)
		}
		rb = d.requestBodies[strings.TrimPrefix(b.Ref, "#/components/requestBodies/")]
	}
	var params []struct {
		In     string  `json:"in"`
		Schema *Schema `json:"schema"`
	}
	_ = json.Unmarshal(op.Parameters, &params)
	for _, p := range params {
		if p.In == "body" {
			return p.Schema
		}
	}
	return nil
}

// jsonSchema picks the JSON media type of a content map:
// application/json, with parameters or as a +json suffix.
func jsonSchema(content map[string]json.RawMessage) *Schema {
	types := make([]string, 0, len(content))
	for t := range content {
		types = append(types, t)
	}
	sort.Strings(types)
	pick := ""
	for _, t := range types {
		base, _, _ := strings.Cut(strings.ToLower(t), ";")
		base = strings.TrimSpace(base)
		if base == "application/json" {
			pick = t
			break
		}
		if pick == "" && strings.HasSuffix(base, "+json") {
			pick = t
		}
	}
	if pick == "" {
		return nil
	}
	var mt struct {
		Schema *Schema `json:"schema"`
	}
	_ = json.Unmarshal(content[pick], &mt)
	return mt.Schema
}

// Operations are the document's operations, ordered by path, then method.
func (d *Doc) Operations() []Operation { return d.ops }

// Flatten resolves s through $ref and allOf (at most MaxDepth deep) into
// one schema: the properties and required members of every part, the
// first type named. Its property schemas are not flattened. nil stays nil.
func (d *Doc) Flatten(s *Schema) *Schema {
	if s == nil {
		return nil
	}
	out := &Schema{Properties: map[string]*Schema{}}
	d.flatten(s, out, 0)
	return out
}

func (d *Doc) flatten(s, out *Schema, depth int) {
	if s == nil || depth > MaxDepth {
		return
	}
	if s.Ref != "" {
		d.flatten(d.schemas[s.Ref], out, depth+1)
		return
	}
	if out.Type == "" {
		out.Type = s.Type
	}
	if out.Min == nil {
		out.Min, out.MinOpen = s.Min, s.MinOpen
	}
	if out.Max == nil {
		out.Max, out.MaxOpen = s.Max, s.MaxOpen
	}
	for n, p := range s.Properties {
		if _, ok := out.Properties[n]; !ok {
			out.Properties[n] = p
		}
	}
	out.Required = append(out.Required, s.Required...)
	for _, part := range s.AllOf {
		d.flatten(part, out, depth+1)
	}
}

// Members are the property names of s once flattened, sorted.
func (d *Doc) Members(s *Schema) []string {
	f := d.Flatten(s)
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.Properties))
	for n := range f.Properties {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
