package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/creditgate/creditgate/engine/anomaly"
	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
	"github.com/creditgate/creditgate/engine/store"
)

// Clock tells the time of new events. Folds never read it.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// ApprovalConfig sets the human-gate thresholds and timeouts.
type ApprovalConfig struct {
	// ThresholdMilli: add/withdraw at or above it need an approval.
	ThresholdMilli int64
	// Risk levels by amount; below MediumFromMilli a request is LOW and
	// auto-approved.
	MediumFromMilli, HighFromMilli, CriticalFromMilli int64
	MediumTimeout, HighTimeout, CriticalTimeout       time.Duration
	// SweepInterval is how often the timer expires overdue requests.
	SweepInterval time.Duration
}

// SynergieConfig sets the team reward formula and cap.
type SynergieConfig struct {
	// Reward = BaseMilli × contribution × (0.5 + KARMA score), rounded
	// down to the milli; each agent earns at most CapMilli per team.
	BaseMilli int64
	CapMilli  int64
	// MaxTeam bounds agent_ids per collaboration.
	MaxTeam int
}

// Config configures the engine. The zero value is valid except
// Journal.Path; DefaultConfig fills the documented defaults.
type Config struct {
	Journal journal.Config
	// Store, when set, replaces the journal (Journal is then ignored): e.g.
	// a pgstore.Store shared by several instances. See follow.go.
	Store      store.Store
	Projection projection.Config
	Approval   ApprovalConfig
	Synergie   SynergieConfig
	Anomaly    anomaly.Config
	EoC        eoc.Config
	// MaxAmountMilli bounds every amount; default 1e9 credits.
	MaxAmountMilli int64
	// IdempotencyRetention is how long a client idempotency key is
	// honoured, from its primary event's time by Clock: a retry within it
	// returns the original events, a different request with the key is a
	// conflict. Older keys are forgotten (on the journal a retry is then a
	// new request; a shared store keeps every key, so there it still
	// answers the original or a conflict). Default 24h, hard limit 90 days.
	IdempotencyRetention time.Duration
	// IdempotencyMemKeys bounds the durable keys held in memory; older
	// retained keys live in the on-disk index (IdempotencyIndexPath) or, on
	// a shared store, are looked up in the store. Default 2,048 (at the
	// soak's rate, the last half minute of keyed writes; a retry of an older
	// key reads the index and the journal), hard limit 2,000,000. Each key
	// in memory holds its transaction's events, about 1 KB: at 20,000 they
	// were 90 % of the engine's live heap and made its RSS swing by ±4 MB.
	IdempotencyMemKeys int
	// IdempotencyIndexPath is the on-disk key index, a cache the journal
	// rebuilds; "" = Journal.Path + ".keys". Only an engine on its own
	// journal has one.
	IdempotencyIndexPath string
	// MissionFailRefund is the fraction (0..1] of what a failed mission
	// consumed that is refunded, rounded down to the milli-credit; 0 means
	// the default, 1.0 (all of it).
	MissionFailRefund float64

	Scorer  Scorer          // nil = KARMA disabled (fallback scores)
	Checker anomaly.Checker // nil = anomaly.New(Anomaly)
	Clock   Clock           // nil = system clock (UTC)
	Logger  *slog.Logger
}

// Idempotency key defaults and hard limits (Config.IdempotencyRetention,
// Config.IdempotencyMemKeys).
const (
	DefaultIdempotencyRetention = 24 * time.Hour
	MaxIdempotencyRetention     = 90 * 24 * time.Hour
	MaxIdempotencyMemKeys       = 2_000_000
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
			HighTimeout:       48 * time.Hour,
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

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Approval == (ApprovalConfig{}) {
		c.Approval = d.Approval
	}
	if c.Approval.SweepInterval <= 0 {
		c.Approval.SweepInterval = d.Approval.SweepInterval
	}
	if c.Synergie == (SynergieConfig{}) {
		c.Synergie = d.Synergie
	}
	if c.Synergie.MaxTeam <= 0 {
		c.Synergie.MaxTeam = d.Synergie.MaxTeam
	}
	if c.Anomaly == (anomaly.Config{}) {
		c.Anomaly = d.Anomaly
	}
	if c.EoC == (eoc.Config{}) {
		c.EoC = d.EoC
	}
	if c.MaxAmountMilli <= 0 {
		c.MaxAmountMilli = d.MaxAmountMilli
	}
	if c.IdempotencyRetention <= 0 {
		c.IdempotencyRetention = d.IdempotencyRetention
	}
	if c.IdempotencyMemKeys <= 0 {
		c.IdempotencyMemKeys = d.IdempotencyMemKeys
	}
	if c.MissionFailRefund == 0 {
		c.MissionFailRefund = d.MissionFailRefund
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	// Zero means "the default"; a negative value is a mistake, never
	// silently replaced by the default.
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"MaxAmountMilli", c.MaxAmountMilli}, {"IdempotencyMemKeys", int64(c.IdempotencyMemKeys)},
		{"IdempotencyRetention", int64(c.IdempotencyRetention)},
		{"Approval.SweepInterval", int64(c.Approval.SweepInterval)}, {"Synergie.MaxTeam", int64(c.Synergie.MaxTeam)},
		{"Projection.LedgerKeep", int64(c.Projection.LedgerKeep)}, {"Projection.DecidedKeep", int64(c.Projection.DecidedKeep)},
	} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s %d must not be negative (0 takes the default)", n.name, n.v))
		}
	}
	c = c.withDefaults()
	a := c.Approval
	if a.ThresholdMilli <= 0 || a.MediumFromMilli <= 0 || a.HighFromMilli < a.MediumFromMilli || a.CriticalFromMilli < a.HighFromMilli {
		errs = append(errs, fmt.Errorf("approval thresholds must be positive and ordered medium ≤ high ≤ critical"))
	}
	if a.MediumTimeout <= 0 || a.HighTimeout <= 0 || a.CriticalTimeout <= 0 {
		errs = append(errs, fmt.Errorf("approval timeouts must be positive"))
	}
	if c.Synergie.BaseMilli <= 0 || c.Synergie.CapMilli <= 0 {
		errs = append(errs, fmt.Errorf("synergie base and cap must be positive"))
	}
	// Money guard: one synergie reward (at most 1.5 × base) must stay below
	// the approval threshold, so a collaboration cannot grant what an add
	// would need a human approval for.
	if c.Synergie.BaseMilli*3/2 >= a.ThresholdMilli {
		errs = append(errs, fmt.Errorf("synergie base × 1.5 must stay below the approval threshold"))
	}
	if c.IdempotencyMemKeys > MaxIdempotencyMemKeys {
		errs = append(errs, fmt.Errorf("idempotency memory keys %d above the hard limit %d", c.IdempotencyMemKeys, MaxIdempotencyMemKeys))
	}
	if c.IdempotencyRetention > MaxIdempotencyRetention {
		errs = append(errs, fmt.Errorf("idempotency retention %v above the hard limit %v", c.IdempotencyRetention, MaxIdempotencyRetention))
	}
	if c.MissionFailRefund < 0 || c.MissionFailRefund > 1 {
		errs = append(errs, fmt.Errorf("mission fail refund must be within 0..1"))
	}
	if err := c.Anomaly.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.EoC.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

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
		"max_amount_milli": c.MaxAmountMilli, "mission_fail_refund": c.MissionFailRefund,
	}
}

// ErrSettingsDiffer: the shared store was started with other money
// settings than this instance's.
var ErrSettingsDiffer = errors.New("engine: settings differ from those recorded in the store")

// checkSettings records the money settings in a store that keeps them and
// refuses to start when the store holds different ones.
func checkSettings(s store.Store, c Config) error {
	k, ok := s.(store.SettingsKeeper)
	if !ok {
		return nil
	}
	mine := c.moneySettings()
	body, err := json.Marshal(mine)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := k.KeepSettings(ctx, "money", body)
	if err != nil {
		return fmt.Errorf("engine: record settings: %w", err)
	}
	var have, want map[string]any
	if err := json.Unmarshal(got, &have); err != nil {
		return fmt.Errorf("engine: settings recorded in the store: %w", err)
	}
	_ = json.Unmarshal(body, &want) // same number representation as have
	var diff []string
	for name, v := range want {
		if h, ok := have[name]; !ok || fmt.Sprint(h) != fmt.Sprint(v) {
			diff = append(diff, fmt.Sprintf("%s: store %v, this instance %v", name, h, v))
		}
	}
	for name, h := range have {
		if _, ok := want[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s: store %v, unknown to this instance", name, h))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return fmt.Errorf("%w (every instance must decide money by the same rules): %s", ErrSettingsDiffer, strings.Join(diff, "; "))
	}
	return nil
}
