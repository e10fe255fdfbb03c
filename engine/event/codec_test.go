package event

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func sample() *Envelope {
	c := "cause-1"
	return &Envelope{
		Seq: 7, EventID: "e-7", EventType: CreditConsumed,
		Timestamp: time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC),
		ActorID:   "op", CorrelationID: "corr", CausationID: &c, SchemaVersion: SchemaVersion,
		IdempotencyKey: "k1",
		Payload:        json.RawMessage(`{"agent_id":"a","amount_milli":12500,"balance_after_milli":0,"reason":"x"}`),
		Metadata:       &Metadata{KarmaSource: "fallback"},
	}
}

func TestEncodedLineDecodesToTheSameEnvelope(t *testing.T) {
	line, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	if line[len(line)-1] != '\n' {
		t.Fatalf("line does not end in newline: %q", line)
	}
	got, err := Decode(line)
	if err != nil {
		t.Fatalf("Decode: %v (%s)", err, line)
	}
	again, _ := Encode(&got)
	if string(again) != string(line) {
		t.Fatalf("re-encode differs:\n%s\n%s", line, again)
	}
}

func TestEveryFlippedBitIsDetected(t *testing.T) {
	line, _ := Encode(sample())
	for i := 0; i < len(line)-1; i++ {
		for bit := 0; bit < 8; bit++ {
			bad := append([]byte(nil), line...)
			bad[i] ^= 1 << bit
			if _, err := Decode(bad); err == nil {
				t.Fatalf("flip of bit %d in byte %d (%q) was not detected", bit, i, line[i])
			}
		}
	}
}

func TestTruncatedLineFailsWithoutParsing(t *testing.T) {
	line, _ := Encode(sample())
	for n := 0; n < len(line)-1; n++ {
		if _, err := Decode(line[:n]); !errors.Is(err, ErrNoCRC) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("prefix of %d bytes: err = %v", n, err)
		}
	}
}
