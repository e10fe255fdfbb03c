package catalog

// Rule is one SPEC rule a backend must keep; entries name the rules they guard.
type Rule struct {
	ID   string // SPEC section and a short name
	Text string
}

// Rules are the rules of SPEC §1–§9 the gates guard.
var Rules = []Rule{
	{"§1 exact", "balances are exact milli-credit sums of their signed deltas"},
	{"§1 input", "≤ 3 decimals; NaN, ±Inf, non-numbers, zero, negative, above the maximum → 422"},
	{"§1 three decimals", "amounts with three decimals cross every path unrounded"},
	{"§2 envelope", "envelope fields, schema_version ≥ 1, correlation_id, unique event_id"},
	{"§2 causation", "derived events name their cause; multi-event commands complete"},
	{"§3 durability", "a mutation is acknowledged only once its line is synced; a power cut loses nothing acknowledged"},
	{"§3 sticky errors", "after a failed write every append is refused (503), health reports the journal failed"},
	{"§3 idempotent retry", "same key + same request → the original result, nothing written"},
	{"§3 key conflict", "same key + different request → 409 idempotency_key_conflict"},
	{"§3 keys survive restarts", "keys are rebuilt from the journal"},
	{"§3 concurrent duplicates", "the same key in flight twice → one event"},
	{"§3 checksum", "a per-line checksum; a flipped bit is detected"},
	{"§3 torn tail", "a torn tail is cut, kept in a sidecar, appends continue on a clean line"},
	{"§3 quarantine", "mid-file corruption is quarantined and reported, never silent"},
	{"§4 never negative", "no balance below zero after any event"},
	{"§4 ledger paged", "ledger newest first, paged; older pages from the journal"},
	{"§4 reads current", "reads reflect every acknowledged write"},
	{"§4 projections", "approvals, synergie, pools, missions as folds of the journal"},
	{"§4 digest", "the state digest is unchanged by replay"},
	{"§5 agents", "creating allocates round(skill × 100); an existing agent is 409"},
	{"§5 consume", "consume never overdraws at any concurrency; 409 with the balance; unknown agent 404"},
	{"§5 every money path", "withdraw, pool consume/transfer, mission start never overdraw; allocations never lost"},
	{"§5 risk levels", "threshold and MEDIUM/HIGH/CRITICAL by amount; approvers required"},
	{"§5 four eyes", "the requester may not approve; CRITICAL needs two distinct approvers with justification"},
	{"§5 first decision wins", "one terminal decision; later ones 409 already_decided"},
	{"§5 executes once", "an approval executes its action exactly once"},
	{"§5 expiry", "expired requests refuse decisions and never execute"},
	{"§5 audit", "the audit lists every decided request with each of its decision event ids"},
	{"§5 synergie reward", "base × contribution × (0.5 + KARMA), floored"},
	{"§5 synergie cap", "at most the cap per agent and team; reward_capped records the rest"},
	{"§5 synergie duplicates", "a repeated collaboration id writes nothing; a team < 2 is 422"},
	{"§5 KARMA never fails", "a KARMA outage never fails or stalls an operation"},
	{"§5 KARMA fallback", "cache, else the fallback CI 0.5, recorded as karma_source"},
	{"§5 KARMA health", "health degraded during a blackout, recovers by itself"},
	{"§5 anomalies", "anomalous consumes are flagged, never blocked; the norm is a fold, so it survives replay"},
	{"§5 EoC", "documented formula; 0.3–0.7 under anomaly chaos, never outside 0.1–0.9; no throttle spiral"},
	{"§5 pools", "members only consume; no overdraft; close refunds the remainder"},
	{"§5 missions", "estimate by type × complexity × (1 − 0.3 skill); complete/fail/cancel refunds by formula"},
	{"§6 errors", "uniform {detail, code}; 400/404/409/422; never 500 for bad input"},
	{"§6 journal over HTTP", "GET /events returns the journal lines byte for byte"},
	{"§6 OpenAPI", "an OpenAPI document is shipped"},
	{"§6 original shapes", "every field a client of the original reads (SPEC §6 table) keeps its name and JSON type"},
	{"§6 auth", "roles per route (reader, operator, service, approver, admin), 401/403 otherwise; no credit path above the threshold without approval"},
	{"§6 exposure", "without tokens creditd refuses a non-loopback address"},
	{"§6 health", "liveness, readiness and health endpoints tell the truth"},
	{"§6 counters", "the /metrics and /info counters count what their names say: journal events, events published, key conflicts"},
	{"§8/§9 load", "P95 < 500 ms at the target rate; no leak of memory, goroutines or fds"},
	{"§8 any backend", "the gates judge a backend they were not built with from its answers alone: retries, exact money, 5xx that changed nothing, refusals of hostile amounts"},
}
