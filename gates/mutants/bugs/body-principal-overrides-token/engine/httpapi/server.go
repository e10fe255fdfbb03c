//go:build mutant

// Seeded bug body-principal-overrides-token (gate C, check C31):
// requester_id / approver_id / actor_id from the body override the token's
// principal, so four-eyes is bypassed.

package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/creditgate/creditgate/engine"
)

func (s *Server) mutate(w http.ResponseWriter, r *http.Request, m mutation) {
	p, aerr := s.authenticate(r, m.access)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	if _, aerr := decode(w, r, m.body); aerr != nil {
		s.writeError(w, aerr)
		return
	}
	key, kerr := requestKey(r, m.body.take())
	if kerr != nil {
		s.writeError(w, kerr)
		return
	}
	// A key is printable ASCII of engine.KeyAlphabet, checked before
	// anything happens: a key with invalid UTF-8 would be kept raw in memory
	// but journaled with U+FFFD, so two keys would collapse after a restart
	// and a retry would execute again. '#' is reserved: the engine derives
	// "<key>#<n>" for a command's further events.
	if key != "" && !engine.ValidKey(key) {
		s.writeError(w, &apiError{http.StatusBadRequest, "invalid_idempotency_key",
			fmt.Sprintf("idempotency key must be 1..%d characters of %s", engine.MaxKeyLen, engine.KeyAlphabet)})
		return
	}
	actor := m.actor()
	if actor == "" || actor == "anonymous" {
		actor = p.Name
	}
	req := engine.Request{ActorID: actor, IdempotencyKey: key, CorrelationID: r.Header.Get("X-Correlation-ID")}
	if req.CorrelationID != "" && !engine.ValidKey(req.CorrelationID) {
		s.writeError(w, &apiError{http.StatusBadRequest, "invalid_correlation_id",
			fmt.Sprintf("X-Correlation-ID must be 1..%d characters of %s", engine.MaxKeyLen, engine.KeyAlphabet)})
		return
	}
	if key != "" {
		req.RequestHash = fingerprint(r.Method+" "+r.URL.Path+" "+actor, m.body)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	res, err := m.run(ctx, req)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	status, body := m.render(res)
	writeJSON(w, status, body)
}
