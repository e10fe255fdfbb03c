package audit

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMilli converts a JSON number literal in credits ("12.5", "-0.001",
// "1e3") into exact milli-credits without going through float64. It fails
// for non-numbers, more than 3 significant decimal places, and values that
// do not fit in int64.
func ParseMilli(lit string) (int64, error) {
	s := strings.TrimSpace(lit)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 40 || e < -40 {
			return 0, fmt.Errorf("audit: %q is not a credit amount", lit)
		}
		exp, s = e, s[:i]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || (hasDot && frac == "") {
		return 0, fmt.Errorf("audit: %q is not a credit amount", lit)
	}
	// value = digits × 10^(exp - len(frac)); in milli: × 10^(exp - len(frac) + 3).
	digits := strings.TrimLeft(whole+frac, "0")
	shift := exp - len(frac) + 3
	for shift < 0 && strings.HasSuffix(digits, "0") {
		digits, shift = digits[:len(digits)-1], shift+1
	}
	if digits == "" {
		return 0, nil
	}
	if shift < 0 {
		return 0, fmt.Errorf("audit: %q has more than 3 decimal places", lit)
	}
	if len(digits)+shift > 18 {
		return 0, fmt.Errorf("audit: %q is out of range", lit)
	}
	v, err := strconv.ParseInt(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("audit: %q is out of range", lit)
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatMilli renders milli-credits as credits ("12.5", "-0.001").
func FormatMilli(m int64) string {
	sign, u := "", uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m)
	}
	s := sign + strconv.FormatUint(u/1000, 10)
	if f := u % 1000; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%03d", f), "0")
	}
	return s
}
