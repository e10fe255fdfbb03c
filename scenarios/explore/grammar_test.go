package explore

import (
	"fmt"
	"strings"
	"testing"
)

// A backend's document that refers to itself or carries path-level
// parameters is still read: before scenarios/openapi the grammar looped for
// ever on a $ref cycle (gate A hung) and refused the whole document over a
// path's "parameters" list.
func TestTheGrammarIsReadFromDocumentsWithCyclesAndPathParameters(t *testing.T) {
	doc := `{"paths": {"/api/credits/pools/{pool_id}/allocate": {
	   "parameters": [{"name": "pool_id", "in": "path", "required": true}],
	   "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Alloc"}}}}}},
	  "/api/credits/loop": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
	 "components": {"schemas": {
	   "Alloc": {"type": "object", "properties": {"agent_id": {"type": "string"}, "amount": {"type": "number"}, "next": {"$ref": "#/components/schemas/Alloc"}}},
	   "A": {"$ref": "#/components/schemas/B"}, "B": {"allOf": [{"$ref": "#/components/schemas/A"}]}}}}`
	n := 0
	cases, err := GrammarCases([]byte(doc), "agent-1", func() string { n++; return fmt.Sprint(n) })
	if err != nil {
		t.Fatalf("GrammarCases: %v", err)
	}
	var valid string
	for _, c := range cases {
		if c.Valid && strings.HasPrefix(c.Name, "POST /api/credits/pools/{pool_id}/allocate: valid") {
			valid = string(c.Body)
		}
		if strings.Contains(c.Name, "/api/credits/loop") {
			t.Errorf("a schema that is only a reference loop names no member, yet got case %q", c.Name)
		}
	}
	if want := `{"agent_id":"agent-1","amount":0.5,"next":{}}`; valid != want {
		t.Fatalf("valid base body of the allocate route %s, want %s", valid, want)
	}
}
