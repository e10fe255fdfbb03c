package mutants

// hunt3Mutants come from a third blind hunt (round 3, bugs written from the
// SPEC and the engine without reading the gates) in authentication,
// validation, status codes, health, the KARMA client, the anomaly detector
// and EoC regulation (branch hunt3b), and in recovery and idempotency
// (branch hunt3a). The bugs the gates of the day already rejected stay on
// those branches; these got GO then and name the check that was built or
// widened for their class (docs/gates.md, "Bugs written blind").
func hunt3Mutants() []Mutant {
	return []Mutant{
		{Name: "anomaly-strict-mean-factor", Gate: "d", Check: "D48", Verdict: "CONDITIONAL", // D48 is not critical
			Bug: "the mean-factor rule flags only amounts strictly above 10x the norm (> instead of >=): a consume of exactly 10x a steady norm is not flagged"},
		{Name: "readyz-ignores-failed-journal", Gate: "d", Check: "D46", Bug: "GET /readyz stays 200 ready while the journal has failed and every append is refused"},
		{Name: "key-hash-ignores-route", Gate: "a", Check: "A16",
			Bug: "a key's request fingerprint leaves the route out: the same key and body on consume, then on refund, replays the consume instead of 409"},
		{Name: "spilled-key-one-event", Gate: "a", Check: "A29",
			Bug: "a key moved from memory to the on-disk index records one event, not its command's count: a retry of an older multi-event command answers only the first"},
		{Name: "keyindex-purges-fresh-keys", Gate: "a", Check: "A29",
			Bug: "the on-disk key index's expiry test is inverted: keys within retention are purged once spilled, so an older key's retry runs again"},
		{Name: "digest-of-first-read", Gate: "b", Check: "B51",
			Bug: "the digest is computed on the first read after start and served from then on: the seq moves, the digest does not (replay equality still holds)"},
		{Name: "torn-checksum-tail-quarantined", Gate: "d", Check: "D20",
			Bug: "a complete last line failing its checksum is quarantined as mid-file corruption instead of cut as a torn tail (SPEC §3: a torn tail is the last line incomplete or failing its checksum)"},
		{Name: "recovery-index-ignores-removed", Gate: "d", Check: "D49",
			Bug: "the seq-to-offset index recovery builds keeps the offsets from before the quarantined lines were removed: GET /events by after_seq starts in the wrong place"},
		{Name: "quarantine-file-overwritten", Gate: "d", Check: "D50",
			Bug: "a recovery rewrites the quarantine file with only its own entries: the lines an earlier recovery quarantined are lost from it"},
		{Name: "durable-offset-before-sync", Gate: "d", Check: "D51",
			Bug: "the journal's durable offset is advanced before the batch is written and synced, and also when that fails: GET /events serves lines that were never acknowledged, a refused append's included"},
		{Name: "karma-live-not-cached", Gate: "d", Check: "D47", // critical since round 3: a fallback score changes a reward
			Bug: "live KARMA scores are not stored in the cache: during a blackout an agent scored just before gets the fallback, not its cached score"},
	}
}
