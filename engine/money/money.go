// Package money owns the exact representation of credits: int64 milli-credits
// (1 credit = 1000 milli). It parses the API's JSON numbers (at most three
// decimals, no floats involved) and formats milli amounts back to credits.
//
// It is a leaf package: it must not import anything from this module.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Milli is an amount in milli-credits.
type Milli = int64

// PerCredit is the number of milli-credits in one credit.
const PerCredit Milli = 1000

// DefaultMaxMilli is the default upper bound of one amount: 1,000,000,000 credits.
const DefaultMaxMilli Milli = 1_000_000_000 * PerCredit

// Errors returned by Parse; the API maps every one of them to 422.
var (
	ErrNotNumber   = errors.New("must be a JSON number")
	ErrNotPositive = errors.New("must be greater than zero")
	ErrTooPrecise  = errors.New("must have at most 3 decimal places")
	ErrTooLarge    = errors.New("exceeds the maximum amount")
)

// ParsePositive parses a JSON number given in credits into milli-credits. It
// accepts plain decimals and exponents ("12.5", "1e3", "0.001") as long as
// the value is exact in milli-credits, positive and at most maxMilli. It
// never goes through float64, so no amount is rounded.
func ParsePositive(n json.Number, maxMilli Milli) (Milli, error) {
	v, err := parseExact(string(n))
	if err != nil {
		return 0, err
	}
	if v <= 0 {
		return 0, ErrNotPositive
	}
	if v > maxMilli {
		return 0, fmt.Errorf("%w (%s credits)", ErrTooLarge, Format(maxMilli))
	}
	return v, nil
}

// ParseNonNegative is ParsePositive that also accepts zero in any
// spelling ("0", "0.0", "0e3", "-0"), for fields where zero is allowed.
func ParseNonNegative(n json.Number, maxMilli Milli) (Milli, error) {
	v, err := parseExact(string(n))
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, nil
	}
	return ParsePositive(n, maxMilli)
}

// ParseSetting parses a configuration value in credits exactly like a
// request amount (ParsePositive): a positive decimal with at most three
// decimals, at most maxMilli. Surrounding spaces are not trimmed.
func ParseSetting(s string, maxMilli Milli) (Milli, error) {
	return ParsePositive(json.Number(s), maxMilli)
}

// parseExact converts a decimal literal to milli units without floats.
func parseExact(s string) (Milli, error) {
	if s == "" {
		return 0, ErrNotNumber
	}
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 30 || e < -30 {
			return 0, ErrNotNumber
		}
		exp = e
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || !digits(intPart) || (frac != "" && !digits(frac)) || strings.Count(s, ".") > 1 {
		return 0, ErrNotNumber
	}
	// Shift the decimal point by exp, then require at most 3 fractional digits.
	all := strings.TrimLeft(intPart+frac, "0")
	point := len(intPart) + exp - (len(intPart+frac) - len(all)) // digits of `all` before the point
	fracDigits := len(all) - point
	// Trailing zeros beyond the point do not add precision.
	for fracDigits > 3 && strings.HasSuffix(all, "0") {
		all = all[:len(all)-1]
		fracDigits--
	}
	if all == "" {
		return 0, nil
	}
	if fracDigits > 3 {
		return 0, ErrTooPrecise
	}
	all += strings.Repeat("0", 3-fracDigits)
	if len(all) > 18 {
		return 0, ErrTooLarge
	}
	v, err := strconv.ParseInt(all, 10, 64)
	if err != nil {
		return 0, ErrTooLarge
	}
	if neg {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format renders milli-credits as a decimal string in credits with no
// trailing zeros ("12.5", "-0.001", "7").
func Format(m Milli) string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = uint64(-m)
	}
	whole, frac := u/1000, u%1000
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	return sign + strconv.FormatUint(whole, 10) + "." + f
}

// Credits is a milli amount that marshals to JSON as a number in credits.
type Credits Milli

// MarshalJSON writes the exact decimal, never a float rendering.
func (c Credits) MarshalJSON() ([]byte, error) { return []byte(Format(Milli(c))), nil }
