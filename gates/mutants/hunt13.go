package mutants

// hunt13Mutants come from the thirteenth blind hunt (round 3): an engineer
// wrote bugs into our engine from the SPEC without reading the gates. What
// got through names the change that closed its class.
func hunt13Mutants() []Mutant {
	return []Mutant{
		// Only an event id's uniqueness was read; A6 now wants SPEC §2's
		// version 4.
		{Name: "h13-event-id-uuid-v7", Gate: "a", Check: "A6",
			Bug: "event ids are time-ordered version 7 UUIDs, not SPEC §2's version 4"},
		// Gate A's journal held MEDIUM requests only: A5 never judged a
		// LOW request's auto-approved execution; it now holds one.
		{Name: "h13-auto-approved-credit-caused-by-request", Gate: "a", Check: "A5",
			Bug: "a LOW request's auto-approved credit names the approval.requested event as its cause, not the approval.approved"},
		// No workload sent keys that differ in letter case only; A31 does,
		// and retries them across the restarts.
		{Name: "h13-idempotency-keys-case-folded", Gate: "a", Check: "A31",
			Bug: "idempotency keys are lower-cased: a command under a key differing from an earlier one only in case is answered as its replay and never runs"},
		// C36 sent stale versions with approvals only; each form now goes
		// with a rejection too.
		{Name: "h13-reject-ignores-if-match", Gate: "c", Check: "C36",
			Bug: "If-Match is read on the approve route only: a rejection carrying a stale version in it is applied"},
		// Nothing read a torn tail's sidecar (the independent backend's
		// hunt wrote none at all); D65 does.
		{Name: "h13-torn-sidecar-drops-torn-line", Gate: "d", Check: "D65", Verdict: "CONDITIONAL", // D65 is not critical
			Bug: "a torn tail's sidecar keeps the lines held before the torn one, not the torn line: a one-line tail leaves it empty"},
		// B2 and B37 compared every entry but not total_entries (the
		// independent backend's hunt counted its in-memory ring); both do
		// now, B37 on the pages past the window.
		{Name: "h13-history-total-of-window", Gate: "b", Check: "B37",
			Bug: "GET /history's total_entries counts the in-memory ledger window, not the agent's whole ledger"},
		// D47 judged the first seconds of each outage only; it now judges
		// some 8 s after the live score too.
		{Name: "h13-karma-cache-ttl-5s", Gate: "d", Check: "D47",
			Bug: "the default KARMA cache keeps a score 5 seconds, not the documented 5 minutes"},
		// B4 compared the per-team totals only; it now compares the
		// agent's totals beside them with their sums.
		{Name: "h13-synergie-total-capped-last-team", Gate: "b", Check: "B4",
			Bug: "GET /synergie/{agent}'s total_capped is the last team's capped part, not the sum over its teams"},
		// D60 tore only the tail under policy strict; D66 damages the
		// middle (a seq gap, a bit flip) and wants a refusal.
		{Name: "h13-strict-starts-over-seq-gap", Gate: "d", Check: "D66",
			Bug: "policy strict starts over a seq gap (only reported), as if a gap lost nothing"},
		// Every retry was its original's bytes; A32 sends the same members
		// in another order.
		{Name: "h13-key-fingerprint-raw-bytes", Gate: "a", Check: "A32",
			Bug: "the idempotency fingerprint hashes the body's bytes: a retry with its members in another order is 409 idempotency_key_conflict"},
		// Every torn tail was one line (the last command a consume); the
		// torn line now ends a LOW request, approved and executed at once,
		// and D65 wants every line the cut took (closed at stop 17).
		{Name: "h13-torn-sidecar-keeps-last-line-only", Gate: "d", Check: "D65", Verdict: "CONDITIONAL", // D65 is not critical
			Bug: "a torn tail of several lines (the torn line ends a command of several events) keeps only its last line in the sidecar"},
		// Only that the quarantine file keeps its lines was read (D50); D64
		// reads what each recovery added.
		{Name: "h13-quarantine-line-zero-based", Gate: "d", Check: "D64", Verdict: "CONDITIONAL", // D64 is not critical
			Bug: "the quarantine file numbers lines from 0: every entry names the line before the damaged one"},
	}
}
