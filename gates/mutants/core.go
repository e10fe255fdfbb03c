package mutants

// coreMutants are the first seeded bugs, one or two per gate.
func coreMutants() []Mutant {
	return []Mutant{
		{Name: "retry-writes-twice", Gate: "a", Check: "A9", Bug: "the idempotency lookup is skipped, so a retry writes a second event",
			Patches: []Patch{Marked("engine/engine.go", "idempotency-lookup", "if k, ok := e.keys.lookup(req.IdempotencyKey); ok {", "if k, ok := e.keys.lookup(req.IdempotencyKey); ok && false {")}},
		{Name: "dangling-causation", Gate: "a", Check: "A5", Bug: "derived events point at an event that does not exist",
			Patches: []Patch{Marked("engine/engine.go", "derived-causation", "ev.CausationID = &evs[pe.causedBy].EventID", "dangling := uuid.NewString(); ev.CausationID = &dangling")}},
		{Name: "overdraft-under-concurrency", Gate: "b", Check: "B5,B21,B22,B32,B47", Bug: "consume checks a balance read before the KARMA call, so concurrent consumes overdraw",
			// The balance is read before the KARMA call, outside the lock, and
			// the rule checks that instead of its view: a check-then-act race.
			Patches: []Patch{Marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n\treturn e.execute(", "\tstale, _ := e.Balance(in.AgentID)\n\tscore := e.score(ctx, in.AgentID)\n\treturn e.execute("),
				Marked("engine/credits.go", "consume-score", "return consumeRule(v, in, score, now)", "return consumeRule(v, in, score, now, stale)"),
				Marked("engine/credits.go", "consume-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
				Marked("engine/credits.go", "consume-rule", "\tif a.BalanceMilli < in.AmountMilli {\n\t\treturn nil, insufficient(a, in.AmountMilli, \"requested\")\n\t}\n\tmeta",
					"\tif stale < in.AmountMilli {\n\t\treturn nil, insufficient(a, in.AmountMilli, \"requested\")\n\t}\n\tmeta")}},
		{Name: "replay-drops-refunds", Gate: "b", Check: "B23", Bug: "replay skips credit.refunded, so the state drifts after a restart",
			Patches: []Patch{Marked("engine/engine.go", "replay", "func (e *Engine) replay(ev *event.Envelope) error {\n",
				"func (e *Engine) replay(ev *event.Envelope) error {\n\tif ev.EventType == event.CreditRefunded {\n\t\te.seq = ev.Seq\n\t\treturn e.models.st.SkipForMutant(ev)\n\t}\n"),
				Marked("engine/projection/state.go", "state-methods", "func (s *State) Seq() uint64", "// SkipForMutant advances seq without folding (verify-gates only).\nfunc (s *State) SkipForMutant(e *event.Envelope) error { s.seq = e.Seq; return nil }\n\nfunc (s *State) Seq() uint64")}},
		{Name: "two-approvals-win", Gate: "c", Check: "C1", Bug: "a decision does not re-check the request state, so racing approvals all win",
			Patches: []Patch{Marked("engine/approvals.go", "decide-pending", "if ap.Status != projection.StatusPending {\n\t\treturn ap, false, refuse(CodeAlreadyDecided", "if false {\n\t\treturn ap, false, refuse(CodeAlreadyDecided"),
				Marked("engine/projection/approvals.go", "fold-decision-pending", "\tif a.Status != StatusPending {\n\t\treturn fmt.Errorf(\"decision on %s approval %q\", a.Status, p.RequestID)\n\t}\n", ""),
				Marked("engine/approvals.go", "decide-pending", "if !now.Before(ap.ExpiresAt) {", "if ap.Status == projection.StatusPending && !now.Before(ap.ExpiresAt) {")}},
		{Name: "requester-approves-own", Gate: "c", Check: "C6", Bug: "the four-eyes rule is not enforced",
			Patches: []Patch{Marked("engine/approvals.go", "four-eyes", "if ap.RequesterID == in.DeciderID {", "if ap.RequesterID == in.DeciderID && false {")}},
		{Name: "karma-outage-fails-consume", Gate: "d", Check: "D2", Bug: "a consume fails when KARMA cannot give a live score",
			Patches: []Patch{Marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\tif score.Source != karma.SourceLive {\n\t\treturn Result{}, ErrClosed\n\t}\n")}},
		{Name: "anomaly-blocks-consume", Gate: "d", Check: "D9", Bug: "an anomalous consume is refused instead of flagged",
			Patches: []Patch{Marked("engine/credits.go", "consume-anomaly", "\tcase verdict.Detected:\n", "\tcase verdict.Detected:\n\t\treturn nil, refuse(CodeInvalid, nil, \"anomalous amount\")\n")}},
		{Name: "torn-tail-kept", Gate: "d", Check: "D26", Bug: "recovery reports a torn tail but does not cut it, so the next append is glued onto it and lost (the original's bug)",
			Patches: []Patch{tornTailKept}},
		{Name: "slow-consume", Gate: "e", Check: "E1", Bug: "every consume stalls 1.2 s (P95 above 1000 ms)", Env: []string{"LIVE_TEST_DURATION=20s"},
			Patches: []Patch{Marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\ttime.Sleep(1200 * time.Millisecond)\n")}},
		{Name: "leaks-per-request", Gate: "e", Check: "E5", Bug: "every consume leaks 256 KiB and a goroutine", Env: []string{"LIVE_TEST_DURATION=20s"},
			Patches: []Patch{Marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\tleak = append(leak, make([]byte, 256<<10))\n\tgo func() { select {} }()\n"),
				Marked("engine/credits.go", "credits-decls", "const (\n", "var leak [][]byte\n\nconst (\n")}},
	}
}

// Patches shared by several mutants.
var (
	// tornTailKept: recovery does not cut a torn tail.
	tornTailKept = Marked("engine/journal/recovery.go", "torn-tail-cut", "} else if rep.TornTail != nil {\n\t\tif err := truncateSynced(", "} else if rep.TornTail != nil && false {\n\t\tif err := truncateSynced(")
)
