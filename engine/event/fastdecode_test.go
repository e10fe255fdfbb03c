package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeStdlib is Decode as it was before decodeCanonical: the reference
// the fast path must agree with.
func decodeStdlib(line []byte) (Envelope, error) {
	var e Envelope
	if err := Verify(line); err != nil {
		return e, err
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return e, nil
}

func mustJSON(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// corpusEnvelopes returns envelopes of every event type, with the string,
// number and optional-member shapes Encode can produce.
func corpusEnvelopes(tb testing.TB) []*Envelope {
	at := time.Date(2026, 11, 27, 1, 2, 3, 456789012, time.UTC)
	credit := Credit{AgentID: "agent-17", AmountMilli: 12500, BalanceAfterMilli: -3, Reason: "llm", MissionID: "m-1"}
	approval := Approval{RequestID: "r-1", ActionType: "withdraw", AgentID: "a", AmountMilli: 5_000_000,
		Reason: "big", Justification: `quote " and \ backslash`, RequesterID: "op", RiskLevel: "CRITICAL",
		RequiredApprovals: 2, ExpiresAt: at.Add(time.Hour)}
	decision := Decision{RequestID: "r-1", DeciderID: "boss", Justification: "ok <b>&</b>", Version: 3}
	collab := Collaboration{CollaborationID: "c-1", TeamID: "t", AgentIDs: []string{"a", "b"},
		ContributionScores: map[string]float64{"a": 0.6, "b": 0.4}}
	reward := Reward{CollaborationID: "c-1", TeamID: "t", AgentID: "a", AmountMilli: 100,
		BalanceAfterMilli: 900, KarmaScore: 0.123456789, Contribution: 1e-9, CapMilli: 1000}
	pool := Pool{PoolID: "p-1", Name: "Équipe 日本 🎉", RemainderMilli: 7, RefundTo: "a"}
	member := PoolMember{PoolID: "p-1", AgentID: "a"}
	move := PoolMove{PoolID: "p-1", ToPoolID: "p-2", AgentID: "a", AmountMilli: 1, BalanceAfterMilli: 2, Reason: "x"}
	mission := Mission{MissionID: "m-1", AgentID: "a", MissionType: "code", Complexity: "high",
		EstimateMilli: 10, ActualMilli: 8, RefundMilli: 2, Rating: 4.5, ConsumeEvent: "e-1"}
	eoc := map[string]any{"score": 0.71, "regime": "edge", "factor": 1e21, "tiny": 5e-324}

	payloads := map[Type]any{
		AgentRegistered: Agent{AgentID: "a", SkillLevel: 0.75},
		CreditAllocated: credit, CreditConsumed: credit, CreditRefunded: credit,
		CreditWithdrawn: credit, CreditRegenerated: credit,
		ApprovalRequested: approval, ApprovalApproved: decision, ApprovalVoteRecorded: decision,
		ApprovalRejected: decision, ApprovalExpired: Decision{RequestID: "r-2", Version: 1},
		SynergieCollaborationRecorded: collab, SynergieRewardGranted: reward,
		SynergieRewardCapped: reward, SynergieReuseDetected: collab,
		EoCRegulated: eoc, MissionRated: mission, MissionStarted: mission,
		MissionCompleted: mission, MissionFailed: mission, MissionCancelled: mission,
		PoolCreated: pool, PoolMemberAdded: member, PoolMemberRemoved: member,
		PoolAllocated: move, PoolConsumed: move, PoolRefunded: move,
		PoolTransferred: move, PoolClosed: pool,
	}
	metas := []*Metadata{
		nil,
		{},
		{KarmaSource: "fallback"},
		{RequestHash: "sha256:ab12", KarmaSource: "live", KarmaScore: ptr(0.8125)},
		{KarmaScore: ptr(0.0), AnomalyDetected: true, AnomalyScore: ptr(-1.5e-7),
			AnomalyReason: "spike \u2028 line\u2029sep\t\"q\"", AnomalyDetector: "unavailable"},
		{AnomalyScore: ptr(1e21), AnomalyDetected: false},
	}
	strs := []string{"", "plain", `q"uote`, `back\slash`, "ctl\x00\x01\x1f\b\f\n\r\t", "<html>&amp;",
		"\u2028\u2029", "é日本🎉\U0010FFFF", "bad\xffutf8", "\x7f", "/slash"}

	var out []*Envelope
	i := 0
	for _, typ := range sortedTypes(payloads) {
		i++
		s := strs[i%len(strs)]
		e := &Envelope{
			Seq: uint64(i), EventID: fmt.Sprintf("e-%d-%s", i, s), EventType: typ,
			Timestamp: at.Add(time.Duration(i) * time.Millisecond),
			ActorID:   s, CorrelationID: "corr-" + s, SchemaVersion: SchemaVersion,
			IdempotencyKey: strs[(i+3)%len(strs)],
			Payload:        mustJSON(tb, payloads[typ]),
			Metadata:       metas[i%len(metas)],
		}
		if i%2 == 0 {
			e.CausationID = ptr("cause-" + strs[(i+5)%len(strs)])
		}
		if i%3 == 0 {
			e.TxSize = i
		}
		out = append(out, e)
	}
	// Edge shapes: extreme numbers, zone offsets, empty strings, nil payload.
	out = append(out,
		&Envelope{Seq: 1<<64 - 1, EventType: CreditConsumed, Timestamp: at.In(time.FixedZone("", -7*3600)),
			SchemaVersion: -9, TxSize: 1<<62 + 3, CausationID: ptr(""), Payload: json.RawMessage(`{}`)},
		&Envelope{Seq: 0, EventType: PoolClosed, Timestamp: time.Time{}, Payload: nil},
		&Envelope{Seq: 9, EventType: MissionRated, Timestamp: at.In(time.FixedZone("X", 5*3600+1800)),
			Payload: json.RawMessage(`[1,-0.5e+10,"s\u00e9",true,false,null,{"a":[]}]`)},
		&Envelope{Seq: 10, EventType: "custom.\u2028type", Timestamp: at, Payload: json.RawMessage(`"str"`)},
	)
	return out
}

func sortedTypes(m map[Type]any) []Type {
	var ts []Type
	for t := range m {
		ts = append(ts, t)
	}
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			if ts[j] < ts[i] {
				ts[i], ts[j] = ts[j], ts[i]
			}
		}
	}
	return ts
}

// sameEnvelope compares like reflect.DeepEqual, with the payload compared as
// bytes (its capacity and nil-ness are not part of the contract).
func sameEnvelope(a, b Envelope) bool {
	if !bytes.Equal(a.Payload, b.Payload) {
		return false
	}
	a.Payload, b.Payload = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestEveryEncodedEnvelopeTakesTheFastPathAndMatchesStdlib(t *testing.T) {
	for _, e := range corpusEnvelopes(t) {
		line, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		var fast Envelope
		if !decodeCanonical(line, &fast) {
			t.Fatalf("canonical line fell back to encoding/json: %s", line)
		}
		want, err := decodeStdlib(line)
		if err != nil {
			t.Fatalf("stdlib: %v: %s", err, line)
		}
		if !sameEnvelope(fast, want) {
			t.Fatalf("fast decode differs from encoding/json for %s\nfast: %+v\nwant: %+v", line, fast, want)
		}
		got, err := Decode(line)
		if err != nil || !sameEnvelope(got, want) {
			t.Fatalf("Decode = %+v, %v; want %+v", got, err, want)
		}
	}
}

// seal appends a valid checksum to a JSON object, so non-canonical lines
// reach the decoder.
func sealed(body string) []byte { return seal([]byte(body)) }

const canonBody = `{"seq":7,"event_id":"e-7","event_type":"credit.consumed","timestamp":"2026-11-27T01:02:03Z","actor_id":"op","correlation_id":"corr","causation_id":"c","schema_version":1,"idempotency_key":"k1","payload":{"a":1},"metadata":{"karma_source":"live"}}`

func TestNonCanonicalLinesFallBackToEncodingJSON(t *testing.T) {
	deep := strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40)
	cases := []struct {
		name string
		body string
		ok   bool // whether encoding/json accepts it
		fast bool // whether the fast path takes it
	}{
		{"canonical control", canonBody, true, true},
		{"escapes json.Marshal does not write", strings.Replace(canonBody, `"causation_id":"c"`, `"causation_id":"\u0063\/\u00E9"`, 1), true, true},
		{"int boundaries", strings.Replace(strings.Replace(canonBody, `"schema_version":1`, `"schema_version":-9223372036854775808`, 1), `"payload"`, `"tx":9223372036854775807,"payload"`, 1), true, true},
		{"negative zero", strings.Replace(canonBody, `"schema_version":1`, `"schema_version":-0`, 1), true, true},
		{"whitespace after colon", strings.Replace(canonBody, `"seq":7`, `"seq": 7`, 1), true, false},
		{"whitespace in payload", strings.Replace(canonBody, `{"a":1}`, `{"a": 1}`, 1), true, false},
		{"leading whitespace", " " + canonBody, true, false},
		{"fields reordered", strings.Replace(canonBody, `"seq":7,"event_id":"e-7"`, `"event_id":"e-7","seq":7`, 1), true, false},
		{"key in other case", strings.Replace(canonBody, `"seq"`, `"SEQ"`, 1), true, false},
		{"unknown member", strings.Replace(canonBody, `"seq":7,`, `"seq":7,"extra":[1],`, 1), true, false},
		{"duplicate member", strings.Replace(canonBody, `"seq":7,`, `"seq":7,"seq":8,`, 1), true, false},
		{"escaped key", strings.Replace(canonBody, `"actor_id"`, `"actor\u005fid"`, 1), true, false},
		{"surrogate pair escape", strings.Replace(canonBody, `"op"`, `"\ud83d\ude00"`, 1), true, false},
		{"lone surrogate escape", strings.Replace(canonBody, `"op"`, `"\ud83d"`, 1), true, false},
		{"invalid utf-8", strings.Replace(canonBody, `"op"`, "\"o\xffp\"", 1), true, false},
		{"metadata null", strings.Replace(canonBody, `{"karma_source":"live"}`, `null`, 1), true, false},
		{"metadata members reordered", strings.Replace(canonBody, `{"karma_source":"live"}`, `{"anomaly_reason":"r","karma_source":"live"}`, 1), true, false},
		{"metadata unknown member", strings.Replace(canonBody, `{"karma_source":"live"}`, `{"karma_source":"live","x":1}`, 1), true, false},
		{"metadata karma_score null", strings.Replace(canonBody, `{"karma_source":"live"}`, `{"karma_score":null}`, 1), true, false},
		{"tx after payload", strings.Replace(canonBody, `"payload":{"a":1}`, `"payload":{"a":1},"tx":2`, 1), true, false},
		{"deep payload", strings.Replace(canonBody, `{"a":1}`, deep, 1), true, false},
		{"timestamp escaped", strings.Replace(canonBody, `"2026-11-27T01:02:03Z"`, `"2026-11-27T01:02:03\u005a"`, 1), false, false},
		{"timestamp not a time", strings.Replace(canonBody, `"2026-11-27T01:02:03Z"`, `"yesterday"`, 1), false, false},
		{"seq as float", strings.Replace(canonBody, `"seq":7`, `"seq":7.0`, 1), false, false},
		{"seq negative", strings.Replace(canonBody, `"seq":7`, `"seq":-7`, 1), false, false},
		{"seq overflows", strings.Replace(canonBody, `"seq":7`, `"seq":18446744073709551616`, 1), false, false},
		{"seq leading zero", strings.Replace(canonBody, `"seq":7`, `"seq":07`, 1), false, false},
		{"schema_version overflows", strings.Replace(canonBody, `"schema_version":1`, `"schema_version":9223372036854775808`, 1), false, false},
		{"float out of range", strings.Replace(canonBody, `{"karma_source":"live"}`, `{"karma_score":1e400}`, 1), false, false},
		{"invalid escape", strings.Replace(canonBody, `"op"`, `"\'"`, 1), false, false},
		{"raw control character", strings.Replace(canonBody, `"op"`, "\"o\np\"", 1), false, false},
		{"payload invalid", strings.Replace(canonBody, `{"a":1}`, `{"a":01}`, 1), false, false},
		{"payload truncated", strings.Replace(canonBody, `{"a":1}`, `{"a":`, 1), false, false},
		{"string where number", strings.Replace(canonBody, `"seq":7`, `"seq":"7"`, 1), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := sealed(tc.body)
			var fast Envelope
			if took := decodeCanonical(line, &fast); took != tc.fast {
				t.Fatalf("fast path taken = %v, want %v: %s", took, tc.fast, line)
			}
			got, err := Decode(line)
			want, wantErr := decodeStdlib(line)
			if (err == nil) != tc.ok || (wantErr == nil) != tc.ok {
				t.Fatalf("Decode err = %v, stdlib err = %v; want ok=%v", err, wantErr, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) || err.Error() != wantErr.Error() {
					t.Fatalf("Decode err = %v; stdlib err = %v", err, wantErr)
				}
				return
			}
			if !sameEnvelope(got, want) {
				t.Fatalf("Decode = %+v; stdlib = %+v", got, want)
			}
		})
	}
}

// spliceSlots are the value positions of a canonical line that
// FuzzDecodeMatchesStdlib fills with fuzzed bytes.
var spliceSlots = []string{"seq", "event_id", "event_type", "timestamp", "actor_id", "correlation_id",
	"causation_id", "schema_version", "idempotency_key", "tx", "payload", "metadata",
	"karma_score", "anomaly_detected", "anomaly_reason"}

// spliced returns a canonical body whose value at spliceSlots[slot] is raw.
func spliced(slot uint8, raw string) []byte {
	name := spliceSlots[int(slot)%len(spliceSlots)]
	v := func(field, def string) string {
		if field == name {
			return raw
		}
		return def
	}
	meta := `{"karma_source":"live","karma_score":` + v("karma_score", "0.5") +
		`,"anomaly_detected":` + v("anomaly_detected", "true") +
		`,"anomaly_reason":` + v("anomaly_reason", `"r"`) + `}`
	tx := ""
	if name == "tx" {
		tx = `,"tx":` + raw
	}
	return []byte(`{"seq":` + v("seq", "7") + `,"event_id":` + v("event_id", `"e-7"`) +
		`,"event_type":` + v("event_type", `"credit.consumed"`) + `,"timestamp":` + v("timestamp", `"2026-11-27T01:02:03Z"`) +
		`,"actor_id":` + v("actor_id", `"op"`) + `,"correlation_id":` + v("correlation_id", `"corr"`) +
		`,"causation_id":` + v("causation_id", "null") + `,"schema_version":` + v("schema_version", "1") +
		`,"idempotency_key":` + v("idempotency_key", `"k1"`) + tx + `,"payload":` + v("payload", `{"a":1}`) +
		`,"metadata":` + v("metadata", meta) + `}`)
}

// FuzzDecodeMatchesStdlib checks that the fast path never accepts a line
// encoding/json would decode differently or reject. The line input is tried
// as is and, when it looks like an object, re-sealed with a valid checksum
// so mutated lines get past Verify. Because coverage guidance drifts toward
// encoding/json's own branches, raw is also spliced into one value slot of
// a canonical line, which keeps the fast path's value parsers under fuzz.
func FuzzDecodeMatchesStdlib(f *testing.F) {
	for _, e := range corpusEnvelopes(f) {
		line, err := Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line, uint8(0), "7")
		body, _ := json.Marshal(e)
		f.Add(body, uint8(1), `"e"`)
	}
	for slot := range spliceSlots {
		for _, raw := range []string{`"a\"b\\c\/"`, `"\u2028\u00e9\ud83d\ude00"`, "\"\xff\"", `"é日本"`, `-0`,
			`18446744073709551615`, `1.5e-7`, `1e400`, `null`, `true`, `{"a":[1,{"b":"c"}]}`,
			`"2026-11-27T01:02:03.123456789+05:30"`, `{}`} {
			f.Add([]byte(canonBody), uint8(slot), raw)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, slot uint8, raw string) {
		check := func(line []byte) {
			var want Envelope
			stdErr := json.Unmarshal(line, &want)
			var fast Envelope
			if decodeCanonical(line, &fast) {
				if stdErr != nil {
					t.Fatalf("fast path accepted a line encoding/json rejects (%v): %q", stdErr, line)
				}
				if !sameEnvelope(fast, want) {
					t.Fatalf("fast path differs from encoding/json for %q\nfast: %+v\nwant: %+v", line, fast, want)
				}
			}
			got, err := Decode(line)
			ref, refErr := decodeStdlib(line)
			if (err == nil) != (refErr == nil) || (err != nil && err.Error() != refErr.Error()) {
				t.Fatalf("Decode err = %v; stdlib err = %v for %q", err, refErr, line)
			}
			if err == nil && !sameEnvelope(got, ref) {
				t.Fatalf("Decode differs from stdlib for %q\ngot:  %+v\nwant: %+v", line, got, ref)
			}
		}
		check(in)
		body := bytes.TrimSuffix(in, []byte{'\n'})
		// Strip a checksum member (valid or not) and seal again.
		if len(body) >= crcSuffixLen+2 && bytes.Equal(body[len(body)-crcSuffixLen:len(body)-10], crcField) {
			body = append(body[:len(body)-crcSuffixLen:len(body)-crcSuffixLen], '}')
		}
		if len(body) > 1 && body[len(body)-1] == '}' {
			check(seal(body))
		}
		check(seal(spliced(slot, raw)))
	})
}

// BenchmarkDecode compares the canonical fast path with encoding/json on the
// same lines (credit.consumed as in the journal's replay benchmark, and one
// with metadata, causation and escapes).
func BenchmarkDecode(b *testing.B) {
	c := "cause-1"
	plain := &Envelope{
		Seq: 123456, EventID: "9e3779b1-7d1e-4c2b-9a51-00000001e240", EventType: CreditConsumed,
		Timestamp: time.Date(2026, 11, 27, 1, 2, 3, 456000000, time.UTC), ActorID: "agent-17",
		CorrelationID: "c-123456", SchemaVersion: SchemaVersion, IdempotencyKey: "k-123456",
		Payload: json.RawMessage(`{"agent_id":"agent-17","amount_milli":1503,"balance_after_milli":876544,"reason":"llm"}`),
	}
	rich := *plain
	rich.CausationID = &c
	rich.TxSize = 2
	rich.ActorID = `op "quoted" \u2028 é`
	rich.Metadata = &Metadata{RequestHash: "sha256:ab12cd", KarmaSource: "live", KarmaScore: ptr(0.8125),
		AnomalyDetected: true, AnomalyScore: ptr(0.97), AnomalyReason: "spike"}
	for _, tc := range []struct {
		name string
		e    *Envelope
	}{{"plain", plain}, {"rich", &rich}} {
		line, err := Encode(tc.e)
		if err != nil {
			b.Fatal(err)
		}
		for _, impl := range []struct {
			name   string
			decode func([]byte) (Envelope, error)
		}{{"fast", Decode}, {"stdlib", decodeStdlib}} {
			b.Run(tc.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(line)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.decode(line); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestSplicedFuzzTemplateIsCanonical(t *testing.T) {
	var e Envelope
	if !decodeCanonical(seal(spliced(0, "7")), &e) || e.Seq != 7 || e.Metadata == nil || *e.Metadata.KarmaScore != 0.5 {
		t.Fatalf("spliced template does not take the fast path: %s (%+v)", spliced(0, "7"), e)
	}
}
