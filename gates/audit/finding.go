package audit

import (
	"fmt"
	"strconv"
)

// MaxSamples is how many violations a Finding keeps verbatim.
const MaxSamples = 20

// Finding is the result of one check.
type Finding struct {
	Check     string `json:"check"`
	OK        bool   `json:"ok"`
	Measured  string `json:"measured"`
	Threshold string `json:"threshold"`
	Detail    string `json:"detail,omitempty"`
	// Violations holds up to MaxSamples samples; ViolationCount is the total.
	Violations     []string `json:"violations,omitempty"`
	ViolationCount int      `json:"violation_count"`
	// Samples is how many things the check judged (lines, events, keys,
	// reads); 0 means nothing was judged, and the harness says NOT
	// MEASURED, never PASS.
	Samples int `json:"samples"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: ok=%v measured=%s threshold=%s", f.Check, f.OK, f.Measured, f.Threshold)
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	for _, v := range f.Violations {
		s += "\n  - " + v
	}
	if f.ViolationCount > len(f.Violations) {
		s += fmt.Sprintf("\n  … and %d more", f.ViolationCount-len(f.Violations))
	}
	return s
}

// violations collects samples and counts.
type violations struct {
	samples []string
	count   int
	judged  int // how many things were judged (Finding.Samples)
}

func (v *violations) add(format string, args ...any) {
	v.count++
	if len(v.samples) < MaxSamples {
		v.samples = append(v.samples, fmt.Sprintf(format, args...))
	}
}

// finding builds a Finding that is OK when no violation was recorded.
func (v *violations) finding(check, measured, threshold, detail string) Finding {
	return Finding{Check: check, OK: v.count == 0, Measured: measured, Threshold: threshold, Detail: detail,
		Violations: v.samples, ViolationCount: v.count, Samples: v.judged}
}

func itoa(n int) string { return strconv.Itoa(n) }

// countMeasured renders "N violations in M <unit>" and records M as what
// was judged.
func countMeasured(v *violations, n int, unit string) string {
	v.judged += n
	return fmt.Sprintf("%d violations in %d %s", v.count, n, unit)
}
