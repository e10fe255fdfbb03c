//go:build mutant

// Seeded bug settings-omit-fail-refund (gate B): the money settings every instance must agree on leave out mission_fail_refund, so instances with different fail-refund percentages share one database

package engine

// moneySettings are the settings that decide money: every instance on a
// shared store must run with the same (see store.SettingsKeeper).
func (c Config) moneySettings() map[string]any {
	a, s := c.Approval, c.Synergie
	return map[string]any{
		"approval.threshold_milli": a.ThresholdMilli, "approval.medium_from_milli": a.MediumFromMilli,
		"approval.high_from_milli": a.HighFromMilli, "approval.critical_from_milli": a.CriticalFromMilli,
		"approval.medium_timeout": a.MediumTimeout.String(), "approval.high_timeout": a.HighTimeout.String(),
		"approval.critical_timeout": a.CriticalTimeout.String(),
		"synergie.base_milli":       s.BaseMilli, "synergie.cap_milli": s.CapMilli, "synergie.max_team": s.MaxTeam,
		"max_amount_milli": c.MaxAmountMilli,
	}
}
