package main

// Mutants of issue 12: one per class of bug that passed every gate before
// the coverage work (an unexercised money path, idempotency across restarts,
// three-decimal rounding, reads beyond the in-memory window, KARMA fallback
// and EoC formulas, health vs a failed journal, mission refunds). Each is
// anchored on a //mutant: marker in the engine.
func init() {
	mutants = append(mutants,
		mutant{name: "withdraw-overdraws", gate: "b", check: "B26", bug: "withdraw checks a balance read before a KARMA call, outside the lock, so concurrent withdrawals overdraw",
			patches: []patch{
				marked("engine/credits.go", "withdraw-check", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now) })\n",
					"\tstale, _ := e.Balance(in.AgentID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now, stale) })\n"),
				marked("engine/credits.go", "withdraw-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
				marked("engine/credits.go", "withdraw-rule", "if a.BalanceMilli < in.AmountMilli {", "if stale < in.AmountMilli {"),
			}},
		mutant{name: "pool-consume-overdraws", gate: "b", check: "B27", bug: "pool consume and transfer check a pool balance read before a KARMA call, outside the lock, so concurrent debits overdraw the pool",
			patches: []patch{
				marked("engine/pools.go", "pool-move", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now) })\n",
					"\tstalePool, _ := e.Pool(in.PoolID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now, stalePool) })\n"),
				marked("engine/pools.go", "pool-move-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stalePool projection.Pool) (*plan, error) {"),
				marked("engine/pools.go", "pool-overdraft", "if pool.BalanceMilli < in.AmountMilli {", "if stalePool.BalanceMilli < in.AmountMilli {"),
			}},
		mutant{name: "mission-start-overdraws", gate: "b", check: "B29", bug: "a mission start checks its estimate against a balance read before a KARMA call, outside the lock",
			patches: []patch{
				marked("engine/missions.go", "mission-start", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now) })\n",
					"\tstale, _ := e.Balance(in.AgentID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now, stale) })\n"),
				marked("engine/missions.go", "mission-start-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
				marked("engine/missions.go", "mission-balance", "if a.BalanceMilli < est {", "if stale < est {"),
			}},
		mutant{name: "replay-forgets-keys", gate: "a", check: "A15", bug: "replay does not rebuild the idempotency index, so a retry after a restart writes again",
			patches: []patch{marked("engine/engine.go", "replay-keys", "\te.rememberKeyLocked(ev, nil)\n", "")}},
		mutant{name: "key-conflict-replays", gate: "a", check: "A16", bug: "a reused key with a different body returns the original result instead of 409 idempotency_key_conflict",
			patches: []patch{marked("engine/engine.go", "key-conflict", "if k.requestHash != req.RequestHash {", "if false && k.requestHash != req.RequestHash {")}},
		mutant{name: "refund-truncated-to-cents", gate: "b", check: "B11", bug: "a completed mission's refund is truncated to two decimals",
			patches: []patch{marked("engine/missions.go", "mission-refund", "refund = max(m.ConsumedMilli-in.ActualMilli, 0)", "refund = max(m.ConsumedMilli-in.ActualMilli, 0) / 10 * 10")}},
		mutant{name: "cancel-refunds-90", gate: "b", check: "B11", bug: "a cancelled mission refunds 90 % of what it consumed instead of 100 %",
			patches: []patch{marked("engine/missions.go", "mission-refund", "refund = m.ConsumedMilli\n", "refund = m.ConsumedMilli * 9 / 10\n")}},
		mutant{name: "history-page-skips-entry", gate: "b", check: "B37", bug: "history pages read from the journal (beyond the in-memory window) skip one entry",
			patches: []patch{marked("engine/queries.go", "history-journal-page", "for i := len(ring) - 1 - offset;", "for i := len(ring) - 2 - offset;")}},
		mutant{name: "karma-fallback-0.6", gate: "b", check: "B11", bug: "the KARMA fallback CI is 0.6 instead of 0.5",
			patches: []patch{marked("engine/karma/config.go", "karma-fallback", "DefaultFallback = 0.5", "DefaultFallback = 0.6")}},
		mutant{name: "eoc-anomaly-overweight", gate: "b", check: "B11", bug: "EoC weighs the anomaly rate 0.3 instead of 0.08",
			patches: []patch{marked("engine/eoc/eoc.go", "eoc-anomaly-weight", "anomalyWeight = 0.08", "anomalyWeight = 0.30")}},
		mutant{name: "health-ignores-failed-journal", gate: "d", check: "D29", bug: "health stays healthy while the journal is failed",
			patches: []patch{marked("engine/queries.go", "health-journal", "if failed != nil {", "if failed != nil && false {")}},
	)
}
