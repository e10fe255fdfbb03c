package original

import (
	"fmt"
	"sort"
	"strings"
)

// Defect is one deliberate bug the backend can be started with.
type Defect string

const (
	// FloatMoney keeps balances as float64: 0.1 + 0.2 noise shows in
	// balances (e.g. 37.199999999999996).
	FloatMoney Defect = "float-money"
	// IgnoreIdempotency ignores Idempotency-Key: every retry executes again.
	IgnoreIdempotency Defect = "ignore-idempotency"
	// MintWithoutApproval accepts adds of 10,000 credits or more.
	MintWithoutApproval Defect = "mint-without-approval"
	// ReregisterResets answers POST /agents for an existing agent with 200
	// and resets its balance to the initial credits (the original's bug).
	ReregisterResets Defect = "reregister-resets"
	// AcceptNonFinite accepts any amount that parses as a float: negative,
	// zero, 1e309 (+Inf), "NaN" strings. Money is then float64 too.
	AcceptNonFinite Defect = "accept-non-finite"
	// ApplyThen5xx applies and journals every 7th write but answers 500.
	ApplyThen5xx Defect = "apply-then-5xx"
	// DropTornSilently skips damaged journal lines at start without a word
	// and leaves a torn last line in place, so the next append is glued onto
	// it and lost at the following restart (the original's bug).
	DropTornSilently Defect = "drop-torn-silently"
	// HealthAlwaysOK answers health 200 "ok" even when the journal failed
	// or was found damaged.
	HealthAlwaysOK Defect = "health-always-ok"
)

// AllDefects lists every defect name, in documentation order.
var AllDefects = []Defect{FloatMoney, IgnoreIdempotency, MintWithoutApproval, ReregisterResets,
	AcceptNonFinite, ApplyThen5xx, DropTornSilently, HealthAlwaysOK}

// Defects is a set of switched-on defects; the zero value is none.
type Defects map[Defect]bool

// ParseDefects reads a comma-separated list ("" or "none": no defect). An
// unknown name is an error naming the valid ones, so a typo never runs a
// correct backend where a broken one was meant.
func ParseDefects(s string) (Defects, error) {
	d := Defects{}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return d, nil
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		known := false
		for _, k := range AllDefects {
			if Defect(name) == k {
				known = true
			}
		}
		if !known {
			names := make([]string, len(AllDefects))
			for i, k := range AllDefects {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("original: unknown defect %q (known: %s)", name, strings.Join(names, ", "))
		}
		d[Defect(name)] = true
	}
	return d, nil
}

// String lists the defects, sorted, comma-separated ("none" when empty).
func (d Defects) String() string {
	var names []string
	for k, on := range d {
		if on {
			names = append(names, string(k))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
