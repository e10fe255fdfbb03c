package main

// Seeded bugs for the issue 9 hardening checks (gate C money paths and
// exposure, gate A hostile input). Each patch is anchored on a
// //mutant:<marker> comment in the engine or creditd.
func init() {
	mutants = append(mutants,
		mutant{name: "refund-unbounded", gate: "c", check: "C26",
			bug: "POST /refund skips its bound: any amount, naming nothing, is credited without approval",
			patches: []patch{marked("engine/credits.go", "refund-bound",
				"m, known := v.Mission(in.MissionID)",
				"return nil\n\tm, known := v.Mission(in.MissionID)")}},
		mutant{name: "pool-refund-unbounded", gate: "c", check: "C28,C32",
			bug: "a pool refund is not bounded by the pool's consumption, so refund + close pays an agent unapproved credits",
			patches: []patch{marked("engine/pools.go", "pool-refund-bound",
				"in.AmountMilli > room {", "in.AmountMilli > room && false {")}},
		mutant{name: "keys-journaled-lossy", gate: "a", check: "A27",
			bug: "idempotency keys are not checked against the alphabet: invalid UTF-8 is kept raw in memory but journaled as U+FFFD",
			patches: []patch{marked("engine/credits.go", "key-alphabet",
				"return inAlphabet(key, MaxKeyLen, true)", "return key != \"\" && len(key) <= MaxKeyLen")}},
		mutant{name: "listen-without-auth", gate: "c", check: "C30",
			bug: "creditd serves without tokens on a non-loopback address (0.0.0.0)",
			patches: []patch{marked("cmd/creditd/listen.go", "listen-exposure",
				"if loopbackAddr(addr) {", "if true || loopbackAddr(addr) {")}},
	)
}
