package mutants

// Mutants of the history helper: each proves a real-time rule of
// gates/audit/realtime.go rejects the bug class it names.
func historyMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "stale-balance-cache", Gate: "b", Check: "RT1",
			Bug: "GET /balance serves a value cached for 200 ms, so a read sent after a write was acknowledged can miss it (RT1)",
			Patches: []Patch{Marked("engine/httpapi/credits.go", "balance-read",
				`func (s *Server) balance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	b, err := s.eng.Balance(id)`,
				`type staleEntry struct {
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
	}`)}},
		Mutant{Name: "decided-answers-not-found", Gate: "c", Check: "RT3",
			Bug: "a decision on an already decided request is refused 404 not_found instead of 409 already_decided (RT3)",
			Patches: []Patch{Marked("engine/approvals.go", "decided-refusal",
				`		return ap, false, refuse(CodeAlreadyDecided, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},`,
				`		return ap, false, refuse(CodeNotFound, DecidedBody{RequestID: ap.RequestID, Status: ap.Status,
			DecisionEventID: ap.DecisionEventID, DecidedBy: ap.DecidedBy, Version: ap.Version},`)}},
		Mutant{Name: "retry-writes-twice-under-load", Gate: "e", Check: "E8",
			Bug: "the idempotency lookup is skipped, so the load's retries and duplicates write twice (gate E's load-history audit)",
			Env: []string{"LIVE_TEST_DURATION=20s"},
			Patches: []Patch{Marked("engine/engine.go", "idempotency-lookup",
				"if k, ok := e.keys.lookup(req.IdempotencyKey); ok {", "if k, ok := e.keys.lookup(req.IdempotencyKey); ok && false {")}},
	}
}
