package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func decodeNumbers(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A client of the original reads fields by name and by JSON type: a field
// that is missing, renamed or carries the right value in the wrong type
// (a number as a string, a timestamp as epoch seconds, null as "") is a
// violation; extra fields are not.
func TestShapeViolationsCatchMissingAndRetypedFieldsOfTheOriginal(t *testing.T) {
	spec := []string{"agent_id:string", "amount:number", "mission_id:string|null", "timestamp:time",
		"balances.*:number", "history[0].amount:number", "config.event_sourcing_enabled:bool"}
	good := `{"agent_id":"a1","amount":-1.5,"mission_id":null,"timestamp":"2026-12-02T09:00:00.123456Z",
		"balances":{"a1":95.5,"a2":0},"history":[{"amount":-0.001}],"config":{"event_sourcing_enabled":true},"extra":"ok"}`
	for _, doc := range []any{decodeNumbers(t, good), func() any { var v any; _ = json.Unmarshal([]byte(good), &v); return v }()} {
		if v := ShapeViolations(doc, spec...); len(v) != 0 {
			t.Fatalf("a document of the original's shape: %v", v)
		}
	}
	// The original's zone-less isoformat() is ISO 8601 too.
	if v := ShapeViolations(decodeNumbers(t, `{"timestamp":"2026-12-02T09:00:00.123456"}`), "timestamp:time"); len(v) != 0 {
		t.Fatalf("zone-less isoformat: %v", v)
	}
	for _, tc := range []struct{ doc, want string }{
		{`{"amount":"-1.5"}`, `amount: "-1.5" (string), want number`},
		{`{"agent":"a1"}`, `agent_id: missing`},
		{`{"timestamp":1764666000}`, `timestamp: 1764666000 (number), want time`},
		{`{"timestamp":"02.12.2026 09:00"}`, `timestamp: "02.12.2026 09:00" (string), want time`},
		{`{"balances":{"a1":95.5,"a2":"3"}}`, `balances.a2: "3" (string), want number`},
		{`{"balances":[95.5]}`, `balances.*: parent balances is a list, not an object`},
		{`{"history":[]}`, `history[0]: list has 0 entries`},
		{`{"config":{"event_sourcing_enabled":"true"}}`, `config.event_sourcing_enabled: "true" (string), want bool`},
	} {
		v := ShapeViolations(decodeNumbers(t, tc.doc), spec...)
		joined := strings.Join(v, "\n")
		if !strings.Contains(joined, tc.want) {
			t.Errorf("%s: violations\n%s\nwant one saying %q", tc.doc, joined, tc.want)
		}
	}
}

// The original's metrics carry replay.last_replay_timestamp as Unix seconds
// (a number, or null) and replay.snapshot_used as the snapshot id (a
// string, or null): an ISO string or a bool there breaks its clients.
func TestShapeViolationsJudgeTheOriginalsReplayMetricsTypes(t *testing.T) {
	spec := []string{"replay.last_replay_timestamp:unixtime|null", "replay.snapshot_used:string|null"}
	for _, good := range []string{
		`{"replay":{"last_replay_timestamp":1764666000.123456,"snapshot_used":"snap-42"}}`,
		`{"replay":{"last_replay_timestamp":1764666000,"snapshot_used":null}}`,
		`{"replay":{"last_replay_timestamp":null,"snapshot_used":null}}`,
	} {
		if v := ShapeViolations(decodeNumbers(t, good), spec...); len(v) != 0 {
			t.Errorf("%s: %v", good, v)
		}
	}
	for _, tc := range []struct{ doc, want string }{
		{`{"replay":{"last_replay_timestamp":"2026-12-02T09:00:00Z","snapshot_used":null}}`,
			`replay.last_replay_timestamp: "2026-12-02T09:00:00Z" (string), want unixtime or null`},
		{`{"replay":{"last_replay_timestamp":1764666000123,"snapshot_used":null}}`,
			`replay.last_replay_timestamp: 1764666000123 (number), want unixtime or null`},
		{`{"replay":{"last_replay_timestamp":-1,"snapshot_used":null}}`,
			`replay.last_replay_timestamp: -1 (number), want unixtime or null`},
		{`{"replay":{"last_replay_timestamp":null,"snapshot_used":false}}`,
			`replay.snapshot_used: false (bool), want string or null`},
	} {
		joined := strings.Join(ShapeViolations(decodeNumbers(t, tc.doc), spec...), "\n")
		if !strings.Contains(joined, tc.want) {
			t.Errorf("%s: violations\n%s\nwant one saying %q", tc.doc, joined, tc.want)
		}
	}
}

// A ledger entry carries its event's timestamp: RFC 3339 in UTC (SPEC §2),
// not the zone-less isoformat the original's /health may answer.
func TestUTCTimeIsAnEventsTimestamp(t *testing.T) {
	for ts, ok := range map[string]bool{
		"2026-12-07T04:11:58.487525Z":      true,
		"2026-12-07T04:11:58Z":             true,
		"2026-12-07T04:11:58.4875+00:00":   true,
		"2026-12-07T04:11:58.487525":       false, // naive: no zone
		"2026-12-07T05:11:58.487525+01:00": false, // not UTC
		"yesterday":                        false,
	} {
		if v := ShapeViolations(decodeNumbers(t, `{"timestamp":"`+ts+`"}`), "timestamp:utctime"); (len(v) == 0) != ok {
			t.Errorf("%s: violations %v, want ok=%v", ts, v, ok)
		}
	}
}
