//go:build mutant

// Seeded bug h12-high-timeout-default-24h (blind hunt 12, in our engine): the built-in default
// timeout of a HIGH request is MEDIUM's 24 h instead of 48 h. Breaks SPEC §5 ("HIGH 1 approver +
// justification (48 h)"). Every walk of the generated workload told the engine its timeouts; the
// second walk now runs on SPEC §5's defaults without telling it (B47 judges expires_at).
package engine

import (
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/money"
)

// DefaultConfig returns the documented defaults (SPEC §5).
func DefaultConfig() Config {
	return Config{
		Approval: ApprovalConfig{
			ThresholdMilli:    500 * money.PerCredit,
			MediumFromMilli:   500 * money.PerCredit,
			HighFromMilli:     5_000 * money.PerCredit,
			CriticalFromMilli: 50_000 * money.PerCredit,
			MediumTimeout:     24 * time.Hour,
			HighTimeout:       24 * time.Hour, // the MEDIUM default copied
			CriticalTimeout:   72 * time.Hour,
			SweepInterval:     time.Second,
		},
		Synergie:             SynergieConfig{BaseMilli: 50 * money.PerCredit, CapMilli: 500 * money.PerCredit, MaxTeam: 64},
		Anomaly:              anomaly.DefaultConfig(),
		EoC:                  eoc.DefaultConfig(),
		MaxAmountMilli:       money.DefaultMaxMilli,
		IdempotencyRetention: DefaultIdempotencyRetention,
		IdempotencyMemKeys:   2_048,
		MissionFailRefund:    1.0,
	}
}
