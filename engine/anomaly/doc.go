// Package anomaly owns the per-agent online statistics over consume amounts
// and the verdict whether one amount is anomalous for its agent (SPEC §5 "ML
// anomaly detection"). An anomaly is flagged, never blocked: the package only
// answers, the engine decides what to record.
//
// The Detector is a deterministic fold: Observe is applied to every
// credit.consumed event, live and on replay, in journal order, and reads no
// clock, no randomness and no I/O. Its state depends only on the sequence of
// (agentID, amountMilli) pairs, so replay reproduces the same statistics and
// the same verdicts. Floating-point steps run in a fixed order with explicit
// float64 conversions so no fused multiply-add changes a result between
// architectures. AppendDigest writes the state in sorted, canonical order.
//
// Invariants:
//   - Check never mutates; it evaluates a sample against the statistics of the
//     samples folded before it.
//   - No verdict before MinSamples folded samples; a Verdict's Score is finite
//     and ≥ 0; Reason is "" exactly when Detected is false.
//   - Flagged samples are not folded into the running statistics (they are
//     counted apart), so a burst of anomalies cannot become the norm.
//   - Memory is bounded: at most MaxAgents agents are tracked; the agent
//     observed least recently is evicted first (deterministically).
//
// Failures are isolated by Guard and GuardObserve, which turn a panic or a
// non-finite score into an error wrapping ErrUnavailable. Checker is the seam
// through which tests and chaos inject a failing detector.
//
// It is a leaf package: it must not import anything from this module.
package anomaly
