package explore

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditgate/creditgate/scenarios/money"
)

// Settings are the engine settings that decide money, drawn per seed and
// given to both the backend (as CREDITD_* variables, Env) and the judge.
type Settings struct {
	ThresholdMilli  int64         `json:"threshold_milli"` // gating threshold = MEDIUM from
	HighMilli       int64         `json:"high_milli"`
	CriticalMilli   int64         `json:"critical_milli"`
	TimeoutMedium   time.Duration `json:"timeout_medium"`
	TimeoutHigh     time.Duration `json:"timeout_high"`
	TimeoutCritical time.Duration `json:"timeout_critical"`
	SynergieBase    int64         `json:"synergie_base_milli"`
	SynergieCap     int64         `json:"synergie_cap_milli"`
	MaxAmountMilli  int64         `json:"max_amount_milli"`
	// MissionFailRefund is the share of what a failed mission consumed
	// that its fail refunds (SPEC §5, default 1.0).
	MissionFailRefund float64 `json:"mission_fail_refund"`
	// Capacities are our engine's memory bounds (CREDITD_* name → value:
	// decided approvals and ledger entries kept in memory, idempotency keys
	// kept in memory, events per group commit), drawn small for some seeds
	// so the paths that evict to and read back from the journal or the
	// disk index run under the workload. No answer may depend on them: the
	// judge ignores them, and a backend that has no such bounds ignores
	// the variables.
	Capacities map[string]int `json:"capacities,omitempty"`
}

// DefaultSettings are SPEC §5's defaults (what a backend started without
// settings uses).
func DefaultSettings() Settings {
	return Settings{ThresholdMilli: 500_000, HighMilli: 5_000_000, CriticalMilli: 50_000_000,
		TimeoutMedium: 24 * time.Hour, TimeoutHigh: 48 * time.Hour, TimeoutCritical: 72 * time.Hour,
		SynergieBase: 50_000, SynergieCap: 500_000, MaxAmountMilli: 1_000_000_000_000, MissionFailRefund: 1}
}

// DrawSettings draws settings from the seed: thresholds with up to three
// decimals (sometimes equal bounds: HIGH = threshold, CRITICAL = HIGH), one
// risk level with a short timeout so requests expire during the run, a
// synergie base below threshold/1.5 (the engine refuses to start otherwise)
// and a maximum amount a little above CRITICAL.
func DrawSettings(r *rand.Rand) Settings {
	s := DefaultSettings()
	s.ThresholdMilli = 80_000 + r.Int64N(720_000)
	if r.IntN(3) == 0 {
		s.ThresholdMilli -= s.ThresholdMilli % 1000 // whole credits too
	}
	switch r.IntN(5) {
	case 0:
		s.HighMilli = s.ThresholdMilli
	default:
		s.HighMilli = s.ThresholdMilli + 1 + r.Int64N(s.ThresholdMilli*4)
	}
	switch r.IntN(5) {
	case 0:
		s.CriticalMilli = s.HighMilli
	default:
		s.CriticalMilli = s.HighMilli + 1 + r.Int64N(s.HighMilli*3)
	}
	long := []time.Duration{time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour}
	s.TimeoutMedium, s.TimeoutHigh, s.TimeoutCritical = long[r.IntN(4)], long[r.IntN(4)], long[r.IntN(4)]
	short := time.Duration(2+r.IntN(2)) * time.Second
	switch r.IntN(3) {
	case 0:
		s.TimeoutMedium = short
	case 1:
		s.TimeoutHigh = short
	default:
		s.TimeoutCritical = short
	}
	s.SynergieBase = 1000 + r.Int64N(s.ThresholdMilli*2/3-1000)
	s.SynergieCap = s.SynergieBase + r.Int64N(10*s.SynergieBase)
	s.MaxAmountMilli = s.CriticalMilli + 1000 + r.Int64N(s.CriticalMilli)
	s.Capacities = drawCapacities(r)
	// A fail refund share below 1 for half the seeds (drawn last, so no
	// earlier draw moves): with it a fail's refund and the refunds already
	// made against the mission both count (consumed × share, capped by
	// what is left), which share 1 cannot tell apart.
	if r.IntN(2) == 0 {
		s.MissionFailRefund = []float64{0.25, 0.333, 0.5, 0.75}[r.IntN(4)]
	}
	return s
}

// drawCapacities draws each memory bound small for half the seeds (drawn
// after the rules, so adding one moves no rule draw). Batches stay at two
// events or more: the failed-batch fault decides several debits in one.
func drawCapacities(r *rand.Rand) map[string]int {
	out := map[string]int{}
	for _, c := range []struct {
		name  string
		small []int
	}{
		{"CREDITD_APPROVALS_KEEP", []int{1, 2, 5}},
		{"CREDITD_LEDGER_KEEP", []int{1, 3, 10}},
		{"CREDITD_IDEMPOTENCY_MEMORY_KEYS", []int{1, 8, 64}},
		{"CREDITD_MAX_BATCH", []int{2, 3, 5}},
	} {
		if v := c.small[r.IntN(len(c.small))]; r.IntN(2) == 0 {
			out[c.name] = v
		}
	}
	return out
}

// Env is the backend environment that applies the settings to creditd. A
// rule setting at SPEC §5's default is left out, so the backend's own
// default is what runs and is judged (a wrong built-in default shows).
func (s Settings) Env() map[string]string {
	env := s.rules()
	for k, v := range DefaultSettings().rules() {
		if env[k] == v {
			delete(env, k)
		}
	}
	for k, v := range s.Capacities {
		env[k] = strconv.Itoa(v)
	}
	return env
}

// Defaults are SPEC §5's defaults for every rule setting, with s's memory
// bounds and a fail refund share below 1 (s's, or 0.5 where s drew the
// default 1: a bug only a share away from the default shows meets it): Env
// passes no rule setting then but the share, so the backend's built-in
// defaults are judged.
func (s Settings) Defaults() Settings {
	d := DefaultSettings()
	d.MissionFailRefund, d.Capacities = s.MissionFailRefund, s.Capacities
	if d.MissionFailRefund == 1 {
		d.MissionFailRefund = 0.5
	}
	return d
}

// RuleVariables are the CREDITD_* variables of every rule setting, sorted:
// what a backend must read to run on settings the harness draws.
func RuleVariables() []string {
	names := make([]string, 0, 10)
	for k := range DefaultSettings().rules() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// rules renders every rule setting as its CREDITD_* variable.
func (s Settings) rules() map[string]string {
	return map[string]string{
		"CREDITD_APPROVAL_THRESHOLD":        credits(s.ThresholdMilli),
		"CREDITD_APPROVAL_HIGH":             credits(s.HighMilli),
		"CREDITD_APPROVAL_CRITICAL":         credits(s.CriticalMilli),
		"CREDITD_APPROVAL_TIMEOUT_MEDIUM":   s.TimeoutMedium.String(),
		"CREDITD_APPROVAL_TIMEOUT_HIGH":     s.TimeoutHigh.String(),
		"CREDITD_APPROVAL_TIMEOUT_CRITICAL": s.TimeoutCritical.String(),
		"CREDITD_SYNERGIE_BASE":             credits(s.SynergieBase),
		"CREDITD_SYNERGIE_CAP":              credits(s.SynergieCap),
		"CREDITD_MAX_AMOUNT":                credits(s.MaxAmountMilli),
		"CREDITD_MISSION_FAIL_REFUND":       strconv.FormatFloat(s.MissionFailRefund, 'g', -1, 64),
	}
}

// String is the settings as one repro line of CREDITD_* assignments.
func (s Settings) String() string {
	env := s.Env()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", k, env[k])
	}
	return b.String()
}

// credits renders milli-credits as an exact decimal ("512.25").
func credits(m int64) string { return money.FormatMilli(m) }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Principal is one bearer token of the run and whom it stands for.
type Principal struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// Principals returns the run's principals: operators and a service that
// request, approvers that decide, admins that may do both (so a requester
// can try to approve their own request) and a reader.
func Principals(prefix string) []Principal {
	var out []Principal
	for _, p := range [][2]string{{"op1", "operator"}, {"op2", "operator"}, {"svc1", "service"}, {"ap1", "approver"},
		{"ap2", "approver"}, {"ap3", "approver"}, {"adm1", "admin"}, {"adm2", "admin"}, {"rd1", "reader"}} {
		name := prefix + p[0]
		out = append(out, Principal{Name: name, Role: p[1], Token: "tok-" + name})
	}
	return out
}

// TokenOf is the token of the first principal with the role ("" if none).
func TokenOf(ps []Principal, role string) string {
	for _, p := range ps {
		if p.Role == role {
			return p.Token
		}
	}
	return ""
}

// TokensSpec is CREDITD_TOKENS for the principals.
func TokensSpec(ps []Principal) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Token + "=" + p.Name + ":" + p.Role
	}
	return strings.Join(parts, ",")
}

// parseMilli reads a JSON number literal in credits exactly (money.ParseMilli).
func parseMilli(lit string) (int64, bool) {
	v, err := money.ParseMilli(lit)
	return v, err == nil
}
