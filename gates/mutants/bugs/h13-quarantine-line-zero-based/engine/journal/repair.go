//go:build mutant

// Seeded bug h13-quarantine-line-zero-based (blind hunt 13, in our engine):
// the quarantine file numbers lines from 0, while /journal/verify numbers
// them from 1. Breaks SPEC §3 ("moves the bad lines to credits.jsonl.quarantine
// with line number and reason"): every entry names the line before the
// damaged one. Nothing read the file's entries, only that they stay; D64
// now reads each recovery's new entries.
package journal

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

func quarantineEntries(s *scanner) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	add := func(r lineRec, e quarantineEntry) {
		raw := bytes.TrimSuffix(r.raw, []byte{'\n'})
		e.Line, e.Offset, e.Raw = r.no-1, r.off, string(raw)
		if !utf8.Valid(raw) {
			e.RawBase64 = raw
		}
		_ = enc.Encode(e)
	}
	for _, r := range s.bad {
		add(r, quarantineEntry{Reason: r.why})
	}
	for _, r := range s.deps {
		add(r, quarantineEntry{Reason: r.why, Dependent: true, Seq: r.env.Seq, EventID: r.env.EventID})
	}
	return buf.Bytes()
}
