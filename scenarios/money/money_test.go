package money

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestParseMilliIsExact(t *testing.T) {
	cases := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false}, {"12.5", 12_500, false}, {"169.501", 169_501, false}, {"-0.001", -1, false},
		{"59.02", 59_020, false}, {"1.001", 1_001, false}, {"-3.5", -3_500, false}, {"100", 100_000, false},
		{"1e3", 1_000_000, false}, {"1.5E-2", 15, false}, {"2.0010", 2_001, false}, {"60085", 60_085_000, false},
		{"1234567.891", 1_234_567_891, false},
		{"0.0001", 0, true}, {"1.0001", 0, true}, {"1e-4", 0, true}, {"NaN", 0, true}, {"Infinity", 0, true}, {"", 0, true},
		{"abc", 0, true}, {"1.2.3", 0, true}, {".", 0, true},
		{"1.", 0, true}, {".5", 0, true}, {"1e400", 0, true}, {"9223372036854775.807", 9_223_372_036_854_775_807, true},
		{"999999999999999.999", 999_999_999_999_999_999, false},
	}
	for _, tc := range cases {
		got, err := ParseMilli(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseMilli(%q) = %d, %v; want %d, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFormatMilliIsTheShortestExactLiteralAndRoundTrips(t *testing.T) {
	for m, want := range map[int64]string{0: "0", 1: "0.001", -1: "-0.001", 12_500: "12.5", -1_500: "-1.5",
		169_501: "169.501", 60_085_000: "60085", 1_234_567_891: "1234567.891", math.MinInt64: "-9223372036854775.808"} {
		if got := FormatMilli(m); got != want {
			t.Errorf("FormatMilli(%d) = %q, want %q", m, got, want)
		}
		if m == math.MinInt64 {
			continue // out of ParseMilli's 18-digit range by design
		}
		if got, err := ParseMilli(FormatMilli(m)); err != nil || got != m {
			t.Errorf("round trip %d: %d, %v", m, got, err)
		}
	}
}

// An amount sent as Credits and read back through a UseNumber decoder is
// the same milli-credit count; through float64 (the old way) 0.1 + 0.2
// accumulated in credits is not 0.3, and large balances lose their
// thousandths.
func TestAmountsRoundTripThroughJSONExactlyWhereFloatsDoNot(t *testing.T) {
	var sum int64
	var fsum float64
	for range 3 {
		sum += 100 // 0.1 credits
		fsum += 0.1
	}
	if fsum == 0.3 {
		t.Fatalf("float64 accumulation unexpectedly exact (%v); the test no longer shows the hazard", fsum)
	}
	for _, m := range []int64{sum, 1_234_567_891, 999_999_999_999_999_999, -59_020} {
		raw, err := json.Marshal(map[string]any{"balance": Credits(m)})
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			t.Fatal(err)
		}
		if got, err := FromJSON(body["balance"]); err != nil || got != m {
			t.Errorf("%s: FromJSON = %d, %v; want %d", raw, got, err, m)
		}
	}
}

func TestFromJSONRefusesFloatsAndNonNumbers(t *testing.T) {
	for _, v := range []any{0.3, nil, true, map[string]any{}} {
		if _, err := FromJSON(v); err == nil {
			t.Errorf("FromJSON(%#v) accepted", v)
		}
	}
	if got, err := FromJSON("12.5"); err != nil || got != 12_500 {
		t.Errorf(`FromJSON("12.5") = %d, %v`, got, err)
	}
}
