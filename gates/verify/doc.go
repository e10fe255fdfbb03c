// Package verify runs verify-gates: it proves each gate fails on an engine
// with a seeded bug (gates/mutants) and on the foreign backend with one
// defect switched on (cmd/original-backend), and judges each run: a
// mutant counts as rejected only when its gate says NO-GO and the check it
// names failed ("caught by the wrong check" is a failure of its own); a
// foreign defect only when its check failed; the foreign backend without
// defects must fail nothing and be INCOMPLETE; the independent backend
// written from the SPEC alone (cmd/spec-backend) must fail nothing and get
// neither GO nor NO-GO — a check failing it takes our engine's forms for
// the SPEC's. A mutant's gate runs focused
// on the checks it names (only the spec containers labelled with them), or
// whole with WholeGates; the foreign cases run whole. It prints one row per case,
// then the failures again with a repro command.
//
// It owns the run loops, the foreign cases and the verdict rules. It runs
// the gates through the function the caller passes (cmd/creditgate's gates
// command), so it imports neither the suites nor cmd/creditgate; of this
// module it imports only gates/mutants and reports (never the engine).
package verify
