package main

// Mutants written independently of the gates (issue 17): bugs no scripted
// scenario reached. Each is caught by the generative workload or the grammar
// fuzzer, not by a check written for it.
func init() {
	mutants = append(mutants,
		mutant{name: "approved-withdrawal-overdraws", gate: "b", check: "B47",
			bug: "a withdrawal approved by a person executes without a balance check",
			patches: []patch{marked("engine/approvals.go", "execution-balance",
				"if a.BalanceMilli < ap.AmountMilli {", "if a.BalanceMilli < ap.AmountMilli && decider == AutoApprover {")}},
		mutant{name: "auto-approved-withdrawal-overdraws", gate: "b", check: "B47",
			bug: "a LOW withdrawal auto-approved through POST /approvals executes without a balance check",
			patches: []patch{marked("engine/approvals.go", "execution-balance",
				"if a.BalanceMilli < ap.AmountMilli {", "if a.BalanceMilli < ap.AmountMilli && decider != AutoApprover {")}},
		mutant{name: "mission-refunds-ignore-earlier", gate: "b", check: "B47",
			bug: "repeated refunds against one mission are each bounded by its consumption, not by what is left of it",
			patches: []patch{marked("engine/credits.go", "mission-refund-room",
				"room := max(m.ConsumedMilli-m.RefundedMilli, 0)", "room := m.ConsumedMilli")}},
		mutant{name: "body-principal-overrides-token", gate: "c", check: "C31",
			bug: "requester_id / approver_id / actor_id from the body override the token's principal, so four-eyes is bypassed",
			patches: []patch{marked("engine/httpapi/server.go", "actor-from-token",
				"actor := p.Name\n\tif actor == \"\" {\n\t\tactor = m.actor()\n\t}",
				"actor := m.actor()\n\tif actor == \"\" || actor == \"anonymous\" {\n\t\tactor = p.Name\n\t}")}},
		mutant{name: "threshold-not-mapped", gate: "c", check: "C32",
			bug: "CREDITD_APPROVAL_THRESHOLD does not move the MEDIUM risk level",
			patches: []patch{marked("cmd/creditd/main.go", "approval-threshold",
				"cfg.Approval.MediumFromMilli = *threshold", "_ = *threshold")}},
		mutant{name: "reserved-hash-in-keys", gate: "a", check: "A25",
			bug: "'#', reserved for the engine's derived keys, is admitted in a client's idempotency key",
			patches: []patch{marked("engine/credits.go", "key-byte",
				"return slash && c == '/'", "return slash && (c == '/' || c == '#')")}},
		mutant{name: "refusal-before-durable", gate: "b", check: "B47",
			bug: "a refusal is answered as soon as it is decided, before the batch whose state it saw is durable (a dirty read: a power cut or kill -9 before the fsync loses the cause and keeps the refusal)",
			patches: []patch{
				marked("engine/engine.go", "refusal-before-commit", "outs[i] = e.decideLocked(c, &recs)\n",
					"outs[i] = e.decideLocked(c, &recs)\n\t\tif isRuleError(outs[i].err) {\n\t\t\tc.done <- outs[i]\n\t\t}\n"),
				marked("engine/engine.go", "refusal-answer", "\t\tc.done <- o\n", "\t\tif !isRuleError(outs[i].err) {\n\t\t\tc.done <- o\n\t\t}\n"),
			}},
		mutant{name: "explore-replay-forgets-keys", gate: "b", check: "B47",
			bug:     "replay does not rebuild the idempotency index, so a retry after the explorer's restart executes again (money moves twice)",
			patches: []patch{marked("engine/engine.go", "replay-keys", "\te.rememberKeyLocked(ev, nil)\n", "")}},
		mutant{name: "nested-duplicate-members", gate: "a", check: "A25",
			bug: "duplicate JSON members are refused only at the top level of a body",
			patches: []patch{marked("engine/httpapi/decode.go", "duplicate-member",
				"if seen[k] {", "if seen[k] && depth == 0 {")}},
	)
}
