//go:build mutant

// Seeded bug nested-duplicate-members (gate A, check A25): duplicate JSON
// members are refused only at the top level of a body.

package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

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
			if seen[k] && depth == 0 {
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
