package specbackend

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
)

// MilliPerCredit is the fixed scale of every money value: 1 credit = 1000 milli-credits.
const MilliPerCredit = 1000

// maxNumberLiteral bounds the text of a JSON number we are willing to parse exactly.
const maxNumberLiteral = 64

// parseExactNumber parses a JSON number literal exactly. It refuses strings, booleans,
// objects, and literals whose exponent would make big.Rat work hard.
func parseExactNumber(raw json.RawMessage) (*big.Rat, string) {
	lit := strings.TrimSpace(string(raw))
	if lit == "" {
		return nil, "must be a number"
	}
	c := lit[0]
	if c != '-' && (c < '0' || c > '9') {
		return nil, "must be a number"
	}
	if len(lit) > maxNumberLiteral {
		return nil, "number literal too long"
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || exp > 30 || exp < -30 {
			return nil, "number out of range"
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		return nil, "must be a number"
	}
	return r, ""
}

var ratThousand = big.NewRat(MilliPerCredit, 1)

// parseAmountMilli turns a JSON number in credits into milli-credits. It accepts only
// positive values with at most 3 decimal places (by value: 1.5000 == 1.5) not above maxMilli.
func parseAmountMilli(raw json.RawMessage, maxMilli int64) (int64, string) {
	r, why := parseExactNumber(raw)
	if r == nil {
		return 0, why
	}
	if r.Sign() <= 0 {
		return 0, "must be greater than 0"
	}
	m := new(big.Rat).Mul(r, ratThousand)
	if !m.IsInt() {
		return 0, "must have at most 3 decimal places"
	}
	if !m.Num().IsInt64() || m.Num().Int64() > maxMilli {
		return 0, "exceeds the maximum of " + formatMilli(maxMilli).String() + " credits"
	}
	return m.Num().Int64(), ""
}

// parseUnitPPM parses a number in [0, 1] into parts per million, rounding half up at the
// sixth decimal (skill levels, contribution scores and percentages are not money).
func parseUnitPPM(raw json.RawMessage) (int64, string) {
	r, why := parseExactNumber(raw)
	if r == nil {
		return 0, why
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return 0, "must be between 0 and 1"
	}
	m := new(big.Rat).Mul(r, big.NewRat(1_000_000, 1))
	q := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(m.Num(), big.NewInt(2)), m.Denom()), new(big.Int).Mul(m.Denom(), big.NewInt(2)))
	return q.Int64(), ""
}

// formatMilli renders milli-credits as an exact JSON number in credits (12500 -> 12.5).
func formatMilli(m int64) json.Number {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	s := strconv.FormatUint(u/MilliPerCredit, 10)
	if frac := u % MilliPerCredit; frac != 0 {
		f := strings.TrimRight(strconv.FormatUint(frac+MilliPerCredit, 10)[1:], "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

// formatPPM renders parts per million as a JSON number (250000 -> 0.25).
func formatPPM(p int64) json.Number {
	s := strconv.FormatInt(p/1_000_000, 10)
	if frac := p % 1_000_000; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(frac+1_000_000, 10)[1:], "0")
	}
	return json.Number(s)
}

// parseAmountMilliTextual is parseAmountMilli with the decimal-places rule judged on the
// literal's text (digits after '.', before any exponent) and the value truncated to the
// milli-credit (DefectH9AmountExponentDecimals).
func parseAmountMilliTextual(raw json.RawMessage, maxMilli int64) (int64, string) {
	r, why := parseExactNumber(raw)
	if r == nil {
		return 0, why
	}
	if r.Sign() <= 0 {
		return 0, "must be greater than 0"
	}
	lit := strings.TrimSpace(string(raw))
	mant := lit
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mant = lit[:i]
	}
	if _, frac, ok := strings.Cut(mant, "."); ok && len(frac) > 3 {
		return 0, "must have at most 3 decimal places"
	}
	m := new(big.Rat).Mul(r, ratThousand)
	q := new(big.Int).Quo(m.Num(), m.Denom())
	if q.Sign() <= 0 {
		return 0, "must be greater than 0"
	}
	if !q.IsInt64() || q.Int64() > maxMilli {
		return 0, "exceeds the maximum of " + formatMilli(maxMilli).String() + " credits"
	}
	return q.Int64(), ""
}

// formatSignedNoPad renders milli-credits as "<int>.<frac>" with the fraction's trailing
// zeros trimmed but its leading zeros lost (DefectH13HistoryFractionZeros): 1050 -> "1.5".
func formatSignedNoPad(m int64) json.Number {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	s := sign + strconv.FormatInt(m/MilliPerCredit, 10)
	if frac := m % MilliPerCredit; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(frac, 10), "0")
	}
	return json.Number(s)
}
