//go:build mutant

// Seeded bug h10-oversized-body-truncated (blind hunt 10, in our engine): a body past
// MaxBodyBytes is cut at the limit instead of refused. Breaks SPEC §6 ("Bodies are
// size-limited", "413 body too large"): a valid body padded with whitespace past the limit is
// valid JSON again once cut, and is applied; a long member value is answered 400
// malformed_json instead of 413.
package httpapi

import (
	"io"
	"net/http"
)

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "bad_request", "could not read the request body"}
	}
	return body, nil
}
