//go:build mutant

// Seeded bug h13-key-fingerprint-raw-bytes (blind hunt 13, in our engine): the
// idempotency fingerprint hashes the body's bytes as sent, not the decoded
// request, so a retry with the same members in another order is answered
// 409 idempotency_key_conflict. Breaks SPEC §3 (a retry with the same key and
// the same request returns the original result). Every retry the harness sent
// was its original's bytes; A32 reorders the members.
package httpapi

import (
	"context"
	"encoding/json"
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
	raw, aerr := decode(w, r, m.body)
	if aerr != nil {
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
	actor := p.Name
	if actor == "" {
		actor = m.actor()
	}
	req := engine.Request{ActorID: actor, IdempotencyKey: key, CorrelationID: r.Header.Get("X-Correlation-ID")}
	if req.CorrelationID != "" && !engine.ValidKey(req.CorrelationID) {
		s.writeError(w, &apiError{http.StatusBadRequest, "invalid_correlation_id",
			fmt.Sprintf("X-Correlation-ID must be 1..%d characters of %s", engine.MaxKeyLen, engine.KeyAlphabet)})
		return
	}
	if key != "" {
		req.RequestHash = fingerprint(r.Method+" "+r.URL.Path+" "+actor, json.RawMessage(raw))
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
