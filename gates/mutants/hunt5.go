package mutants

// hunt5Mutants come from the fifth blind hunt (round 3, last stop): two
// engineers wrote six bugs each from the SPEC and the engine without
// reading the gates, one in money and the journal, one in the rules and
// the API surface. Ten were caught by the checks of the day. Two got
// through and name the change that closed their class: the explorer now
// draws our engine's memory bounds small for half the seeds, so requests
// evicted from memory are read back from the journal under the workload
// (h5-evicted-approval-drops-votes, B47), and B34 bounds the operations an
// EoC window counts by those sent in it (h5-eoc-window-keeps-counts).
func hunt5Mutants() []Mutant {
	return []Mutant{
		{Name: "h5-inflight-key-not-found", Gate: "a", Check: "A7",
			Bug: "a key whose command is still in flight is not found: concurrent duplicates in one commit batch each write their own event"},
		{Name: "h5-replayed-key-loses-hash", Gate: "a", Check: "A14",
			Bug: "keys rebuilt from the journal lose their request hash: after a restart a same-body retry is refused idempotency_key_conflict instead of replayed"},
		{Name: "h5-complete-last-command-cut", Gate: "d", Check: "D19",
			Bug: "recovery waits for one line too many before it accepts a multi-event command: one that ends the journal is cut off as a torn tail, acknowledged events and all"},
		{Name: "h5-ledger-ring-wrap-off-by-one", Gate: "b", Check: "B37",
			Bug: "once an agent's in-memory ledger window is full, GET /history lists the oldest kept entry first and the newest ones shifted by one"},
		{Name: "h5-synergie-capped-whole-reward", Gate: "b", Check: "B11",
			Bug: "a reward crossing the per-team cap records the whole reward as reward_capped, not the part above the cap"},
		{Name: "h5-pool-close-keeps-balance", Gate: "b", Check: "B12",
			Bug: "closing a pool pays the remainder out but leaves it in the pool's balance too"},
		{Name: "h5-withdraw-at-threshold-direct", Gate: "c", Check: "C32",
			Bug: "a withdrawal of exactly the approval threshold executes at once (> instead of >=); add is still gated"},
		{Name: "h5-evicted-approval-drops-votes", Gate: "b", Check: "B47",
			Bug: "a decided request rebuilt from the journal after its eviction from memory drops its votes: a CRITICAL request shows version 2 and one decision"},
		{Name: "h5-karma-probe-keeps-failures", Gate: "d", Check: "D7", Verdict: "CONDITIONAL", // D7 is not critical
			Bug: "the health probe closes KARMA's breaker but leaves the failure count, so health stays degraded after a blackout until a consume scores live"},
		{Name: "h5-anomaly-folds-flagged", Gate: "d", Check: "D11", Verdict: "CONDITIONAL", // D11 is not critical
			Bug: "a flagged amount still joins the agent's running mean, so the second and third anomaly in a row are not flagged"},
		{Name: "h5-eoc-window-keeps-counts", Gate: "b", Check: "B34",
			Bug: "a new EoC window keeps the previous window's counts, so the load term grows with uptime while the score stays consistent with the counts"},
		// C22's route × role matrix tries the service role on every
		// decision route on every run; the explorer's B47 tries a role that
		// may not decide only by chance (seed 42 stopped trying the service
		// role when the failed batch's draws changed).
		{Name: "h5-service-may-decide", Gate: "c", Check: "C22",
			Bug: "the service role may approve and reject (decisions are approver and admin only)"},
	}
}
