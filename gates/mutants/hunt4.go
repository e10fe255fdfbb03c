package mutants

// hunt4Mutants come from a fourth blind hunt (round 3, bugs written from the
// SPEC and the engine without reading the gates) in the PostgreSQL store,
// group commit and races (branch hunt4a), and in the money rules, the
// approval lifecycle, registration and the counters (branch hunt4b). Each
// got GO then and names the check that was built or widened for its class
// (docs/gates.md, "Bugs written blind").
func hunt4Mutants() []Mutant {
	return []Mutant{
		{Name: "agent-credits-float-truncated", Gate: "b", Check: "B11,B47",
			Bug: "an agent's initial credits are int64(skill × 100 × 1000), truncated instead of rounded: skill 0.57 allocates 56.999 credits"},
		{Name: "agent-zero-skill-zero-allocation", Gate: "b", Check: "B10",
			Bug: "an agent registered with skill_level 0 gets a credit.allocated of 0 milli, a money event that moves nothing"},
		{Name: "metrics-violations-count-replays", Gate: "b", Check: "B53", // gate B must pass: any failure in it is NO-GO
			Bug: "/metrics journal.idempotency_violations counts the idempotent replays, not the 409 key conflicts"},
		{Name: "info-total-events-since-start", Gate: "b", Check: "B53",
			Bug: "/info config.event_sourcing_metrics.total_events counts the events committed since this process started, not the journal's"},
		{Name: "published-counts-batches", Gate: "b", Check: "B53",
			Bug: "/metrics event_bus.total_published counts committed batches, not events"},
		{Name: "eoc-counts-every-consume-anomalous", Gate: "b", Check: "B11",
			Bug: "the EoC fold counts every consume that carries metadata (all of them: the KARMA source) as an anomaly, not only those flagged anomaly_detected"},
		{Name: "eoc-anomaly-rate-as-error-rate", Gate: "b", Check: "B11",
			Bug: "the EoC window passes its anomaly rate as the error rate and vice versa, so anomalies raise the pressure that drives backpressure"},
	}
}
