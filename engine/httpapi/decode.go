package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/creditgate/creditgate/engine/money"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// decode reads a JSON body into dst: size-limited, unknown fields rejected,
// numbers kept exact. It returns the raw body for the request fingerprint.
func decode(w http.ResponseWriter, r *http.Request, dst any) ([]byte, *apiError) {
	// Checked whatever the body: an empty POST with a form Content-Type is
	// what a cross-site HTML form sends, and it must not cancel a mission.
	if aerr := checkContentType(r.Header.Get("Content-Type")); aerr != nil {
		return nil, aerr
	}
	body, aerr := readBody(w, r)
	if aerr != nil {
		return nil, aerr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if aerr := unambiguous(body, dst); aerr != nil {
		return nil, aerr
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return nil, &apiError{http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("field %q must be %s", ute.Field, ute.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return nil, &apiError{http.StatusUnprocessableEntity, "unknown_field", strings.TrimPrefix(err.Error(), "json: ")}
		}
		return nil, &apiError{http.StatusBadRequest, "malformed_json", "malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &apiError{http.StatusBadRequest, "malformed_json", "malformed JSON: trailing data after the object"}
	}
	return body, nil
}

// readBody reads the whole body, refusing one past MaxBodyBytes with 413
// (SPEC §6) — never cut at the limit: a valid body padded past it would
// be valid again once cut.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)}
		}
		return nil, &apiError{http.StatusBadRequest, "bad_request", "could not read the request body"}
	}
	return body, nil
}

// number is an amount field as sent. Unlike json.Number it accepts any JSON
// value while decoding, so a non-number ("abc", "NaN", true) is refused by
// amount with 422 naming the field; json.Number makes the decoder fail with
// an error that names no field (400). A string holding a valid number is
// still accepted, as json.Number did.
type number json.Number

func (n *number) UnmarshalJSON(b []byte) error {
	var v json.Number
	if json.Unmarshal(b, &v) != nil {
		*n = number(b) // kept raw: money.ParsePositive refuses it as not a number
		return nil
	}
	*n = number(v)
	return nil
}

// amount parses a credits amount field exactly.
func (s *Server) amount(field string, n *number) (int64, *apiError) {
	if n == nil {
		return 0, &apiError{http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s is required", field)}
	}
	m, err := money.ParsePositive(json.Number(*n), s.maxAmount)
	if err != nil {
		return 0, &apiError{http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s %s", field, err)}
	}
	return m, nil
}

// fingerprint identifies a request for idempotency-key conflicts: the
// route and the decoded body re-encoded canonically without its key.
func fingerprint(route string, v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(append([]byte(route+"\n"), b...))
	return hex.EncodeToString(h[:16])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// checkContentType accepts a mutation only as application/json, optionally
// with charset=utf-8, also with an empty body: a cross-site HTML form
// (urlencoded, multipart, text/plain) can never reach a handler (415
// otherwise, also when absent).
func checkContentType(ct string) *apiError {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		cs, has := params["charset"]
		if len(params) == 0 || (len(params) == 1 && has && strings.EqualFold(cs, "utf-8")) {
			return nil
		}
	}
	return &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type",
		"a mutating request must be sent with Content-Type: application/json (optionally ; charset=utf-8), also with an empty body"}
}

// unambiguous refuses (400) a body that encoding/json would read with a
// silent choice: bytes that are not valid UTF-8 (replaced by U+FFFD, so two
// distinct ids or keys would collapse), a member repeated in one object
// (the last would win), or a top-level member that matches a field only
// case-insensitively ("AMOUNT" next to "amount"): every member must be
// spelled exactly as its field. Members naming no field at all are left to
// the decoder, which refuses them as unknown (422).
func unambiguous(body []byte, dst any) *apiError {
	if !utf8.Valid(body) {
		return &apiError{http.StatusBadRequest, "invalid_utf8", "the request body is not valid UTF-8"}
	}
	fields := fieldNames(reflect.TypeOf(dst))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if aerr := walkValue(dec, fields, 0); aerr != nil {
		return aerr
	}
	return nil
}

const maxJSONDepth = 32

// walkValue reads one JSON value; fields is the exact member set checked at
// depth 0 (nil elsewhere). Syntax errors are left to the real decode.
func walkValue(dec *json.Decoder, fields map[string]bool, depth int) *apiError {
	if depth > maxJSONDepth {
		return &apiError{http.StatusBadRequest, "malformed_json", fmt.Sprintf("JSON nested deeper than %d levels", maxJSONDepth)}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil
			}
			k, _ := kt.(string)
			if seen[k] {
				return &apiError{http.StatusBadRequest, "duplicate_member", fmt.Sprintf("member %q appears more than once", k)}
			}
			seen[k] = true
			if depth == 0 && fields != nil && !fields[k] {
				for f := range fields {
					if strings.EqualFold(f, k) {
						return &apiError{http.StatusBadRequest, "ambiguous_member",
							fmt.Sprintf("member %q is not spelled exactly as the field %q", k, f)}
					}
				}
			}
			if aerr := walkValue(dec, nil, depth+1); aerr != nil {
				return aerr
			}
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if aerr := walkValue(dec, nil, depth+1); aerr != nil {
				return aerr
			}
		}
		_, _ = dec.Token()
	}
	return nil
}

var fieldCache sync.Map // reflect.Type → map[string]bool

// fieldNames returns the exact JSON member names of a struct (pointer)
// type, embedded structs flattened; nil for other types.
func fieldNames(t reflect.Type) map[string]bool {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]bool)
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && !strings.HasPrefix(tag, "-,") {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = true
		}
	}
	walk(t)
	fieldCache.Store(t, out)
	return out
}
