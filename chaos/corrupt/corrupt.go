// Package corrupt owns the journal corruptors the harness applies to a
// stopped target's journal file: a table of media faults (torn tail, a last
// line without its newline, garbage line, bit flip, mid-file truncation,
// duplicated line, a money digit changed in a line that still parses),
// each describing
// what it destroyed so a gate can assert what recovery must keep and report.
//
// It works on bytes only; it must not import engine/ (the gates run against
// any backend) — the line format it relies on is JSONL with a "seq" field.
package corrupt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
)

// Expect is how recovery must classify the damage.
type Expect string

const (
	ExpectTorn       Expect = "torn"       // cut into a sidecar, nothing acknowledged lost
	ExpectQuarantine Expect = "quarantine" // bad line(s) moved aside and reported
	ExpectGap        Expect = "gap"        // lines physically destroyed: reported as a seq gap
)

// Damage describes one applied corruption.
type Damage struct {
	Name   string
	Expect Expect
	// Line is the 1-based line number (in the corrupted file) of the damage.
	Line int
	// DestroyedSeqs are events whose bytes no longer exist intact in the
	// file: recovery may lose exactly these and must report them.
	DestroyedSeqs []uint64
	// TornSeq is the seq of a torn last line (0 if none).
	TornSeq uint64
	// EntityKind and EntityID name the entity whose first line the damage
	// hit (FirstLine corruptors only): recovery must report it lost and
	// leave out, and report, the events that depend on it.
	EntityKind, EntityID string
}

// Corruptor damages a journal's bytes.
type Corruptor struct {
	Name  string
	Apply func(lines [][]byte, rng *rand.Rand) ([][]byte, Damage)
}

// Table is every corruptor, in a fixed order.
var Table = []Corruptor{
	{"torn tail", tornTail},
	{"last line without its newline", newlineLost},
	{"last line failing its checksum", tornChecksum},
	{"two garbage lines", garbageLines},
	{"bit flip", bitFlip},
	{"mid-file truncation", midTruncation},
	{"duplicated line", duplicatedLine},
	{"money digit changed, the line still parses", moneyDigit},
}

// TornTails are the corruptors of Table whose damage is a torn tail (the
// last line only, SPEC §3): cut under every recovery policy.
var TornTails = Table[:3]

// ApplyFile reads path, applies c with rng and writes the result back.
// The file needs at least 10 lines.
func ApplyFile(path string, c Corruptor, rng *rand.Rand) (Damage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Damage{}, err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) < 10 {
		return Damage{}, fmt.Errorf("corrupt: %s has %d lines; need at least 10", path, len(lines))
	}
	out, d := c.Apply(lines, rng)
	d.Name = c.Name
	st, err := os.Stat(path)
	if err != nil {
		return d, err
	}
	return d, os.WriteFile(path, bytes.Join(out, nil), st.Mode())
}

// Seq reads the seq field of a line (0 if it has none).
func Seq(line []byte) uint64 {
	var v struct {
		Seq uint64 `json:"seq"`
	}
	_ = json.Unmarshal(line, &v)
	return v.Seq
}

// middle picks a line index away from both ends.
func middle(n int, rng *rand.Rand) int { return n/4 + rng.IntN(n/2) }

func tornTail(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	last := len(lines) - 1
	l := lines[last]
	cut := 1 + rng.IntN(len(l)-2) // keep a prefix, drop the newline
	d := Damage{Expect: ExpectTorn, Line: last + 1, TornSeq: Seq(l), DestroyedSeqs: []uint64{Seq(l)}}
	out := append(clone(lines[:last]), l[:cut])
	return out, d
}

// newlineLost drops only the last line's newline: every byte of the event
// is there and its checksum holds, but the line is not terminated, so an
// append that does not first cut it (or end it) is glued onto it and lost
// with it at the next start. SPEC §3: a last line that is incomplete is a
// torn tail.
func newlineLost(lines [][]byte, _ *rand.Rand) ([][]byte, Damage) {
	last := len(lines) - 1
	l := lines[last]
	out := append(clone(lines[:last]), bytes.TrimSuffix(l, []byte("\n")))
	return out, Damage{Expect: ExpectTorn, Line: last + 1, TornSeq: Seq(l), DestroyedSeqs: []uint64{Seq(l)}}
}

// tornChecksum flips one bit in the payload of the last line and keeps its
// newline: a complete line failing its checksum. SPEC §3 counts it a torn
// tail (an unacknowledged write), not mid-file corruption.
func tornChecksum(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	last := len(lines) - 1
	out := clone(lines)
	out[last] = flipPayloadBit(lines[last], rng)
	return out, Damage{Expect: ExpectTorn, Line: last + 1, TornSeq: Seq(lines[last]), DestroyedSeqs: []uint64{Seq(lines[last])}}
}

// garbageLines inserts two lines that are not JSON a few lines apart in
// the middle (Line names the first): a recovery quarantines both, and its
// counters and report count two (a count of damage kinds shows as one).
func garbageLines(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	i := middle(len(lines), rng)
	j := i + 1 + rng.IntN(3)
	garbage := []byte("\x00\x17 not json {{{ garbage\n")
	out := clone(lines[:i])
	out = append(out, garbage)
	out = append(out, lines[i:j]...)
	out = append(out, garbage)
	out = append(out, lines[j:]...)
	return out, Damage{Expect: ExpectQuarantine, Line: i + 1}
}

func bitFlip(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	i := middle(len(lines), rng)
	out := clone(lines)
	out[i] = flipPayloadBit(lines[i], rng)
	return out, Damage{Expect: ExpectQuarantine, Line: i + 1, DestroyedSeqs: []uint64{Seq(lines[i])}}
}

// flipPayloadBit returns a copy of line with one bit flipped inside its
// payload, where it could change money, never making a line break.
func flipPayloadBit(line []byte, rng *rand.Rand) []byte {
	l := append([]byte(nil), line...)
	at := bytes.Index(l, []byte(`"payload"`))
	if at < 0 {
		at = 1
	}
	pos := at + rng.IntN(len(l)-at-2)
	l[pos] ^= 1 << rng.IntN(7)
	if l[pos] == '\n' {
		l[pos] ^= 0x40
	}
	return l
}

// moneyDigit changes one digit of an amount in a line from the middle on
// that holds one, so the line is still valid JSON and only its checksum
// tells (SPEC §3: "a flipped bit is detected, not parsed into wrong
// money"). A backend that parses what it cannot verify replays wrong
// money; a random bit flip mostly breaks the JSON and never shows that.
func moneyDigit(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	from := middle(len(lines), rng)
	for k := range lines {
		i := (from + k) % len(lines)
		if i == len(lines)-1 {
			continue // the last line would be a torn tail
		}
		if l, ok := changeAmountDigit(lines[i], rng); ok {
			out := clone(lines)
			out[i] = l
			return out, Damage{Expect: ExpectQuarantine, Line: i + 1, DestroyedSeqs: []uint64{Seq(lines[i])}}
		}
	}
	return bitFlip(lines, rng) // no amount anywhere: a journal of another schema
}

// amountValue finds the value of a member whose name starts with "amount"
// (amount, amount_milli): a number or a string holding one.
var amountValue = regexp.MustCompile(`"amount[a-z_]*"\s*:\s*"?(-?[0-9][0-9.]*)`)

// changeAmountDigit returns line with one digit of an amount changed to
// another (a leading digit never to 0), false if the line holds no amount
// or the change would not parse.
func changeAmountDigit(line []byte, rng *rand.Rand) ([]byte, bool) {
	m := amountValue.FindSubmatchIndex(line)
	if m == nil {
		return nil, false
	}
	var digits []int
	for p := m[2]; p < m[3]; p++ {
		if line[p] >= '0' && line[p] <= '9' {
			digits = append(digits, p)
		}
	}
	if len(digits) == 0 {
		return nil, false
	}
	out := append([]byte(nil), line...)
	p := digits[rng.IntN(len(digits))]
	var others []byte
	for c := byte('0'); c <= '9'; c++ {
		if c != out[p] && !(p == digits[0] && c == '0') {
			others = append(others, c)
		}
	}
	out[p] = others[rng.IntN(len(others))]
	if !json.Valid(bytes.TrimRight(out, "\n")) {
		return nil, false
	}
	return out, true
}

func midTruncation(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	i := middle(len(lines), rng)
	n := 1 + rng.IntN(3)
	d := Damage{Expect: ExpectGap, Line: i + 1}
	for _, l := range lines[i : i+n] {
		d.DestroyedSeqs = append(d.DestroyedSeqs, Seq(l))
	}
	out := clone(lines[:i])
	out = append(out, lines[i+n:]...)
	return out, d
}

func duplicatedLine(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
	i := middle(len(lines), rng)
	out := clone(lines[:i+1])
	out = append(out, lines[i])
	out = append(out, lines[i+1:]...)
	return out, Damage{Expect: ExpectQuarantine, Line: i + 2}
}

// FirstLine returns a corruptor that flips one bit in the first line of an
// entity — the line whose event_type is eventType and whose payload field
// holds id (agent registration, approval request, pool creation, mission
// start) — instead of a random line. Every later event about the entity
// then depends on a line recovery must quarantine. The flipped byte is in
// the event_id, so the line still names the entity and recovery can say
// which line the dependents lost. If no line matches, the damage has Line 0.
func FirstLine(kind, eventType, field, id string) Corruptor {
	return Corruptor{
		Name: fmt.Sprintf("first line of %s (%s)", kind, eventType),
		Apply: func(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
			d := Damage{Expect: ExpectQuarantine, EntityKind: kind, EntityID: id}
			for i, l := range lines {
				var v struct {
					EventType string                     `json:"event_type"`
					Payload   map[string]json.RawMessage `json:"payload"`
				}
				if json.Unmarshal(l, &v) != nil || v.EventType != eventType {
					continue
				}
				var got string
				if json.Unmarshal(v.Payload[field], &got) != nil || got != id {
					continue
				}
				out := clone(lines)
				out[i] = flipIn(l, []byte(`"event_id":"`), rng)
				d.Line, d.DestroyedSeqs = i+1, []uint64{Seq(l)}
				return out, d
			}
			return lines, d
		},
	}
}

// AmountOf returns a corruptor that changes one digit of the amount of
// the first consume of agent (a line whose event_type names a consume and
// whose payload's agent_id is agent), not the last line: the line still
// parses, only its checksum fails, and the money it would replay is known
// to the gate (what it consumed, or nothing). Line 0 if no line matches.
func AmountOf(agent string) Corruptor {
	return Corruptor{
		Name: "a money digit of one consume, the line still parses",
		Apply: func(lines [][]byte, rng *rand.Rand) ([][]byte, Damage) {
			d := Damage{Expect: ExpectQuarantine}
			for i, l := range lines[:max(len(lines)-1, 0)] {
				var v struct {
					EventType string `json:"event_type"`
					Payload   struct {
						AgentID string `json:"agent_id"`
					} `json:"payload"`
				}
				if json.Unmarshal(l, &v) != nil || v.Payload.AgentID != agent || !bytes.Contains([]byte(v.EventType), []byte("consum")) {
					continue
				}
				if changed, ok := changeAmountDigit(l, rng); ok {
					out := clone(lines)
					out[i] = changed
					d.Line, d.DestroyedSeqs = i+1, []uint64{Seq(l)}
					return out, d
				}
			}
			return lines, d
		},
	}
}

// flipIn flips one low bit of a byte of the value after marker: a hex or
// dash character stays printable and never becomes a quote or newline.
func flipIn(l, marker []byte, rng *rand.Rand) []byte {
	out := append([]byte(nil), l...)
	at := bytes.Index(out, marker)
	if at < 0 {
		at = 0
	} else {
		at += len(marker)
	}
	out[at+rng.IntN(8)] ^= 1
	return out
}

func clone(lines [][]byte) [][]byte { return append([][]byte(nil), lines...) }
