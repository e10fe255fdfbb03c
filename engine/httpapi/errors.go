package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/creditgate/creditgate/engine"
)

// apiError is a uniform error response {"detail","code"}.
type apiError struct {
	status int
	code   string
	detail string
}

// codeStatus is the one table from engine outcomes to HTTP statuses.
var codeStatus = map[engine.Code]int{
	engine.CodeInvalid:               http.StatusUnprocessableEntity,
	engine.CodeJustificationRequired: http.StatusUnprocessableEntity,
	engine.CodeNotFound:              http.StatusNotFound,
	engine.CodeAgentExists:           http.StatusConflict,
	engine.CodeInsufficientCredits:   http.StatusConflict,
	engine.CodeAlreadyDecided:        http.StatusConflict,
	engine.CodeVersionMismatch:       http.StatusConflict,
	engine.CodeIdempotencyConflict:   http.StatusConflict,
	engine.CodeConflict:              http.StatusConflict,
	engine.CodeQuarantined:           http.StatusConflict,
	engine.CodeDuplicateApprover:     http.StatusConflict,
	engine.CodeFourEyes:              http.StatusForbidden,
	engine.CodeNotMember:             http.StatusForbidden,
	engine.CodeRefundExceedsConsumed: http.StatusConflict,
	engine.CodeApprovalRequired:      http.StatusUnprocessableEntity,
}

// writeEngineError maps any engine error to a response.
func (s *Server) writeEngineError(w http.ResponseWriter, r *http.Request, err error) {
	var re *engine.RuleError
	switch {
	case errors.As(err, &re):
		status, ok := codeStatus[re.Code]
		if !ok {
			status = http.StatusConflict
		}
		if re.Code == engine.CodeIdempotencyConflict {
			s.metrics.keyConflicts.Add(1)
		}
		body := map[string]any{"detail": re.Detail, "code": string(re.Code)}
		if re.Body != nil {
			body["context"] = re.Body
			// already_decided names the winner at the top level too.
			if re.Code == engine.CodeAlreadyDecided {
				body["winner"] = re.Body
			}
		}
		writeJSON(w, status, body)
	case errors.Is(err, engine.ErrStoreUnavailable):
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "store_unavailable", "the event store is unavailable; retry later"})
	case errors.Is(err, engine.ErrJournalFailed):
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "journal_failed", err.Error()})
	case errors.Is(err, engine.ErrBusy):
		w.Header().Set("Retry-After", "1")
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "busy", err.Error()})
	case errors.Is(err, engine.ErrClosed):
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "shutting_down", "the server is shutting down"})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "timeout", "the request was cancelled before it finished"})
	default:
		s.log.Error("unexpected engine error", "method", r.Method, "path", r.URL.Path, "err", err)
		s.writeError(w, &apiError{http.StatusInternalServerError, "internal", "internal error"})
	}
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"detail": e.detail, "code": e.code})
}
