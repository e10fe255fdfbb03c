//go:build mutant

// Seeded bug h7-events-chunk-repeats-last (blind hunt 7): GET /events advances its resume point only
// while a chunk goes on, so after every full export chunk (4,096 lines or 1 MiB) the chunk's last
// line is sent again. Breaks SPEC §6 (the journal as JSONL, in seq order). Paged reads never see it;
// one request for more than a chunk does. A client sees: 5,002 events, GET /events?limit=10000 → 5,004
// lines, two seqs twice.

package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// events streams the journal as JSONL in seq order (durable lines only). It
// copies a bounded chunk out of the journal, releases it, then writes the
// chunk under a write deadline, and resumes after the chunk's last seq: the
// journal's read lock is never held across a network write, so a client
// that stops reading delays neither appends nor Close, and is cut off after
// exportWriteTimeout.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseUint(or(r.URL.Query().Get("after_seq"), "0"), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		s.writeError(w, &apiError{http.StatusUnprocessableEntity, "invalid", "after_seq must be a non-negative integer"})
		return
	}
	// A seq is an int64 in every store (a database casts it): beyond that
	// the request is malformed, not "everything from seq 1".
	if err != nil || after > math.MaxInt64 {
		s.writeError(w, &apiError{http.StatusBadRequest, "bad_request", "after_seq must be at most 9223372036854775807"})
		return
	}
	limit, aerr := pathInt(r, "limit", 10_000, 1, 1_000_000)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	select {
	case s.exports <- struct{}{}:
		defer func() { <-s.exports }()
	default:
		w.Header().Set("Retry-After", "1")
		s.writeError(w, &apiError{http.StatusServiceUnavailable, "too_many_exports",
			fmt.Sprintf("at most %d journal exports run at once; retry later", MaxExports)})
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	var chunk []byte
	n, next, wrote := 0, after, false
	for n < limit && r.Context().Err() == nil {
		chunk = chunk[:0]
		lines := 0
		ierr := s.eng.Events(next, func(line []byte, ev *event.Envelope) bool {
			chunk = append(chunk, line...)
			lines++
			n++
			if n < limit && lines < exportChunkLines && len(chunk) < exportChunkBytes {
				next = ev.Seq // the next chunk resumes after this line
				return true
			}
			return false
		})
		if ierr != nil && !wrote && lines == 0 {
			s.writeEngineError(w, r, ierr)
			return
		}
		if lines == 0 {
			break
		}
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
		if _, err := w.Write(chunk); err != nil {
			return // the client is gone or too slow: stop, holding nothing
		}
		wrote = true
		if lastChunk(ierr, lines, len(chunk)) {
			break
		}
	}
}
