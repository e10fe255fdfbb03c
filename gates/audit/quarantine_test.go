package audit

import (
	"strings"
	"testing"
)

func TestAQuarantineEntryNamesTheDamagedLineOneBasedWithAReason(t *testing.T) {
	ours := `{"line":7,"offset":812,"reason":"checksum mismatch","raw":"{\"seq\":7}"}`
	cases := []struct {
		name  string
		added []string
		line  int
		want  string // "" = judged right; else a part of the complaint
	}{
		{"our engine's entry", []string{ours}, 7, ""},
		{"a numeric string and an error member", []string{`{"line_no":"7","error":"bad json"}`}, 7, ""},
		{"a text entry", []string{"line 7: not JSON: {garbage"}, 7, ""},
		{"one of several new entries", []string{`{"line":9,"reason":"dependent"}`, ours}, 7, ""},
		{"zero-based", []string{`{"line":6,"offset":812,"reason":"checksum mismatch"}`}, 7, "line(s) 6, not 7"},
		{"no reason", []string{`{"line":7,"reason":""}`}, 7, "7 (no reason)"},
		{"no line number", []string{`{"offset":812,"reason":"bad"}`}, 7, "names a line number"},
		{"a raw member is no line number", []string{`{"raw_line":"7","reason":"bad"}`}, 7, "names a line number"},
		{"nothing added", nil, 7, "added no entry"},
	}
	for _, c := range cases {
		got := QuarantineEntryFor(c.added, c.line)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: QuarantineEntryFor(%q, %d) = %q, want %q", c.name, c.added, c.line, got, c.want)
		}
	}
}

// A strict refusal names the journal and the damaged line, in our engine's
// "FILE:N" or the independent backend's "FILE line N"; the line before, a
// seq number that happens to be N, or no file is not naming it.
func TestAStrictRefusalNamesTheFileAndTheLine(t *testing.T) {
	for out, want := range map[string]bool{
		"journal: /data/credits.jsonl:42: corrupt: seq gap: 45 follows 43 (policy strict refuses to start)": true,
		"journal: /tmp/x/journal.jsonl line 42: seq gap":                                                    false, // another file
		"journal: /tmp/x/credits.jsonl line 42: seq gap: events 43..44 missing":                             true,
		"ERROR credits.jsonl: Line: 42, reason: checksum":                                                   true,
		"journal: /data/credits.jsonl:41: corrupt: seq gap: 42 follows 40":                                  false,
		"journal: /data/credits.jsonl:420: corrupt":                                                         false,
		"refusing to start: journal corrupt at line 42":                                                     false, // no file
	} {
		if got := NamesJournalLine(out, "credits.jsonl", 42); got != want {
			t.Errorf("NamesJournalLine(%q, line 42) = %v, want %v", out, got, want)
		}
	}
}
