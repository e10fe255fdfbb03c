package audit

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Shape judging: a client written for the original reads fields by name and
// by JSON type (a Python client does arithmetic on "balance_after"; a string
// "95.5" breaks it even though it holds the right value). ShapeViolations
// checks both, so a backend that drops, renames or retypes a field of the
// SPEC §6 table fails, whatever its values are.

// ShapeViolations checks doc (decoded with json.Decoder.UseNumber, or with
// plain float64 numbers) against fields, each "path:kind|kind…":
//
//   - path is dotted: "a.b", "list[i].c" (element i; a missing or shorter
//     list is a violation), "m.*" (every member of object m; an empty
//     object passes);
//   - kinds: number, string, bool, object, array, null, time (a string
//     in ISO 8601: RFC 3339 with or without fractional seconds, or the
//     original's zone-less datetime.isoformat()), utctime (an event's
//     timestamp, SPEC §2: RFC 3339 in UTC), and unixtime (a number of
//     seconds since 1970, as Python's time.time() gives it: milliseconds
//     or a negative number are violations).
//
// It returns one line per violation, naming the path, what was found and
// what was wanted.
func ShapeViolations(doc any, fields ...string) []string {
	var out []string
	for _, f := range fields {
		path, kinds, ok := strings.Cut(f, ":")
		if !ok {
			out = append(out, fmt.Sprintf("%s: field spec without kinds", f))
			continue
		}
		want := strings.Split(kinds, "|")
		for _, v := range resolve(doc, path) {
			if v.missing != "" {
				out = append(out, v.path+": "+v.missing)
				continue
			}
			if !hasKind(v.value, want) {
				out = append(out, fmt.Sprintf("%s: %s, want %s", v.path, describe(v.value), strings.Join(want, " or ")))
			}
		}
	}
	return out
}

type located struct {
	path    string
	value   any
	missing string // why the path does not resolve ("" when it does)
}

// resolve walks path through doc and returns every value it names ("*"
// fans out over an object's members, in sorted order for stable output).
func resolve(doc any, path string) []located {
	cur := []located{{path: "", value: doc}}
	for _, part := range strings.Split(path, ".") {
		name, idx, isList := strings.Cut(part, "[")
		var next []located
		for _, c := range cur {
			if c.missing != "" {
				next = append(next, c)
				continue
			}
			at := join(c.path, part)
			m, ok := c.value.(map[string]any)
			if !ok {
				next = append(next, located{path: at, missing: "parent " + c.path + " is " + describe(c.value) + ", not an object"})
				continue
			}
			if name == "*" {
				for _, k := range sortedKeys(m) {
					next = append(next, located{path: join(c.path, k), value: m[k]})
				}
				continue
			}
			v, ok := m[name]
			if !ok {
				next = append(next, located{path: at, missing: "missing"})
				continue
			}
			if isList {
				i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
				l, isArr := v.([]any)
				switch {
				case err != nil:
					next = append(next, located{path: at, missing: "bad index in field spec"})
					continue
				case !isArr:
					next = append(next, located{path: at, missing: describe(v) + ", want a list"})
					continue
				case i >= len(l):
					next = append(next, located{path: at, missing: fmt.Sprintf("list has %d entries", len(l))})
					continue
				}
				v = l[i]
			}
			next = append(next, located{path: at, value: v})
		}
		cur = next
	}
	return cur
}

func join(parent, part string) string {
	if parent == "" {
		return part
	}
	return parent + "." + part
}

func hasKind(v any, kinds []string) bool {
	for _, k := range kinds {
		switch k {
		case "number":
			switch v.(type) {
			case json.Number, float64:
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "bool":
			if _, ok := v.(bool); ok {
				return true
			}
		case "object":
			if _, ok := v.(map[string]any); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "null":
			if v == nil {
				return true
			}
		case "time":
			if s, ok := v.(string); ok && isISO8601(s) {
				return true
			}
		case "utctime":
			if s, ok := v.(string); ok && isUTC3339(s) {
				return true
			}
		case "unixtime":
			if f, ok := seconds(v); ok && f >= 0 && f < maxUnixSeconds {
				return true
			}
		}
	}
	return false
}

// maxUnixSeconds is 5138-11-16 in Unix seconds: a larger "unixtime" is in
// milliseconds (1.7e12 today), which a client of the original misreads.
const maxUnixSeconds = 1e11

func seconds(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// isISO8601 accepts what clients of the original parse: RFC 3339 (any
// fraction) and the zone-less form Python's datetime.isoformat() writes.
func isISO8601(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// isUTC3339 is an event's timestamp (SPEC §2: RFC 3339 UTC), as a ledger
// entry carries it: any fraction, the zone Z or +00:00.
func isUTC3339(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return false
	}
	_, off := t.Zone()
	return off == 0
}

// describe names a value's JSON kind with a short excerpt.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return strconv.Quote(x) + " (string)"
	case json.Number:
		return string(x) + " (number)"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64) + " (number)"
	case bool:
		return strconv.FormatBool(x) + " (bool)"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
