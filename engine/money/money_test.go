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
