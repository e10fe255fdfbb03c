package mutants

// Mutants written independently of the gates (issue 17): bugs no scripted
// scenario reached. Each is caught by the generative workload or the grammar
// fuzzer, not by a check written for it.
func exploreMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "approved-withdrawal-overdraws", Gate: "b", Check: "B47",
			Bug: "a withdrawal approved by a person executes without a balance check",
			Patches: []Patch{Marked("engine/approvals.go", "execution-balance",
				"if a.BalanceMilli < ap.AmountMilli {", "if a.BalanceMilli < ap.AmountMilli && decider == AutoApprover {")}},
		Mutant{Name: "auto-approved-withdrawal-overdraws", Gate: "b", Check: "B47",
			Bug: "a LOW withdrawal auto-approved through POST /approvals executes without a balance check",
			Patches: []Patch{Marked("engine/approvals.go", "execution-balance",
				"if a.BalanceMilli < ap.AmountMilli {", "if a.BalanceMilli < ap.AmountMilli && decider != AutoApprover {")}},
		Mutant{Name: "mission-refunds-ignore-earlier", Gate: "b", Check: "B47",
			Bug: "repeated refunds against one mission are each bounded by its consumption, not by what is left of it",
			Patches: []Patch{Marked("engine/credits.go", "mission-refund-room",
				"room := max(m.ConsumedMilli-m.RefundedMilli, 0)", "room := m.ConsumedMilli")}},
		Mutant{Name: "body-principal-overrides-token", Gate: "c", Check: "C31",
			Bug: "requester_id / approver_id / actor_id from the body override the token's principal, so four-eyes is bypassed",
			Patches: []Patch{Marked("engine/httpapi/server.go", "actor-from-token",
				"actor := p.Name\n\tif actor == \"\" {\n\t\tactor = m.actor()\n\t}",
				"actor := m.actor()\n\tif actor == \"\" || actor == \"anonymous\" {\n\t\tactor = p.Name\n\t}")}},
		Mutant{Name: "threshold-not-mapped", Gate: "c", Check: "C32",
			Bug: "CREDITD_APPROVAL_THRESHOLD does not move the MEDIUM risk level",
			Patches: []Patch{Marked("cmd/creditd/main.go", "approval-threshold",
				"cfg.Approval.MediumFromMilli = *threshold", "_ = *threshold")}},
		Mutant{Name: "reserved-hash-in-keys", Gate: "a", Check: "A25",
			Bug: "'#', reserved for the engine's derived keys, is admitted in a client's idempotency key",
			Patches: []Patch{Marked("engine/credits.go", "key-byte",
				"return slash && c == '/'", "return slash && (c == '/' || c == '#')")}},
		Mutant{Name: "refusal-before-durable", Gate: "b", Check: "B47",
			Bug: "a refusal is answered as soon as it is decided, before the batch whose state it saw is durable (a dirty read: a power cut or kill -9 before the fsync loses the cause and keeps the refusal)",
			Patches: []Patch{
				Marked("engine/engine.go", "refusal-before-commit", "outs[i] = e.decideLocked(c, &recs)\n",
					"outs[i] = e.decideLocked(c, &recs)\n\t\tif isRuleError(outs[i].err) {\n\t\t\tc.done <- outs[i]\n\t\t}\n"),
				Marked("engine/engine.go", "refusal-answer", "\t\tc.done <- o\n", "\t\tif !isRuleError(outs[i].err) {\n\t\t\tc.done <- o\n\t\t}\n"),
			}},
		Mutant{Name: "explore-replay-forgets-keys", Gate: "b", Check: "B47",
			Bug:     "replay does not rebuild the idempotency index, so a retry after the explorer's restart executes again (money moves twice)",
			Patches: []Patch{Marked("engine/engine.go", "replay-keys", "\te.rememberKeyLocked(ev, nil)\n", "")}},
		Mutant{Name: "nested-duplicate-members", Gate: "a", Check: "A25",
			Bug: "duplicate JSON members are refused only at the top level of a body",
			Patches: []Patch{Marked("engine/httpapi/decode.go", "duplicate-member",
				"if seen[k] {", "if seen[k] && depth == 0 {")}},
	}
}
