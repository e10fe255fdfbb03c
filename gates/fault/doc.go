// Package fault owns the harness's one fault vocabulary (STYLE 21): a
// Fault has a name, says whether a target can take it (from the check
// catalog's capabilities), and Inject returns the Window it was in effect;
// a Lasting fault stays in effect until Heal closes its window. The
// implementations — kill -9 and restart, clean restart, power cut, syncs
// failing (a power cut the backend lives through until Heal), a batch's
// sync held or failed (BatchSync: a lazyfs trap aimed at the batch
// carrying a marker), full disk, KARMA modes and outages, link delay,
// partition and cuts, a commit cut (CommitCut: a tcpproxy trip aimed at
// the transaction carrying a marker), journal corruption, database crash — are thin wrappers over the existing
// injectors (gates/target, chaos/lazyfs through target.PowerCutter,
// chaos/karmastub, chaos/tcpproxy, chaos/corrupt): they change no
// behaviour, they only give every injection the same shape and a window.
//
// Windows carry wall-clock times with a monotonic reading (time.Now());
// gates/harness records each one in the client history
// (scenarios/history.Window) on the same clock as the operations, which
// is what the window-aware judges of gates/audit read.
//
// Concurrency: a Fault value is one injection site; Inject and Heal of one
// value must not run concurrently with each other. Different values may be
// injected concurrently when their injectors allow it. Lasting faults are
// pointers, so a caller can match a Heal with its Inject.
//
// Invariants: every random choice comes from a *rand.Rand the caller
// derived from the run's seed; no globals, no `if chaos` branch anywhere.
//
// It must not import engine/ (the harness is a black box), gates/harness,
// gates/audit or the suites: of this module it imports only the check
// catalog, gates/target and the chaos injectors.
package fault
