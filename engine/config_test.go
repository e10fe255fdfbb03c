package engine

import (
	"strings"
	"testing"
	"time"
)

// Zero takes the default, but a negative setting is an error naming the
// field, never silently replaced by the default.
func TestValidateRefusesNegativeSettingsInsteadOfDefaultingThem(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"MaxAmountMilli":         func(c *Config) { c.MaxAmountMilli = -1 },
		"IdempotencyMemKeys":     func(c *Config) { c.IdempotencyMemKeys = -5 },
		"IdempotencyRetention":   func(c *Config) { c.IdempotencyRetention = -time.Second },
		"Approval.SweepInterval": func(c *Config) { c.Approval.SweepInterval = -time.Second },
		"Synergie.MaxTeam":       func(c *Config) { c.Synergie.MaxTeam = -1 },
		"Projection.LedgerKeep":  func(c *Config) { c.Projection.LedgerKeep = -1 },
		"Projection.DecidedKeep": func(c *Config) { c.Projection.DecidedKeep = -1 },
	} {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s negative: Validate() = %v, want an error naming it", name, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("the zero Config takes the defaults, Validate() = %v", err)
	}
}
