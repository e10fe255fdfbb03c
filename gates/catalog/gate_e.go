package catalog

// Gate E — load reality.
var gateE = []Check{
	{ID: "E1", Gate: "E", Title: "P95 below 500 ms",
		Rules: rs("§8/§9 load"), Routes: rs(Agents, Consume)},
	{ID: "E2", Gate: "E", Title: "achieved rate",
		Rules: rs("§8/§9 load"), Routes: rs(Agents, Consume)},
	{ID: "E3", Gate: "E", Title: "unexpected errors",
		Rules: rs("§8/§9 load"), Routes: rs(Agents, Consume)},
	{ID: "E4", Gate: "E", Critical: true, Title: "history complete",
		Rules: rs("§3 durability"), Routes: rs(Agents, Consume)},
	{ID: "E5", Gate: "E", Title: "memory trend (RSS)",
		Rules: rs("§8/§9 load"), Needs: caps(CapPID)},
	// E6 reads our engine's Go runtime figures from its JSON metrics.
	{ID: "E6", Gate: "E", Title: "goroutines flat",
		Rules: rs("§8/§9 load"), Routes: rs(MetricsAPI), Needs: caps(CapCreditd)},
	{ID: "E7", Gate: "E", Title: "file descriptors flat",
		Rules: rs("§8/§9 load"), Needs: caps(CapPID)},
	{ID: "E9", Gate: "E", Critical: true, Title: "one GET /events of the whole journal equals the journal file byte for byte (more than one export chunk)",
		Rules: rs("§6 journal over HTTP"), Routes: rs(Events), Needs: caps(CapJournalFile, CapCreditd)},
	{ID: "E8", Gate: "E", Critical: true, Title: "every acknowledged mutation of the load history journaled exactly once",
		Rules: rs("§3 durability", "§3 idempotent retry"), Routes: rs(Agents, Consume), Needs: caps(CapJournal)},
}
