package mutants

// Seeded bugs of the evidence branch (issue 8: no hidden evidence, replay
// equality on the whole state).
func evidenceMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "replay-forgets-pool-name", Gate: "b", Check: "B23",
			Bug: "replay does not restore a pool's name: balances, ledgers and approvals all match after a restart, only the full-state digest can see it",
			Patches: []Patch{Marked("engine/engine.go", "replay", "func (e *Engine) replay(ev *event.Envelope) error {\n",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif ev.EventType == event.PoolCreated {\n\t\tvar m map[string]any\n\t\t_ = json.Unmarshal(ev.Payload, &m)\n\t\tm[\"forgotten_name\"] = m[\"name\"]\n\t\tdelete(m, \"name\")\n\t\tev.Payload, _ = json.Marshal(m)\n\t}\n")}},
		Mutant{Name: "slow-fallback-hides-torn-tail", Gate: "d", Check: "D26",
			Bug: "two bugs: a consume on a KARMA fallback stalls 480 ms (a non-critical latency check fails first) and recovery keeps a torn tail (critical, in a later spec): the first failure must not hide the second",
			Patches: []Patch{Marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n",
				"\tscore := e.score(ctx, in.AgentID)\n\tif score.Source != karma.SourceLive {\n\t\ttime.Sleep(480 * time.Millisecond)\n\t}\n"),
				tornTailKept}},
	}
}
