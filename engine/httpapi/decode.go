package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/creditgate/creditgate/engine/money"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// decode reads a JSON body into dst: size-limited, unknown fields rejected,
// numbers kept exact. It returns the raw body for the request fingerprint.
func decode(w http.ResponseWriter, r *http.Request, dst any) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)}
		}
		return nil, &apiError{http.StatusBadRequest, "bad_request", "could not read the request body"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
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
