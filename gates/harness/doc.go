// Package harness is what every gate suite shares: the run parameters
// (LIVE_TEST_* and flags), booting a target with a controllable KARMA stub,
// the recording client, reporting a check with its measured value and
// threshold, and the one-line repro printed when a gate fails.
//
// Faults enter through gates/fault: Env.Inject and Env.Heal apply one and
// record its window in the client history (saved as faults.jsonl beside
// history.jsonl); WithPowerLoss and WithStoreLink boot what they act on.
//
// It imports gates/target, gates/fault, gates/audit, scenarios and chaos; it must not
// import engine/ (gates must work against any backend implementing the API).
package harness
