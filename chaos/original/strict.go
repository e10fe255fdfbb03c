package original

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"
)

// fields are the members each write accepts (SPEC §6: unknown JSON fields
// are rejected).
var fields = map[string]map[string]bool{
	"agents":  {"agent_id": true, "skill_level": true, "actor_id": true, "idempotency_key": true},
	"consume": {"agent_id": true, "amount": true, "reason": true, "mission_id": true, "actor_id": true, "idempotency_key": true},
	"refund":  {"agent_id": true, "amount": true, "reason": true, "mission_id": true, "actor_id": true, "idempotency_key": true},
	"add":     {"agent_id": true, "amount": true, "reason": true, "actor_id": true, "idempotency_key": true},
}

// refuseRequest is the request hygiene a correct backend keeps before any
// rule runs: a JSON Content-Type (415), a valid UTF-8 body (400), a
// printable-ASCII Idempotency-Key (400), well-formed JSON (400), one JSON
// object whose members are each named once (400) and each a field of the
// route (422). 0 when the request may go on.
func refuseRequest(r *http.Request, kind string, body []byte) (int, string, string) {
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" ||
		(params["charset"] != "" && params["charset"] != "utf-8" && params["charset"] != "UTF-8") {
		return http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json"
	}
	if !utf8.Valid(body) {
		return http.StatusBadRequest, "invalid_utf8", "the body is not valid UTF-8"
	}
	if key := r.Header.Get("Idempotency-Key"); len(key) > maxKeyLen || !printableASCII(key) {
		return http.StatusBadRequest, "invalid_idempotency_key", fmt.Sprintf("Idempotency-Key: at most %d printable ASCII characters", maxKeyLen)
	}
	names, err := topLevelMembers(quotePythonTokens(body))
	if err != nil {
		return http.StatusBadRequest, "bad_request", "malformed JSON: " + err.Error()
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return http.StatusBadRequest, "duplicate_member", fmt.Sprintf("member %q given twice", n)
		}
		seen[n] = true
		if !fields[kind][n] {
			return http.StatusUnprocessableEntity, "unknown_field", fmt.Sprintf("unknown field %q", n)
		}
	}
	return 0, "", ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// topLevelMembers reads one JSON object and returns its member names in
// order (repeats kept), or why the body is not one well-formed object.
func topLevelMembers(body []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		names = append(names, name)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return names, nil
}
