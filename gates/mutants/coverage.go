package mutants

// Mutants of issue 12: one per class of bug that passed every gate before
// the coverage work (an unexercised money path, idempotency across restarts,
// three-decimal rounding, reads beyond the in-memory window, KARMA fallback
// and EoC formulas, health vs a failed journal, mission refunds). Each is
// anchored on a //mutant: marker in the engine.
func coverageMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "withdraw-overdraws", Gate: "b", Check: "B26", Bug: "withdraw checks a balance read before a KARMA call, outside the lock, so concurrent withdrawals overdraw",
			Patches: []Patch{
				Marked("engine/credits.go", "withdraw-check", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now) })\n",
					"\tstale, _ := e.Balance(in.AgentID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return withdrawRule(v, in, now, stale) })\n"),
				Marked("engine/credits.go", "withdraw-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
				Marked("engine/credits.go", "withdraw-rule", "if a.BalanceMilli < in.AmountMilli {", "if stale < in.AmountMilli {"),
			}},
		Mutant{Name: "pool-consume-overdraws", Gate: "b", Check: "B27", Bug: "pool consume and transfer check a pool balance read before a KARMA call, outside the lock, so concurrent debits overdraw the pool",
			Patches: []Patch{
				Marked("engine/pools.go", "pool-move", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now) })\n",
					"\tstalePool, _ := e.Pool(in.PoolID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return poolMoveRule(v, in, typ, now, stalePool) })\n"),
				Marked("engine/pools.go", "pool-move-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stalePool projection.Pool) (*plan, error) {"),
				Marked("engine/pools.go", "pool-overdraft", "if pool.BalanceMilli < in.AmountMilli {", "if stalePool.BalanceMilli < in.AmountMilli {"),
			}},
		Mutant{Name: "mission-start-overdraws", Gate: "b", Check: "B29", Bug: "a mission start checks its estimate against a balance read before a KARMA call, outside the lock",
			Patches: []Patch{
				Marked("engine/missions.go", "mission-start", "\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now) })\n",
					"\tstale, _ := e.Balance(in.AgentID)\n\t_ = e.score(ctx, in.AgentID)\n\treturn e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now, stale) })\n"),
				Marked("engine/missions.go", "mission-start-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
				Marked("engine/missions.go", "mission-balance", "if a.BalanceMilli < est {", "if stale < est {"),
			}},
		Mutant{Name: "replay-forgets-keys", Gate: "a", Check: "A15", Bug: "replay does not rebuild the idempotency index, so a retry after a restart writes again",
			Patches: []Patch{Marked("engine/engine.go", "replay-keys", "\te.rememberKeyLocked(ev, nil)\n", "")}},
		Mutant{Name: "key-conflict-replays", Gate: "a", Check: "A16", Bug: "a reused key with a different body returns the original result instead of 409 idempotency_key_conflict",
			Patches: []Patch{Marked("engine/engine.go", "key-conflict", "if k.requestHash != req.RequestHash {", "if false && k.requestHash != req.RequestHash {")}},
		Mutant{Name: "refund-truncated-to-cents", Gate: "b", Check: "B11", Bug: "a completed mission's refund is truncated to two decimals",
			Patches: []Patch{Marked("engine/missions.go", "mission-refund", "refund = max(m.ConsumedMilli-in.ActualMilli, 0)", "refund = max(m.ConsumedMilli-in.ActualMilli, 0) / 10 * 10")}},
		Mutant{Name: "cancel-refunds-90", Gate: "b", Check: "B11", Bug: "a cancelled mission refunds 90 % of what it consumed instead of 100 %",
			Patches: []Patch{Marked("engine/missions.go", "mission-refund", "refund = m.ConsumedMilli\n", "refund = m.ConsumedMilli * 9 / 10\n")}},
		Mutant{Name: "history-page-skips-entry", Gate: "b", Check: "B37", Bug: "history pages read from the journal (beyond the in-memory window) skip one entry",
			Patches: []Patch{Marked("engine/queries.go", "history-journal-page", "for i := len(ring) - 1 - offset;", "for i := len(ring) - 2 - offset;")}},
		Mutant{Name: "karma-fallback-0.6", Gate: "b", Check: "B11", Bug: "the KARMA fallback CI is 0.6 instead of 0.5",
			Patches: []Patch{Marked("engine/karma/config.go", "karma-fallback", "DefaultFallback = 0.5", "DefaultFallback = 0.6")}},
		Mutant{Name: "eoc-anomaly-overweight", Gate: "b", Check: "B11", Bug: "EoC weighs the anomaly rate 0.3 instead of 0.08",
			Patches: []Patch{Marked("engine/eoc/eoc.go", "eoc-anomaly-weight", "anomalyWeight = 0.08", "anomalyWeight = 0.30")}},
		Mutant{Name: "health-ignores-failed-journal", Gate: "d", Check: "D29", Bug: "health stays healthy while the journal is failed",
			Patches: []Patch{Marked("engine/queries.go", "health-journal", "if failed != nil {", "if failed != nil && false {")}},
	}
}
