//go:build mutant

// Seeded bug threshold-not-mapped (gate C, check C32):
// CREDITD_APPROVAL_THRESHOLD does not move the MEDIUM risk level.

package main

import "github.com/creditgate/creditgate/engine"

// approvalLevels ignores the threshold for the MEDIUM level: it stays at
// the default however CREDITD_APPROVAL_THRESHOLD is set.
func approvalLevels(a *engine.ApprovalConfig, threshold, high, critical int64) {
	a.ThresholdMilli = threshold
	a.HighFromMilli = high
	a.CriticalFromMilli = critical
}
