// Package karma owns agent scoring through the external KARMA service: an
// HTTP client with a per-request timeout, a circuit breaker, a bounded cache
// of recent live scores and a fixed fallback score (CI = 0.5).
//
// Invariants: Score never returns an error and never blocks longer than
// about Config.Timeout, whatever KARMA does (refuses, errors, hangs, answers
// garbage); while the breaker is open Score makes no HTTP call at all; in
// half-open at most one probe is in flight; every Score says where its value
// came from (live, cache or fallback). A failing KARMA therefore can degrade
// the quality of a score but never fail or stall a credit operation.
//
// The wire contract (GET /v1/score/{agent_id}, GET /healthz) is written down
// in docs/karma.md. Time comes from Config.Now so tests drive the breaker
// cooldown and the cache TTL with a fake clock.
//
// A Client is safe for concurrent use by many goroutines.
//
// It imports nothing of this module; in particular it never imports chaos/
// (tests in package karma_test use the chaos/karmastub server).
package karma
