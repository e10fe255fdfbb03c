package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditgate/creditgate/engine/money"
)

// Configuration comes from flags with CREDITD_* environment equivalents.
// Nothing falls back silently: a value that does not parse or is out of
// range stops the start with an error naming the variable (or flag) and the
// accepted form, and so does a CREDITD_* variable this build does not know
// (a misspelt name would otherwise leave the default in force unnoticed).
// Money settings go through money's request-amount parser, never a float.

// knownEnv holds every CREDITD_* variable that run reads.
var knownEnv = map[string]bool{}

// env returns the environment value or the default, for string flags whose
// every value is acceptable at this stage (paths, URLs, tokens: each is
// checked where it is used, naming the variable).
func env(key, def string) string {
	knownEnv[key] = true
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// settings defines typed flags and applies their CREDITD_* variables
// strictly, collecting every bad value so one start reports them all.
type settings struct {
	fs     *flag.FlagSet
	lookup func(string) (string, bool)
	errs   []error
}

func newSettings(fs *flag.FlagSet) *settings { return &settings{fs: fs, lookup: os.LookupEnv} }

// define registers v as flag name with environment variable key; the
// variable, when set, is parsed now (a flag given on the command line
// overrides it later).
func (s *settings) define(v flag.Value, name, key, usage string) {
	knownEnv[key] = true
	if f, ok := v.(interface{ form() string }); ok {
		usage += " (" + key + "; " + f.form() + ")"
	} else {
		usage += " (" + key + ")"
	}
	s.fs.Var(v, name, usage)
	if raw, ok := s.lookup(key); ok {
		if err := v.Set(raw); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: %v", key, raw, err))
		}
	}
}

// err reports every bad variable, then unknown CREDITD_* variables.
func (s *settings) err(environ []string) error {
	errs := s.errs
	var unknown []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CREDITD_") && !knownEnv[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(knownEnv))
		for k := range knownEnv {
			known = append(known, k)
		}
		sort.Strings(known)
		sort.Strings(unknown)
		errs = append(errs, fmt.Errorf("unknown variable %s: not a setting of creditd (known: %s)",
			strings.Join(unknown, ", "), strings.Join(known, ", ")))
	}
	return errors.Join(errs...)
}

func (s *settings) Bool(name, key string, def bool, usage string) *bool {
	p := &def
	s.define(&boolValue{p}, name, key, usage)
	return p
}

func (s *settings) Int(name, key string, def, lo, hi int, usage string) *int {
	p := &def
	s.define(&intValue{p, lo, hi}, name, key, usage)
	return p
}

func (s *settings) Duration(name, key string, def, lo, hi time.Duration, usage string) *time.Duration {
	p := &def
	s.define(&durationValue{p, lo, hi}, name, key, usage)
	return p
}

// Credits defines a money setting in credits, held in milli-credits.
func (s *settings) Credits(name, key string, defMilli money.Milli, usage string) *money.Milli {
	p := &defMilli
	s.define(&creditsValue{p}, name, key, usage)
	return p
}

// Fraction defines a share within (0, 1], e.g. a refund percentage.
func (s *settings) Fraction(name, key string, def float64, usage string) *float64 {
	p := &def
	s.define(&fractionValue{p}, name, key, usage)
	return p
}

func (s *settings) Choice(name, key, def string, choices []string, usage string) *string {
	p := &def
	s.define(&choiceValue{p, choices}, name, key, usage)
	return p
}

// boolValue accepts exactly true or false (and 1/0, t/f as strconv does).
type boolValue struct{ p *bool }

func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) form() string     { return "true or false" }
func (v *boolValue) String() string {
	if v == nil || v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = b
	return nil
}

type intValue struct {
	p      *int
	lo, hi int
}

func (v *intValue) form() string { return fmt.Sprintf("`integer` within %d..%d", v.lo, v.hi) }
func (v *intValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < v.lo || n > v.hi {
		return fmt.Errorf("want an integer within %d..%d", v.lo, v.hi)
	}
	*v.p = n
	return nil
}

type durationValue struct {
	p      *time.Duration
	lo, hi time.Duration
}

func (v *durationValue) form() string {
	return fmt.Sprintf("`duration` within %s..%s", v.lo, v.hi)
}
func (v *durationValue) String() string {
	if v == nil || v.p == nil {
		return "0s"
	}
	return v.p.String()
}
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < v.lo || d > v.hi {
		return fmt.Errorf("want a duration within %s..%s, e.g. 250ms, 3s or 24h", v.lo, v.hi)
	}
	*v.p = d
	return nil
}

// fractionValue accepts a plain decimal within (0, 1].
type fractionValue struct{ p *float64 }

func (v *fractionValue) form() string { return "`fraction` within (0, 1], e.g. 0.5" }
func (v *fractionValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'f', -1, 64)
}
func (v *fractionValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return errors.New("want a fraction within (0, 1], e.g. 0.5 or 1")
	}
	*v.p = f
	return nil
}

// maxSettingMilli bounds every money setting: 10^12 credits.
const maxSettingMilli = 1_000_000_000_000 * money.PerCredit

type creditsValue struct{ p *money.Milli }

func (v *creditsValue) form() string {
	return "`credits` > 0, at most 3 decimals, parsed exactly"
}
func (v *creditsValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return money.Format(*v.p)
}
func (v *creditsValue) Set(s string) error {
	m, err := money.ParseSetting(s, maxSettingMilli)
	if err != nil {
		why := "not a number"
		switch {
		case errors.Is(err, money.ErrNotPositive):
			why = "not greater than 0"
		case errors.Is(err, money.ErrTooPrecise):
			why = "more than 3 decimals"
		case errors.Is(err, money.ErrTooLarge):
			why = "too large"
		}
		return fmt.Errorf("%s; want credits: a plain number greater than 0 with at most 3 decimals, at most %s (e.g. 500 or 1.005)",
			why, money.Format(maxSettingMilli))
	}
	*v.p = m
	return nil
}

type choiceValue struct {
	p       *string
	choices []string
}

func (v *choiceValue) form() string { return "one of " + strings.Join(v.choices, "|") }
func (v *choiceValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}
func (v *choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.choices, ", "))
}

// secretValue holds a setting whose value must never be printed (bearer
// tokens, a database URL with its password): flag's usage text shows
// "(default set)" when it has a value, never the value itself.
type secretValue struct{ p *string }

func (v *secretValue) String() string {
	if v == nil || v.p == nil || *v.p == "" {
		return ""
	}
	return "set"
}
func (v *secretValue) Set(s string) error { *v.p = s; return nil }

// Secret defines a string setting whose value is never printed.
func (s *settings) Secret(name, key, usage string) *string {
	p := new(string)
	v := &secretValue{p}
	s.define(v, name, key, usage)
	s.fs.Lookup(name).DefValue = v.String() // "set" from the environment, or ""
	return p
}

// urlValue holds a URL that may carry credentials: usage shows it
// redacted.
type urlValue struct{ p *string }

func (v *urlValue) String() string {
	if v == nil || v.p == nil || *v.p == "" {
		return ""
	}
	return redact(*v.p)
}
func (v *urlValue) Set(s string) error { *v.p = s; return nil }

// URL defines a URL setting whose password is never printed.
func (s *settings) URL(name, key, usage string) *string {
	p := new(string)
	v := &urlValue{p}
	s.define(v, name, key, usage)
	s.fs.Lookup(name).DefValue = v.String() // redacted
	return p
}
