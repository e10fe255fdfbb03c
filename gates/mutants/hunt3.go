package mutants

// hunt3Mutants come from a third blind hunt (round 3, bugs written from the
// SPEC and the engine without reading the gates) in authentication,
// validation, status codes, health, the KARMA client, the anomaly detector
// and EoC regulation, and in recovery and idempotency. The bugs the gates of
// the day already rejected stay on branch hunt3b; these three got GO then
// and name the check that was built for their class (docs/gates.md, "Bugs
// written blind").
func hunt3Mutants() []Mutant {
	return []Mutant{
		{Name: "anomaly-strict-mean-factor", Gate: "d", Check: "D48", Verdict: "CONDITIONAL", // D48 is not critical
			Bug: "the mean-factor rule flags only amounts strictly above 10x the norm (> instead of >=): a consume of exactly 10x a steady norm is not flagged"},
		{Name: "readyz-ignores-failed-journal", Gate: "d", Check: "D46", Bug: "GET /readyz stays 200 ready while the journal has failed and every append is refused"},
		{Name: "karma-live-not-cached", Gate: "d", Check: "D47", Verdict: "CONDITIONAL", // D47 is not critical
			Bug: "live KARMA scores are not stored in the cache: during a blackout an agent scored just before gets the fallback, not its cached score"},
	}
}
