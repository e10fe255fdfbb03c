package audit

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"strconv"
)

// A ChecksumRule is how a backend seals its journal lines. SPEC §3 asks for
// "a checksum per line (e.g. CRC32-C of the line's canonical bytes, kept as
// a JSON field)" and fixes neither the member, nor its place, nor the
// encoding, so a reader that knew only ours would call every line of
// another conforming backend corrupt, and every acknowledged write lost.
// The rule is recognized from the journal itself (detectChecksum): ours (a
// trailing "crc" member of 8 lower-case hex digits, CRC32-C over the line
// without it) or the same idea under another common member name, first or
// last in the object, its hex digits optionally after a "name:" prefix,
// CRC32-C or IEEE, over the line without that member. A journal none of
// whose lines matches a rule is read unverified: its lines still parse, and
// A1 says the checksum could not be verified instead of passing it.
type ChecksumRule struct {
	Member string // the JSON member holding it
	Last   bool   // the object's last member (else its first)
	IEEE   bool   // CRC32 IEEE instead of CRC32-C (Castagnoli)
	ours   bool
}

// OurChecksum is the rule our engine writes (Seal, VerifyChecksum).
var OurChecksum = &ChecksumRule{Member: "crc", Last: true, ours: true}

func (r *ChecksumRule) String() string {
	if r == nil {
		return "no checksum convention recognized"
	}
	if r.ours {
		return `CRC32-C over the line without its trailing "crc" member`
	}
	alg, pos := "CRC32-C", "first"
	if r.IEEE {
		alg = "CRC32 (IEEE)"
	}
	if r.Last {
		pos = "last"
	}
	return fmt.Sprintf("%s over the line without its %s member %q", alg, pos, r.Member)
}

// checksumMembers are the member names a backend's checksum is looked for
// under.
var checksumMembers = []string{"crc", "checksum", "crc32c", "crc32", "hash", "sum"}

// candidateRules are every rule detectChecksum tries, ours first.
func candidateRules() []*ChecksumRule {
	out := []*ChecksumRule{OurChecksum}
	for _, m := range checksumMembers {
		for _, last := range []bool{true, false} {
			for _, ieee := range []bool{false, true} {
				out = append(out, &ChecksumRule{Member: m, Last: last, IEEE: ieee})
			}
		}
	}
	return out
}

// Verify checks one line (without '\n') against the rule.
func (r *ChecksumRule) Verify(line []byte) error {
	if r.ours {
		return VerifyChecksum(line)
	}
	body, stored, ok := r.split(line)
	if !ok {
		return fmt.Errorf("%w (%s)", ErrNoChecksum, r)
	}
	table := castagnoli
	if r.IEEE {
		table = crc32.IEEETable
	}
	if got := crc32.Checksum(body, table); got != stored {
		return fmt.Errorf("%w: stored %08x, computed %08x (%s)", ErrChecksum, stored, got, r)
	}
	return nil
}

// split cuts the rule's member out of the line: the object without it, and
// the value it held (a string of 8 hex digits, optionally after a prefix
// ending in ':', or a JSON number).
func (r *ChecksumRule) split(line []byte) (body []byte, sum uint32, ok bool) {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return nil, 0, false
	}
	key := []byte(strconv.Quote(r.Member) + ":")
	var value []byte
	if r.Last {
		// `,"member":VALUE}`: VALUE has no '"' inside nor ',' after it.
		i := bytes.LastIndex(line, key)
		if i < 1 || line[i-1] != ',' {
			return nil, 0, false
		}
		value = line[i+len(key) : len(line)-1]
		body = append(append([]byte(nil), line[:i-1]...), '}')
	} else {
		if !bytes.HasPrefix(line[1:], key) {
			return nil, 0, false
		}
		rest := line[1+len(key):]
		end := bytes.IndexByte(rest, ',')
		if end < 0 {
			return nil, 0, false
		}
		value = rest[:end]
		body = append([]byte{'{'}, rest[end+1:]...)
	}
	sum, ok = parseSum(bytes.TrimSpace(value))
	return body, sum, ok
}

// parseSum reads "xxxxxxxx", "crc32c:xxxxxxxx" or a JSON number.
func parseSum(v []byte) (uint32, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		s := v[1 : len(v)-1]
		if i := bytes.LastIndexByte(s, ':'); i >= 0 {
			s = s[i+1:]
		}
		if len(s) != 8 {
			return 0, false
		}
		n, err := strconv.ParseUint(string(s), 16, 32)
		return uint32(n), err == nil
	}
	n, err := strconv.ParseUint(string(v), 10, 32)
	return uint32(n), err == nil
}

// detectSample is how many parsed lines detectChecksum tries rules on.
const detectSample = 64

// detectChecksum picks the rule that verifies the most of the first parsed
// lines — at least one, and more than half of those tried (a corrupt line
// among them does not hide the rule) — or nil when none does.
func detectChecksum(lines []Line) *ChecksumRule {
	var sample [][]byte
	for _, l := range lines {
		if l.Event != nil && l.Terminated {
			sample = append(sample, l.Raw)
			if len(sample) == detectSample {
				break
			}
		}
	}
	var best *ChecksumRule
	bestN := 0
	for _, r := range candidateRules() {
		n := 0
		for _, raw := range sample {
			if r.Verify(raw) == nil {
				n++
			}
		}
		if n > bestN {
			best, bestN = r, n
		}
	}
	if bestN == 0 || 2*bestN <= len(sample) {
		return nil
	}
	return best
}
