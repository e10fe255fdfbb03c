// Package audit is the harness's independent reference model of the credit
// journal and the pure checks of gates A (event integrity) and B
// (projection integrity).
//
// It owns: reading a journal (JSONL file or GET /api/credits/events) line by
// line with its own envelope structs and its own CRC32-C verification; the
// judging of the one client history (Op = scenarios/history.Op, which every
// scenario and the load runner record): the gate A checks over journal +
// history, the single retry rule, gate E's load-history audit, and the
// real-time rules RT1–RT4 over call/return times (realtime.go); the
// reference fold Model (balances, ledgers, approvals, synergie, pools,
// missions, EoC) with its own rules — every event type is folded, and every
// amount or score an event derives by a documented formula (agent
// allocation, mission estimate and refunds, synergie reward from the
// recorded KARMA score, fallback CI 0.5, risk level, the EoC score) is
// recomputed from the events it derives from (formulas.go, check B11); the
// per-entity read routes are compared too (entities.go, B12); the gate B checks
// comparing the model with the API of any target; the black-box judge
// (blackbox.go: A11–A13, B13–B17) that folds the client history and a final
// snapshot of the API alone, for backends whose journal cannot be read; and
// an API reader that parses credit amounts exactly (no float, through
// scenarios/money) into milli-credits.
//
// Every Finding says how much it judged (Samples): 0 is NOT MEASURED in the
// report, never a pass.
//
// Every check returns a Finding (check name, OK, measured value beside its
// threshold, up to MaxSamples violation samples plus their total count), so
// suites assert on OK and reports print the rest.
//
// Invariant: this package never imports anything under engine/ (its only
// project imports are scenarios/history and scenarios/money, the harness's
// one exact parser and formatter of credit amounts). It is an
// independent implementation of the event contract in docs/events.md; if it
// shared the engine's codec or fold, a bug there would be checked against
// itself and gate B would be vacuous. Everything here is deterministic and
// pure except ReadJournal's reader and the HTTP fetchers.
package audit
