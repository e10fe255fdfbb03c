// Package history is the one client history of the live tests: typed
// operations (Kind), outcomes (Outcome), roles (Role), their call and
// return times on one monotonic base, the one classifier that maps an HTTP
// response to an outcome (Classify / Fill), a concurrency-safe bounded
// Recorder that can also stream every operation to a JSONL file, the
// JSONL reader, the fault Windows (each injection's start and end on the
// same clock as the operations, so a judge can say "acknowledged during
// the cut"), and the Snapshot of what the API showed at the end of a
// run (ParseBalances, ParseHistory). Money an answer carried is kept as the
// exact JSON text (Op.BalanceAfter, AnswerAmount, ReadRaw), so a black-box
// judge sees float noise as the backend sent it.
//
// Every scenario (through scenarios.Client) and the load runner
// (scenarios/load) record through this package, by one recording client
// (scenarios/wire); gates/audit reads it and is
// the only judge. This package records and classifies; it never decides
// whether a history is correct.
//
// Invariants: an operation's outcome is decided only by Classify (a
// transport error, a timeout or a 5xx is Unknown — the mutation may or may
// not have been applied — never "failed"); Kind, Outcome and Role are
// enumerations with stable text names in JSONL; CallNs ≤ ReturnNs on the
// Recorder's base.
//
// It imports only the standard library and scenarios/money (the one exact
// credit parser; it is a leaf: scenarios, load and gates/audit all import it).
package history
