//go:build mutant

// Seeded bug high-expires-on-medium-timeout (gate C): a HIGH request's
// expires_at is computed with the MEDIUM timeout (24 h instead of 48 h).

package engine

import (
	"time"
)

func riskOf(a ApprovalConfig, amount int64) (level string, approvers int, timeout time.Duration) {
	switch {
	case amount >= a.CriticalFromMilli:
		return RiskCritical, 2, a.CriticalTimeout
	case amount >= a.HighFromMilli:
		return RiskHigh, 1, a.MediumTimeout
	case amount >= a.MediumFromMilli:
		return RiskMedium, 1, a.MediumTimeout
	}
	return RiskLow, 0, a.MediumTimeout
}
