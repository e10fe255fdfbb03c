package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcField is appended as the last member of every line.
var crcField = []byte(`,"crc":"`)

// crcSuffixLen is len(`,"crc":"xxxxxxxx"}`).
const crcSuffixLen = 8 + 8 + 2

// Errors returned by Decode.
var (
	ErrChecksum  = errors.New("event: checksum mismatch")
	ErrNoCRC     = errors.New("event: line has no checksum")
	ErrMalformed = errors.New("event: malformed line")
)

// Encode renders e as one journal line: canonical JSON of the envelope, with
// a trailing "crc" member holding the CRC32-C (hex) of the line's bytes as
// if that member were absent. The result ends in '\n'.
func Encode(e *Envelope) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("event: encode %s: %w", e.EventType, err)
	}
	return seal(b), nil
}

// seal appends the checksum member to a marshalled object b (ending in '}').
func seal(b []byte) []byte {
	sum := crc32.Checksum(b, castagnoli)
	out := make([]byte, 0, len(b)+crcSuffixLen+1)
	out = append(out, b[:len(b)-1]...)
	out = append(out, crcField...)
	out = fmt.Appendf(out, "%08x", sum)
	out = append(out, '"', '}', '\n')
	return out
}

// Verify checks a line's checksum without parsing it. A trailing '\n' is
// allowed.
func Verify(line []byte) error {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) < crcSuffixLen+2 || !bytes.Equal(line[len(line)-crcSuffixLen:len(line)-10], crcField) ||
		line[len(line)-2] != '"' || line[len(line)-1] != '}' {
		return ErrNoCRC
	}
	want, ok := parseHex32(line[len(line)-10 : len(line)-2])
	if !ok {
		return ErrNoCRC
	}
	body := line[:len(line)-crcSuffixLen]
	// The checksum covers the object as if the crc member were absent: the
	// body, then its closing brace (the line's last byte, checked above).
	sum := crc32.Update(crc32.Checksum(body, castagnoli), castagnoli, line[len(line)-1:])
	if want != sum {
		return ErrChecksum
	}
	return nil
}

// Decode verifies the line's checksum and parses it. Lines in Encode's
// canonical layout take a hand-rolled path (decodeCanonical); any other
// valid JSON line is parsed by encoding/json, with the same result.
func Decode(line []byte) (Envelope, error) {
	var e Envelope
	if err := Verify(line); err != nil {
		return e, err
	}
	if decodeCanonical(line, &e) {
		return e, nil
	}
	return decodeJSON(line)
}

// decodeJSON parses a verified line with encoding/json. It is separate from
// Decode so that Decode's envelope does not escape to the heap.
func decodeJSON(line []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return e, nil
}

// parseHex32 parses exactly 8 lowercase hex digits, the only form Encode writes.
func parseHex32(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, len(b) == 8
}
