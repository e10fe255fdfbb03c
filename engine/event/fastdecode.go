package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// decodeCanonical parses a line in exactly the layout Encode writes:
// envelope members in struct order, no whitespace, json.Marshal's string
// escapes, optional "tx" and "metadata", and the trailing "crc" member. It
// reports false, leaving e untouched, whenever the line deviates in any way;
// Decode then falls back to json.Unmarshal. When it reports true, e equals
// what json.Unmarshal would have produced from the same bytes.
//
// Replay decodes a million lines; json.Unmarshal's reflection and per-field
// allocations dominated it. This is one pass; it allocates only the result:
// one per non-empty string, the payload copy, and one per pointer field.
func decodeCanonical(line []byte, e *Envelope) bool {
	d := canonDecoder{b: bytes.TrimSuffix(line, []byte{'\n'})}
	var out Envelope
	var eventID, eventType, actorID, correlationID, causationID, idemKey strSpan
	var ok bool

	if !d.lit(`{"seq":`) {
		return false
	}
	if out.Seq, ok = d.uint64(); !ok || !d.lit(`,"event_id":`) {
		return false
	}
	if eventID, ok = d.str(); !ok || !d.lit(`,"event_type":`) {
		return false
	}
	if eventType, ok = d.str(); !ok || !d.lit(`,"timestamp":`) {
		return false
	}
	// json hands time.Time the raw quoted token, escapes and all.
	start := d.i
	if _, ok = d.str(); !ok || out.Timestamp.UnmarshalJSON(d.b[start:d.i]) != nil {
		return false
	}
	if !d.lit(`,"actor_id":`) {
		return false
	}
	if actorID, ok = d.str(); !ok || !d.lit(`,"correlation_id":`) {
		return false
	}
	if correlationID, ok = d.str(); !ok || !d.lit(`,"causation_id":`) {
		return false
	}
	hasCausation := !d.lit(`null`)
	if hasCausation {
		if causationID, ok = d.str(); !ok {
			return false
		}
	}
	if !d.lit(`,"schema_version":`) {
		return false
	}
	if out.SchemaVersion, ok = d.int(); !ok || !d.lit(`,"idempotency_key":`) {
		return false
	}
	if idemKey, ok = d.str(); !ok {
		return false
	}
	if d.lit(`,"tx":`) {
		if out.TxSize, ok = d.int(); !ok {
			return false
		}
	}
	if !d.lit(`,"payload":`) {
		return false
	}
	payloadStart := d.i
	if !d.skipValue(0) {
		return false
	}
	payload := d.b[payloadStart:d.i]

	var meta *Metadata
	var ms metaSpans
	if d.lit(`,"metadata":`) {
		if meta, ok = d.metadata(&ms); !ok {
			return false
		}
	}
	if !d.crcTail() {
		return false
	}

	// Every check passed: now allocate. Each string is its own allocation
	// rather than a view of one shared block, so a projection that keeps
	// one field (an event id, a key) does not pin the others.
	out.EventID = d.take(eventID)
	out.EventType = d.take(eventType)
	out.ActorID = d.take(actorID)
	out.CorrelationID = d.take(correlationID)
	if hasCausation {
		s := d.take(causationID)
		out.CausationID = &s
	}
	out.IdempotencyKey = d.take(idemKey)
	out.Payload = json.RawMessage(append([]byte(nil), payload...))
	if meta != nil {
		meta.RequestHash = d.take(ms.requestHash)
		meta.KarmaSource = d.take(ms.karmaSource)
		meta.AnomalyReason = d.take(ms.anomalyReason)
		meta.AnomalyDetector = d.take(ms.anomalyDetector)
		out.Metadata = meta
	}
	*e = out
	return true
}

// strSpan is a validated JSON string token: the bytes between its quotes
// and its length once unescaped (checked again when unescaping).
type strSpan struct {
	start, end int
	n          int
	escaped    bool
}

type metaSpans struct {
	requestHash, karmaSource, anomalyReason, anomalyDetector strSpan
}

type canonDecoder struct {
	b []byte
	i int
}

// take returns the string a span decodes to.
func (d *canonDecoder) take(s strSpan) string {
	raw := d.b[s.start:s.end]
	if !s.escaped {
		return string(raw)
	}
	var tmp [128]byte
	out := appendUnescaped(tmp[:0], raw)
	if len(out) != s.n {
		panic("event: unescaped length disagrees with scan")
	}
	return string(out)
}

// lit consumes s if the input continues with it.
func (d *canonDecoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// uint64 reads 0 or [1-9][0-9]*, failing on overflow as strconv.ParseUint
// does.
func (d *canonDecoder) uint64() (uint64, bool) {
	b, i := d.b, d.i
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return 0, false
	}
	if b[i] == '0' {
		d.i = i + 1
		return 0, true
	}
	var v uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		c := uint64(b[i] - '0')
		if v > (math.MaxUint64-c)/10 {
			return 0, false
		}
		v = v*10 + c
	}
	d.i = i
	return v, true
}

// int reads -?(0|[1-9][0-9]*), failing on overflow of int as encoding/json does.
func (d *canonDecoder) int() (int, bool) {
	neg := d.i < len(d.b) && d.b[d.i] == '-'
	if neg {
		d.i++
	}
	v, ok := d.uint64()
	switch {
	case !ok:
		return 0, false
	case neg && v <= -math.MinInt:
		return int(-v), true
	case !neg && v <= math.MaxInt:
		return int(v), true
	}
	return 0, false
}

// str validates a JSON string token the way encoding/json decodes it into a
// string, accepting only what it can reproduce exactly: no surrogate \u
// escapes (json.Marshal writes those runes as UTF-8) and no invalid UTF-8
// (which json would replace with U+FFFD).
func (d *canonDecoder) str() (strSpan, bool) {
	b, i := d.b, d.i
	if i >= len(b) || b[i] != '"' {
		return strSpan{}, false
	}
	i++
	s := strSpan{start: i}
	for i < len(b) {
		// Most bytes are printable ASCII needing no escape.
		j := i
		for j < len(b) && plainASCII[b[j]] {
			j++
		}
		s.n += j - i
		if i = j; i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.end = i
			d.i = i + 1
			return s, true
		case c == '\\':
			if i+1 >= len(b) {
				return strSpan{}, false
			}
			s.escaped = true
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.n++
				i += 2
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok || (r >= 0xD800 && r <= 0xDFFF) {
					return strSpan{}, false
				}
				s.n += utf8.RuneLen(r)
				i += 6
			default:
				return strSpan{}, false
			}
		case c < 0x20:
			return strSpan{}, false
		case c < utf8.RuneSelf:
			s.n++
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return strSpan{}, false
			}
			s.n += size
			i += size
		}
	}
	return strSpan{}, false
}

// plainASCII marks the bytes a JSON string holds as themselves: printable
// ASCII other than '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hex4 parses the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped decodes the body of a string token already validated by
// str.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(s[i+2:])
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// maxPayloadDepth bounds recursion in skipValue; deeper payloads fall back.
const maxPayloadDepth = 32

// skipValue consumes one compact JSON value (no insignificant whitespace),
// accepting exactly what encoding/json's validity scanner accepts there.
func (d *canonDecoder) skipValue(depth int) bool {
	if d.i >= len(d.b) || depth > maxPayloadDepth {
		return false
	}
	switch d.b[d.i] {
	case '{':
		d.i++
		if d.lit(`}`) {
			return true
		}
		for {
			if !d.skipString() || !d.lit(`:`) || !d.skipValue(depth+1) {
				return false
			}
			if d.lit(`}`) {
				return true
			}
			if !d.lit(`,`) {
				return false
			}
		}
	case '[':
		d.i++
		if d.lit(`]`) {
			return true
		}
		for {
			if !d.skipValue(depth + 1) {
				return false
			}
			if d.lit(`]`) {
				return true
			}
			if !d.lit(`,`) {
				return false
			}
		}
	case '"':
		return d.skipString()
	case 't':
		return d.lit(`true`)
	case 'f':
		return d.lit(`false`)
	case 'n':
		return d.lit(`null`)
	}
	return d.number()
}

// skipString consumes a string token inside the payload, which is kept raw:
// any byte from 0x20 up is allowed, as in encoding/json's scanner.
func (d *canonDecoder) skipString() bool {
	b, i := d.b, d.i
	if i >= len(b) || b[i] != '"' {
		return false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return false
				}
				i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		}
	}
	return false
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (d *canonDecoder) number() bool {
	b, i := d.b, d.i
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	d.i = i
	return true
}

// float64 reads a JSON number and converts it as encoding/json does.
func (d *canonDecoder) float64() (*float64, bool) {
	start := d.i
	if !d.number() {
		return nil, false
	}
	tok := d.b[start:d.i]
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64)
	if err != nil {
		return nil, false
	}
	return &f, true
}

// metadata reads the metadata object: omitempty members in struct order.
// Strings are returned as spans and filled in by the caller.
func (d *canonDecoder) metadata(ms *metaSpans) (*Metadata, bool) {
	if !d.lit(`{`) {
		return nil, false
	}
	m := &Metadata{}
	var ok bool
	first := true
	// key consumes the member name k (with its colon), preceded by a comma
	// unless it is the first member.
	key := func(k string) bool {
		at := d.i
		if !first {
			if at >= len(d.b) || d.b[at] != ',' {
				return false
			}
			at++
		}
		if len(d.b)-at < len(k) || string(d.b[at:at+len(k)]) != k {
			return false
		}
		d.i = at + len(k)
		first = false
		return true
	}
	if key(`"request_hash":`) {
		if ms.requestHash, ok = d.str(); !ok {
			return nil, false
		}
	}
	if key(`"karma_source":`) {
		if ms.karmaSource, ok = d.str(); !ok {
			return nil, false
		}
	}
	if key(`"karma_score":`) {
		if m.KarmaScore, ok = d.float64(); !ok {
			return nil, false
		}
	}
	if key(`"anomaly_detected":`) {
		switch {
		case d.lit(`true`):
			m.AnomalyDetected = true
		case d.lit(`false`):
		default:
			return nil, false
		}
	}
	if key(`"anomaly_score":`) {
		if m.AnomalyScore, ok = d.float64(); !ok {
			return nil, false
		}
	}
	if key(`"anomaly_reason":`) {
		if ms.anomalyReason, ok = d.str(); !ok {
			return nil, false
		}
	}
	if key(`"anomaly_detector":`) {
		if ms.anomalyDetector, ok = d.str(); !ok {
			return nil, false
		}
	}
	if !d.lit(`}`) {
		return nil, false
	}
	return m, true
}

// crcTail consumes the trailing `,"crc":"xxxxxxxx"}` and requires the end of
// the line after it.
func (d *canonDecoder) crcTail() bool {
	if !d.lit(`,"crc":"`) || len(d.b)-d.i != 10 {
		return false
	}
	if _, ok := parseHex32(d.b[d.i : d.i+8]); !ok {
		return false
	}
	d.i += 8
	return d.lit(`"}`)
}
