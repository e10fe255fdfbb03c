package mutants

// hunt2Mutants come from a second blind hunt (bugs written from the SPEC
// and the engine without reading the gates) in areas the first did not
// touch: event envelopes, read routes, status codes, approval expiry and
// versions. Of its eleven bugs the gates of the day rejected two (EoC band,
// HIGH timeout); two more are rejected since the checks they name were
// widened (B41 bounds each page by its limit, B50 reads unknown ids on every
// per-entity route, D45 counts the fallbacks of an agent KARMA never scored). The classes still getting through are listed in
// docs/gates.md ("Known escapes") with the harness change each needs.
func hunt2Mutants() []Mutant {
	return []Mutant{
		{Name: "eoc-band-safe-as-optimal", Gate: "b", Check: "B11", Bug: "EoC band of a score in [0.3, 0.5) is optimal (the safe band taken for the optimal band)"},
		{Name: "events-limit-off-by-one", Gate: "b", Check: "B41", Bug: "GET /events?limit=M answers M+1 lines"},
		{Name: "synergie-unknown-agent-empty", Gate: "b", Check: "B50", Bug: "GET /synergie/{agent} of an unknown agent answers 200 with no teams instead of 404"},
		{Name: "stale-expected-version-accepted", Gate: "b", Check: "B47", Bug: "a decision with a stale expected_version is accepted (only a future version is refused)"},
		{Name: "high-expires-on-medium-timeout", Gate: "c", Check: "C32", Bug: "a HIGH request's expires_at uses the MEDIUM timeout"},
		// On one instance the queue is first in, first out, so arrival order
		// is seq order; across instances a command waits for the append lock
		// while another instance commits later arrivals.
		{Name: "timestamp-at-arrival", Gate: "a", Check: "A28", Env: []string{"CREDITGATE_TARGET=cluster"},
			Bug: "an event's timestamp is its request's arrival time, not the commit's: timestamps go backwards in seq order under concurrency"},
		{Name: "karma-fallback-count-on-failure-only", Gate: "d", Check: "D45", Verdict: "CONDITIONAL", // D45 is not critical: a miscounted fallback is CONDITIONAL
			Bug: "GET /karma/status fallback_count counts only fallbacks after a failed call, none while the breaker is open"},
	}
}
