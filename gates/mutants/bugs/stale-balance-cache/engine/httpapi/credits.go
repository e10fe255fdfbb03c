//go:build mutant

// Seeded bug stale-balance-cache (gate B, check RT1): GET /balance serves a
// value cached for 200 ms, so a read sent after a write was acknowledged can
// miss it (RT1).

package httpapi

import (
	"net/http"
	"time"

	"github.com/creditgate/creditgate/engine/money"
)

type staleEntry struct {
	milli int64
	at    time.Time
}

var staleLock = make(chan struct{}, 1)

var staleCache = map[string]staleEntry{}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	staleLock <- struct{}{}
	c, hit := staleCache[id]
	<-staleLock
	b, err := c.milli, error(nil)
	if !hit || time.Since(c.at) > 200*time.Millisecond {
		if b, err = s.eng.Balance(id); err == nil {
			staleLock <- struct{}{}
			staleCache[id] = staleEntry{milli: b, at: time.Now()}
			<-staleLock
		}
	}
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent_id": id, "balance": money.Credits(b), "balance_milli": b})
}
