package explore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/scenarios/openapi"
)

// GrammarCase is one request generated from the request grammar (the
// OpenAPI document's body schemas, SPEC §6, docs/events.md §5b): an
// invalid variant must be refused with one of Codes (4xx) and change
// nothing; a valid one must be accepted by the grammar (the rules may still
// refuse it, never with a grammar code or a 5xx).
type GrammarCase struct {
	Name        string
	Method      string
	Path        string
	Body        []byte
	ContentType string // "" = application/json
	Key         string // Idempotency-Key header ("" = none)
	Valid       bool
	Codes       []string // acceptable refusal codes of an invalid case
	// Bound: a valid case whose member holds a value at a bound its schema
	// documents (minimum, maximum): not refused as invalid either.
	Bound bool
	// Ours: the case is about our engine's own contract beyond SPEC §3/§6
	// (docs/events.md §5b: the key and id alphabets, the reserved '#', key
	// length; the JSON media type), not about every conforming backend.
	Ours bool
}

// GrammarCodes are the codes a grammar refusal may carry: a valid case
// answered with one of them was refused by the grammar.
var GrammarCodes = []string{"malformed_json", "duplicate_member", "ambiguous_member", "unknown_field", "invalid_utf8",
	"invalid_idempotency_key", "invalid_correlation_id", "unsupported_media_type", "body_too_large"}

// keyAlphabet and idAlphabet are docs/events.md §5b; '#' is reserved for
// derived keys "<key>#<n>".
const (
	idAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@+=-"
	keyAlphabet = idAlphabet + "/"
)

// GrammarCases generates the cases from an OpenAPI document. agent names an
// existing agent (valid bodies of credit routes use it); fresh returns a
// new unique id on every call (ids, keys).
func GrammarCases(doc []byte, agent string, fresh func() string) ([]GrammarCase, error) {
	d, err := openapi.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("grammar: %w", err)
	}
	var out []GrammarCase
	for _, op := range d.Operations() {
		s := d.Flatten(op.Body)
		if s == nil || len(s.Properties) == 0 {
			continue
		}
		path := fillPath(op.Path, fresh)
		base := map[string]json.RawMessage{}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			if n != "idempotency_key" { // the key's own cases are alphabetCases
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			base[n] = validValue(n, d.Flatten(s.Properties[n]), agent, fresh)
		}
		route := op.Method + " " + op.Path
		out = append(out, routeCases(route, op.Method, path, base, names, d.Flatten, s, fresh)...)
	}
	out = append(out, alphabetCases(agent, fresh)...)
	return out, nil
}

func fillPath(p string, fresh func() string) string {
	for {
		i := strings.Index(p, "{")
		if i < 0 {
			return p
		}
		j := strings.Index(p[i:], "}")
		p = p[:i] + "g-none-" + fresh() + p[i+j+1:]
	}
}

// validValue is a value the grammar accepts for a member.
func validValue(name string, s *openapi.Schema, agent string, fresh func() string) json.RawMessage {
	q := func(v string) json.RawMessage { b, _ := json.Marshal(v); return b }
	switch name {
	case "agent_id", "refund_to":
		return q(agent)
	case "amount", "actual_cost":
		return json.RawMessage("0.5")
	case "skill_level", "rating":
		return json.RawMessage("0.5")
	case "action_type":
		return q("add")
	case "agent_ids", "members":
		return json.RawMessage(`["` + agent + `"]`)
	case "contribution_scores":
		return json.RawMessage(`{"` + agent + `":0.5}`)
	case "expected_version":
		return json.RawMessage("1")
	case "complexity":
		return q("low")
	case "mission_type":
		return q("general")
	}
	if s != nil {
		switch s.Type {
		case "number", "integer":
			return json.RawMessage("1")
		case "array":
			return json.RawMessage("[]")
		case "object":
			return json.RawMessage("{}")
		case "boolean":
			return json.RawMessage("false")
		}
	}
	if strings.HasSuffix(name, "_id") {
		return q("g-" + fresh())
	}
	return q("grammar")
}

// render writes members in order; dup repeats one member (raw name).
func render(members [][2]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m[0])
		b.WriteByte(':')
		b.WriteString(m[1])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func quoted(s string) string { b, _ := json.Marshal(s); return string(b) }

// number renders v with at most three decimals, no float noise.
func number(v float64) string {
	s := strings.TrimRight(fmt.Sprintf("%.3f", v), "0")
	return strings.TrimSuffix(s, ".")
}

// nest wraps v in depth levels of objects (and arrays every other level).
func nest(v string, depth int) string {
	for i := 0; i < depth; i++ {
		if i%2 == 1 {
			v = "[" + v + "]"
		} else {
			v = `{"n":` + v + `}`
		}
	}
	return v
}

func routeCases(route, method, path string, base map[string]json.RawMessage, names []string, resolve func(*openapi.Schema) *openapi.Schema,
	s *openapi.Schema, fresh func() string) []GrammarCase {
	members := func() [][2]string {
		var m [][2]string
		for _, n := range names {
			if v, ok := base[n]; ok {
				m = append(m, [2]string{quoted(n), string(v)})
			}
		}
		return m
	}
	var out []GrammarCase
	add := func(name string, body []byte, valid bool, codes ...string) {
		out = append(out, GrammarCase{Name: route + ": " + name, Method: method, Path: path, Body: body, Key: "g" + fresh(),
			Valid: valid, Codes: codes})
	}
	add("valid base body", render(members()), true)
	for i, n := range names {
		ms := members()
		if i >= len(ms) {
			break
		}
		v := ms[i][1]
		// Every member repeated, with the same and another value; and once
		// more under an escaped spelling of its name (same name decoded).
		add("duplicate "+n, render(append(ms, [2]string{quoted(n), v})), false, "duplicate_member")
		esc := `"` + strings.Replace(n, "_", `\u005f`, 1) + `"`
		if !strings.Contains(n, "_") {
			esc = `"\u00` + fmt.Sprintf("%02x", n[0]) + n[1:] + `"`
		}
		add("duplicate "+n+" (escaped name)", render(append(ms, [2]string{esc, v})), false, "duplicate_member")
		// Case variants of the member name.
		for _, c := range []string{strings.ToUpper(n), strings.ToUpper(n[:1]) + n[1:]} {
			if c == n {
				continue
			}
			ms2 := members()
			ms2[i][0] = quoted(c)
			add("member spelled "+c, render(ms2), false, "ambiguous_member")
		}
		// A wrong JSON type where the grammar wants a string or a number
		// is refused too (which code depends on the field).
		if sp := resolve(s.Properties[n]); sp != nil && sp.Type == "string" {
			ms2 := members()
			ms2[i][1] = "{}"
			add("object where "+n+" is a string", render(ms2), false, "invalid", "malformed_json", "unknown_field")
		}
		// The documented bounds of a number: at each inclusive bound it is
		// valid, just outside (or at an exclusive bound) invalid.
		if sp := resolve(s.Properties[n]); sp != nil && (sp.Type == "number" || sp.Type == "integer") {
			step := 0.001
			if sp.Type == "integer" {
				step = 1
			}
			for _, b := range []struct {
				at   *float64
				open bool
				side string
				out  float64
			}{{sp.Min, sp.MinOpen, "minimum", -step}, {sp.Max, sp.MaxOpen, "maximum", step}} {
				if b.at == nil {
					continue
				}
				at := *b.at
				if !b.open {
					ms2 := members()
					ms2[i][1] = number(at)
					// Money at its bound (amount, actual_cost) meets the rules
					// (thresholds, balances), which refuse with codes of their own.
					out = append(out, GrammarCase{Name: route + ": " + n + " at its " + b.side + " " + number(at), Method: method, Path: path,
						Body: render(ms2), Key: "g" + fresh(), Valid: true, Bound: n != "amount" && n != "actual_cost"})
					at += b.out
				}
				ms2 := members()
				ms2[i][1] = number(at)
				add(n+" outside its "+b.side+" ("+number(at)+")", render(ms2), false, "invalid")
			}
		}
		// Duplicates at every depth inside the member's value (objects and
		// arrays nested up to 4 levels).
		for depth := 1; depth <= 4; depth++ {
			ms2 := members()
			ms2[i][1] = nest(`{"x":1,"x":2}`, depth-1)
			add(fmt.Sprintf("duplicate inside %s at depth %d", n, depth), render(ms2), false, "duplicate_member")
		}
	}
	// Duplicates under an unknown member at every depth, and unknown members.
	for depth := 1; depth <= 4; depth++ {
		add(fmt.Sprintf("duplicate inside an unknown member at depth %d", depth),
			render(append(members(), [2]string{`"zz_extra"`, nest(`{"y":true,"y":false}`, depth-1)})), false, "duplicate_member")
	}
	add("unknown member", render(append(members(), [2]string{`"zz_extra"`, "1"})), false, "unknown_field")
	add("trailing data", append(render(members()), []byte(` {}`)...), false, "malformed_json")
	full := render(members())
	add("truncated", full[:len(full)-1], false, "malformed_json")
	add("not an object", []byte(`[1,2]`), false, "malformed_json", "invalid")
	add("invalid UTF-8", []byte(`{"reason":"`+"\xff\xfe"+`"}`), false, "invalid_utf8")
	// The media type is our engine's contract; SPEC §6 fixes none.
	out = append(out, GrammarCase{Name: route + ": text/plain", Method: method, Path: path, Body: full, ContentType: "text/plain",
		Key: "g" + fresh(), Codes: []string{"unsupported_media_type"}, Ours: true})
	if _, ok := base["amount"]; ok {
		// "12345e-4", "2.5e-3", "1.2345E0": a fourth decimal in exponent
		// form, whose digits after a '.' (if any) are not the decimals.
		for _, a := range []string{"0", "-1", "0.0001", "1e-4", "12345e-4", "2.5e-3", "1.2345E0", `"NaN"`, "true", "1e999", `"abc"`, "null"} {
			ms := members()
			for j := range ms {
				if ms[j][0] == `"amount"` {
					ms[j][1] = a
				}
			}
			add("amount "+a, render(ms), false, "invalid")
		}
	}
	return out
}

// alphabetCases: every byte class of the key alphabet (header and body
// field), the reserved '#', and the id alphabet, on consume and agents —
// our engine's contract (Ours), which SPEC §3 does not fix.
func alphabetCases(agent string, fresh func() string) []GrammarCase {
	var out []GrammarCase
	consume := func(extra string) []byte {
		return []byte(`{"agent_id":` + quoted(agent) + `,"amount":0.001,"reason":"grammar"` + extra + `}`)
	}
	for c := 0x20; c < 0x7f; c++ {
		ch := string(rune(c))
		valid := strings.ContainsRune(keyAlphabet, rune(c))
		codes := []string{"invalid_idempotency_key"}
		key := "gk" + fresh() + ch + "x"
		// Header: printable ASCII travels as is.
		out = append(out, GrammarCase{Name: fmt.Sprintf("consume: key with %q in the Idempotency-Key header", ch), Method: "POST",
			Path: "/api/credits/consume", Body: consume(""), Key: key, Valid: valid, Codes: codes})
		out = append(out, GrammarCase{Name: fmt.Sprintf("consume: key with %q in the idempotency_key member", ch), Method: "POST",
			Path: "/api/credits/consume", Body: consume(`,"idempotency_key":` + quoted("gb"+fresh()+ch+"x")), Valid: valid, Codes: codes})
		id := "ga" + fresh() + ch + "x"
		out = append(out, GrammarCase{Name: fmt.Sprintf("agents: id with %q", ch), Method: "POST", Path: "/api/credits/agents",
			Body: []byte(`{"agent_id":` + quoted(id) + `,"skill_level":0}`), Key: "g" + fresh(),
			Valid: strings.ContainsRune(idAlphabet, rune(c)), Codes: []string{"invalid"}})
	}
	for _, k := range []string{"\x00", "\t", "\n", "é", "\u2028", "\U0001F600", strings.Repeat("k", 201)} {
		out = append(out, GrammarCase{Name: fmt.Sprintf("consume: key member %q", k), Method: "POST", Path: "/api/credits/consume",
			Body: consume(`,"idempotency_key":` + quoted("gb"+fresh()+k)), Codes: []string{"invalid_idempotency_key"}})
	}
	out = append(out, GrammarCase{Name: "consume: a derived key <key>#1", Method: "POST", Path: "/api/credits/consume",
		Body: consume(""), Key: "gk" + fresh() + "#1", Codes: []string{"invalid_idempotency_key"}})
	out = append(out, GrammarCase{Name: "consume: header and member keys differ", Method: "POST", Path: "/api/credits/consume",
		Body: consume(`,"idempotency_key":"other` + fresh() + `"`), Key: "gk" + fresh(), Codes: []string{"invalid"}})
	for i := range out {
		out[i].Ours = true
	}
	return out
}
