package original

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

const (
	milliPerCredit = 1000
	// maxAmountCredits is the largest amount a request may carry; anything
	// above is absurd and refused with 422.
	maxAmountCredits = 1_000_000_000 // SPEC §1 default
	// approvalThresholdCredits: an add at or above needs an approval, which
	// this backend does not offer (403 approval_required).
	approvalThresholdCredits = 500
	// maxNumberText bounds the text of a number before it is parsed exactly.
	maxNumberText = 64
)

// money is a credit amount: exact milli-credits, or a float64 when the
// backend runs with float money (the defects float-money and
// accept-non-finite).
type money struct {
	milli   int64
	f       float64
	isFloat bool
}

var errOverflow = errors.New("balance would overflow")

func (m money) add(o money) (money, error) {
	if m.isFloat {
		return money{f: m.f + o.f, isFloat: true}, nil
	}
	s := m.milli + o.milli
	if (o.milli > 0 && s < m.milli) || (o.milli < 0 && s > m.milli) {
		return m, errOverflow
	}
	return money{milli: s}, nil
}

func (m money) neg() money {
	if m.isFloat {
		return money{f: -m.f, isFloat: true}
	}
	return money{milli: -m.milli}
}

func (m money) less(o money) bool {
	if m.isFloat {
		return m.f < o.f
	}
	return m.milli < o.milli
}

// positive reports whether m > 0.
func (m money) positive() bool {
	if m.isFloat {
		return m.f > 0
	}
	return m.milli > 0
}

// finite reports whether m is an ordinary number (exact money always is).
func (m money) finite() bool {
	return !m.isFloat || (!math.IsNaN(m.f) && !math.IsInf(m.f, 0))
}

// text is the journal form: the exact decimal, or the float's shortest
// round-trip form ("NaN", "+Inf" included).
func (m money) text() string {
	if m.isFloat {
		return strconv.FormatFloat(m.f, 'g', -1, 64)
	}
	neg := m.milli < 0
	u := uint64(m.milli)
	if neg {
		u = uint64(-m.milli)
	}
	s := strconv.FormatUint(u/milliPerCredit, 10)
	if frac := u % milliPerCredit; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes a JSON number. A non-finite float becomes a marker
// string that encode turns into what Python's json.dumps writes (NaN,
// Infinity, -Infinity): the original would have, and it is not JSON, which
// is the point of that defect.
func (m money) MarshalJSON() ([]byte, error) {
	if !m.isFloat {
		return []byte(m.text()), nil
	}
	switch {
	case math.IsNaN(m.f):
		return []byte(`"\u0000NaN\u0000"`), nil
	case math.IsInf(m.f, 1):
		return []byte(`"\u0000Infinity\u0000"`), nil
	case math.IsInf(m.f, -1):
		return []byte(`"\u0000-Infinity\u0000"`), nil
	}
	return json.Marshal(m.f)
}

// encode is json.Marshal with non-finite money written as bare Python
// tokens (see money.MarshalJSON).
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || !bytes.Contains(b, []byte(`"\u0000`)) {
		return b, err
	}
	for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
		b = bytes.ReplaceAll(b, []byte(`"\u0000`+tok+`\u0000"`), []byte(tok))
	}
	return b, nil
}

// parseMoneyText reads a journal amount in the backend's current money mode.
// A journal written with float money and replayed exactly is rounded to the
// milli-credit; a non-finite amount cannot be replayed exactly.
func parseMoneyText(s string, float bool) (money, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return money{}, fmt.Errorf("amount %q is not a number", s)
	}
	if float {
		return money{f: f, isFloat: true}, nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e15 {
		return money{}, fmt.Errorf("amount %q cannot be held exactly", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return money{}, fmt.Errorf("amount %q is not a number", s)
	}
	r.Mul(r, big.NewRat(milliPerCredit, 1))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // rounding toward zero is enough for float noise
	rem := new(big.Rat).Sub(r, new(big.Rat).SetInt(q))
	if rem.Abs(rem).Cmp(big.NewRat(1, 2)) >= 0 {
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		} else {
			q.Sub(q, big.NewInt(1))
		}
	}
	return money{milli: q.Int64()}, nil
}

// fieldError is a 422 naming the field.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// numberText returns the JSON number token of raw, or a fieldError. With
// allowStrings (the accept-non-finite defect, as pydantic coerces "nan" and
// "inf") a JSON string is accepted as the number's text.
func numberText(field string, raw json.RawMessage, allowStrings bool) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", &fieldError{field, "field required"}
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return "", &fieldError{field, "not a valid string"}
		}
		if !allowStrings {
			switch str {
			case "NaN", "Infinity", "-Infinity":
				return "", &fieldError{field, "must be a finite number"}
			}
			return "", &fieldError{field, "must be a number, not a string"}
		}
		return strings.TrimSpace(str), nil
	}
	if s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return "", &fieldError{field, "must be a number"}
	}
	if len(s) > maxNumberText {
		return "", &fieldError{field, fmt.Sprintf("number longer than %d characters", maxNumberText)}
	}
	return s, nil
}

// parseAmount validates a request amount: a finite JSON number, > 0,
// <= 1e9, at most 3 decimals. With acceptNonFinite anything that parses as
// a float64 passes (1e309 is +Inf, -5 is -5). float selects float money.
// With truncate (the truncate-extra-decimals defect) digits below the
// milli-credit are cut off instead of refused. With intPartMax (the
// h12-max-amount-int-part defect) only the integer part is held against
// the maximum.
func parseAmount(field string, raw json.RawMessage, float, acceptNonFinite, truncate, intPartMax bool) (money, error) {
	s, err := numberText(field, raw, acceptNonFinite)
	if err != nil {
		return money{}, err
	}
	f, perr := strconv.ParseFloat(s, 64)
	if acceptNonFinite {
		if perr != nil && !errors.Is(perr, strconv.ErrRange) {
			return money{}, &fieldError{field, "not a valid float"}
		}
		return money{f: f, isFloat: true}, nil
	}
	if perr != nil && !errors.Is(perr, strconv.ErrRange) {
		return money{}, &fieldError{field, "not a valid number"}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return money{}, &fieldError{field, "must be a finite number"}
	}
	if f <= 0 && !(f == 0 && perr != nil) { // 1e-400 underflows to 0: refused below as too many decimals
		return money{}, &fieldError{field, "must be greater than 0"}
	}
	if f > 10*maxAmountCredits {
		return money{}, &fieldError{field, fmt.Sprintf("must be at most %d", maxAmountCredits)}
	}
	if perr != nil { // underflow: a positive number far below a milli-credit
		return money{}, &fieldError{field, "at most 3 decimal places are allowed"}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return money{}, &fieldError{field, "not a valid number"}
	}
	over := r.Cmp(new(big.Rat).SetInt64(maxAmountCredits)) > 0
	if intPartMax { // int(amount) > max
		over = new(big.Int).Quo(r.Num(), r.Denom()).Cmp(big.NewInt(maxAmountCredits)) > 0
	}
	if over {
		return money{}, &fieldError{field, fmt.Sprintf("must be at most %d", maxAmountCredits)}
	}
	r.Mul(r, big.NewRat(milliPerCredit, 1))
	if !r.IsInt() {
		if !truncate {
			return money{}, &fieldError{field, "at most 3 decimal places are allowed"}
		}
		r.SetInt(new(big.Int).Quo(r.Num(), r.Denom())) // int(amount * 1000)
	}
	milli := r.Num().Int64()
	if milli <= 0 {
		return money{}, &fieldError{field, "must be greater than 0"}
	}
	if float {
		fv, _ := new(big.Rat).SetFrac(r.Num(), big.NewInt(milliPerCredit)).Float64()
		return money{f: fv, isFloat: true}, nil
	}
	return money{milli: milli}, nil
}

// parseSkill validates skill_level: a number in [0, 1] with at most 5
// decimals (so skill × 100 credits has at most 3). It returns the skill's
// text and the initial credits (skill × 100).
func parseSkill(raw json.RawMessage, float, floatTruncate bool) (string, money, error) {
	const field = "skill_level"
	if strings.TrimSpace(string(raw)) == "" {
		raw = json.RawMessage("0.5") // the original's default
	}
	s, err := numberText(field, raw, false)
	if err != nil {
		return "", money{}, err
	}
	f, perr := strconv.ParseFloat(s, 64)
	if perr != nil || f < 0 || f > 1 {
		return "", money{}, &fieldError{field, "must be a number between 0 and 1"}
	}
	if float { // the original: skill_level * 100 in floats (0.07 * 100 = 7.000000000000001)
		return s, money{f: f * 100, isFloat: true}, nil
	}
	if floatTruncate { // H10SkillFloatTruncate: int(skill * 100 * 1000)
		return s, money{milli: int64(f * 100 * milliPerCredit)}, nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", money{}, &fieldError{field, "not a valid number"}
	}
	r.Mul(r, big.NewRat(100*milliPerCredit, 1))
	if !r.IsInt() {
		return "", money{}, &fieldError{field, "at most 5 decimal places are allowed"}
	}
	return s, money{milli: r.Num().Int64()}, nil
}
