package specbackend

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// SchemaVersion is written into every event envelope.
const SchemaVersion = 1

// Event is one journal line. Field order is fixed: the line starts with {"seq":N, so
// readers can find a line's seq without parsing it, and ends with the checksum field.
type Event struct {
	Seq            int64           `json:"seq"`
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	Timestamp      string          `json:"timestamp"`
	ActorID        string          `json:"actor_id"`
	CorrelationID  string          `json:"correlation_id"`
	CausationID    *string         `json:"causation_id"`
	Payload        json.RawMessage `json:"payload"`
	SchemaVersion  int             `json:"schema_version"`
	IdempotencyKey string          `json:"idempotency_key"`
	Metadata       Meta            `json:"metadata"`
}

// Meta is the event's metadata object. Command, RequestHash and EventsInCommand are set
// on the first event of a client command so keyed retries can be answered after restarts.
type Meta struct {
	Command         string   `json:"command,omitempty"`
	RequestHash     string   `json:"request_hash,omitempty"`
	EventsInCommand int      `json:"events_in_command,omitempty"`
	KarmaSource     string   `json:"karma_source,omitempty"`
	KarmaScore      *float64 `json:"karma_score,omitempty"`
	AnomalyDetected *bool    `json:"anomaly_detected,omitempty"`
	AnomalyScore    *float64 `json:"anomaly_score,omitempty"`
	AnomalyReason   string   `json:"anomaly_reason,omitempty"`
	AnomalyDetector string   `json:"anomaly_detector,omitempty"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// checksumSuffix is followed by 8 lowercase hex digits and `"}`.
const checksumSuffix = `,"checksum":"crc32c:`
const checksumTailLen = len(checksumSuffix) + 8 + 2

// encodeLine renders an event as one journal line (with trailing newline). The checksum
// is CRC32-C over the canonical bytes: the line without its checksum field, i.e. the
// JSON object of every other field exactly as written.
func encodeLine(ev *Event) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	sum := crc32.Checksum(body, crcTable)
	line := make([]byte, 0, len(body)+checksumTailLen+1)
	line = append(line, body[:len(body)-1]...)
	line = append(line, checksumSuffix...)
	line = fmt.Appendf(line, "%08x\"}\n", sum)
	return line, nil
}

var (
	errNoChecksum  = errors.New("missing checksum field")
	errBadChecksum = errors.New("checksum mismatch")
)

// decodeLine verifies and parses one journal line (without its newline).
func decodeLine(line []byte) (*Event, error) {
	if len(line) < checksumTailLen+2 || !bytes.HasPrefix(line[len(line)-checksumTailLen:], []byte(checksumSuffix)) ||
		!bytes.HasSuffix(line, []byte(`"}`)) {
		if !json.Valid(line) {
			return nil, errors.New("invalid JSON")
		}
		return nil, errNoChecksum
	}
	hexSum := line[len(line)-10 : len(line)-2]
	want, err := strconv.ParseUint(string(hexSum), 16, 32)
	if err != nil {
		return nil, errNoChecksum
	}
	body := make([]byte, 0, len(line)-checksumTailLen+1)
	body = append(body, line[:len(line)-checksumTailLen]...)
	body = append(body, '}')
	if crc32.Checksum(body, crcTable) != uint32(want) {
		if !json.Valid(line) {
			return nil, errors.New("invalid JSON")
		}
		return nil, errBadChecksum
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if ev.Seq < 1 || ev.EventID == "" || ev.EventType == "" || ev.SchemaVersion < 1 {
		return nil, errors.New("envelope incomplete")
	}
	return &ev, nil
}

// lineSeq reads the seq of a line written by encodeLine without parsing all of it.
func lineSeq(line []byte) (int64, bool) {
	const p = `{"seq":`
	if !bytes.HasPrefix(line, []byte(p)) {
		return 0, false
	}
	rest := line[len(p):]
	i := bytes.IndexByte(rest, ',')
	if i <= 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	return n, err == nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("specbackend: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func strPtr(s string) *string { return &s }
