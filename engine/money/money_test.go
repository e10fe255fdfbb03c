package money

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParsePositiveIsExactOrRejects(t *testing.T) {
	cases := []struct {
		in   string
		want Milli
		err  error
	}{
		{"12.5", 12500, nil},
		{"0.001", 1, nil},
		{"1e3", 1_000_000, nil},
		{"1.5e-2", 15, nil},
		{"100.000000", 100_000, nil},
		{"0.0001", 0, ErrTooPrecise},
		{"0", 0, ErrNotPositive},
		{"-5", 0, ErrNotPositive},
		{"1000000001", 0, ErrTooLarge},
		{"1000000000", DefaultMaxMilli, nil},
		{"99999999999999999999999", 0, ErrTooLarge},
		{"abc", 0, ErrNotNumber},
		{"1.2.3", 0, ErrNotNumber},
		{"", 0, ErrNotNumber},
	}
	for _, c := range cases {
		got, err := ParsePositive(json.Number(c.in), DefaultMaxMilli)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ParsePositive(%q) err = %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParsePositive(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormatRoundTripsThroughParse(t *testing.T) {
	for _, m := range []Milli{1, 999, 1000, 12500, 123456789, DefaultMaxMilli} {
		got, err := ParsePositive(json.Number(Format(m)), DefaultMaxMilli)
		if err != nil || got != m {
			t.Errorf("Format(%d) = %q parses to %d, %v", m, Format(m), got, err)
		}
	}
	if Format(-1500) != "-1.5" {
		t.Errorf("Format(-1500) = %q", Format(-1500))
	}
}

// Zero is one value whatever its spelling: where zero is allowed, "0.0"
// must not be refused while "0" passes.
func TestParseNonNegativeTreatsEverySpellingOfZeroAlike(t *testing.T) {
	for _, in := range []string{"0", "0.0", "0.000", "0e5", "-0", "0.0e-3"} {
		if got, err := ParseNonNegative(json.Number(in), DefaultMaxMilli); err != nil || got != 0 {
			t.Errorf("ParseNonNegative(%q) = %d, %v; want 0, nil", in, got, err)
		}
	}
	for in, want := range map[string]error{"-0.5": ErrNotPositive, "0.0001": ErrTooPrecise, "x": ErrNotNumber, "1000000001": ErrTooLarge} {
		if _, err := ParseNonNegative(json.Number(in), DefaultMaxMilli); !errors.Is(err, want) {
			t.Errorf("ParseNonNegative(%q) err = %v, want %v", in, err, want)
		}
	}
	if got, err := ParseNonNegative("2.5", DefaultMaxMilli); err != nil || got != 2500 {
		t.Errorf("ParseNonNegative(2.5) = %d, %v", got, err)
	}
}

// Settings go through the request parser: 1.005 is 1005 milli, not the
// 1004 a float64 multiplication gives.
func TestParseSettingIsExact(t *testing.T) {
	if got, err := ParseSetting("1.005", DefaultMaxMilli); err != nil || got != 1005 {
		t.Errorf("ParseSetting(1.005) = %d, %v; want 1005", got, err)
	}
	for _, in := range []string{"500.5x", " 500", "", "0", "-1", "1.0001"} {
		if _, err := ParseSetting(in, DefaultMaxMilli); err == nil {
			t.Errorf("ParseSetting(%q) accepted", in)
		}
	}
}
