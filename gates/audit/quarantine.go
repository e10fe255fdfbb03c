package audit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// QuarantineEntryFor is "" when one of a recovery's new quarantine-file
// entries names line (1-based) with a reason, else what is missing. A JSON
// entry names it in a member whose name holds "line" (a number or a
// numeric string) and gives a non-empty member whose name holds "reason"
// or "error"; a text entry says "line N".
func QuarantineEntryFor(added []string, line int) string {
	if len(added) == 0 {
		return "the recovery added no entry to the quarantine file"
	}
	sort.Strings(added)
	var lines []string
	for _, raw := range added {
		var obj map[string]any
		if json.Unmarshal([]byte(raw), &obj) != nil {
			if m := textLine.FindStringSubmatch(raw); m != nil {
				if m[1] == strconv.Itoa(line) {
					return ""
				}
				lines = append(lines, m[1])
			}
			continue
		}
		named, reason := "", false
		for k, v := range obj {
			k = strings.ToLower(k)
			switch {
			case strings.Contains(k, "line") && !strings.Contains(k, "raw"):
				if n, ok := v.(float64); ok {
					named = strconv.FormatFloat(n, 'f', -1, 64)
				} else if str, ok := v.(string); ok {
					named = str
				}
			case strings.Contains(k, "reason") || strings.Contains(k, "error"):
				str, _ := v.(string)
				reason = strings.TrimSpace(str) != ""
			}
		}
		if named == strconv.Itoa(line) && reason {
			return ""
		}
		switch {
		case named != "" && !reason:
			lines = append(lines, named+" (no reason)")
		case named != "":
			lines = append(lines, named)
		}
	}
	if len(lines) == 0 {
		return fmt.Sprintf("none of its %d new entries names a line number: %.160s", len(added), added[0])
	}
	return fmt.Sprintf("its %d new entries name line(s) %s, not %d with a reason", len(added), strings.Join(lines, ", "), line)
}

// textLine finds the line number of a quarantine entry written as text.
var textLine = regexp.MustCompile(`(?i)\bline\W{0,3}(\d+)\b`)

// NamesJournalLine reports whether a backend's output (a refused start)
// names the journal file and its line n, as "FILE:n" or "line n": SPEC §3's
// strict policy "refuses to start with an error naming file, line and
// reason", in whatever words.
func NamesJournalLine(out, file string, n int) bool {
	re := regexp.MustCompile(fmt.Sprintf(`(?i)(%s:%d\b|\bline\W{0,3}%d\b)`, regexp.QuoteMeta(file), n, n))
	return strings.Contains(out, file) && re.MatchString(out)
}
