// Package eoc owns the Edge-of-Chaos score (the "CI score", SPEC §5): a
// system score in [0,1] computed per time window from recent activity (load,
// error rate, anomaly rate), smoothed by an EWMA, and the bounded, damped
// regulation it drives (regeneration factor and backpressure). The formula
// and its proofs are in docs/anomaly-eoc.md.
//
// Two halves with different lifetimes:
//   - The open window (volatile): Observe counts operations by their event
//     timestamp; Due closes windows and proposes a Decision. Nothing here is
//     part of the replayed state.
//   - The folded state (durable): ApplyRegulated adopts a journaled Decision
//     (eoc.regulated). Score, pressure, regulation and window counters change
//     only there, so replaying the journal's decisions reproduces the state
//     bit for bit, whatever fed the live window (including unjournaled
//     rejections). AppendDigest and Snapshot cover only this half.
//
// Invariants (by construction, tested):
//   - Score and pressure are always finite and in [0,1].
//   - With no errors and load ≤ NominalRate the window score is in
//     [0.40, 0.68], whatever the anomaly rate; so under anomalies alone the
//     smoothed score converges into, and then stays in, that interval (inside
//     the safe band 0.3–0.7).
//   - Backpressure rises only when the anomaly-free pressure is above the
//     optimal band; the anomaly rate has no path to backpressure at all.
//   - Each regulation value moves by at most Step per window and stays within
//     its limits (regeneration 0.5–1.5, backpressure 0–0.5).
//
// No clock, randomness or I/O: time enters only as event timestamps and the
// now argument of Due. Not safe for concurrent use: the engine calls it under
// its lock.
//
// It is a leaf package: it must not import anything from this module.
package eoc
