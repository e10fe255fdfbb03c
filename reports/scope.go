package reports

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ScopeFile is where a gate suite lists its in-scope catalog checks
// (gate-<X>/catalog.json), written by the harness at boot.
const ScopeFile = "catalog.json"

// ScopeEntry is one catalog check a gate was expected to record: Status is
// "" when it applies to the target, else StatusSkip or StatusNA with Why.
type ScopeEntry struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Critical bool   `json:"critical,omitempty"`
	Status   string `json:"status,omitempty"`
	Why      string `json:"why,omitempty"`
}

// addUnrecorded lists, in each gate that ran, every in-scope catalog check
// no spec recorded: with its SKIP or N/A reason when it does not apply to
// the target, else NOT MEASURED ("no spec recorded it"). A check is never
// missing from the report without a word.
func addUnrecorded(dir string, gates []GateDetail) {
	for i := range gates {
		g := &gates[i]
		var scope []ScopeEntry
		if err := readJSONFile(filepath.Join(dir, "gate-"+g.ID, ScopeFile), &scope); err != nil || len(g.Checks) == 0 {
			continue
		}
		recorded := map[string]bool{}
		for _, c := range g.Checks {
			recorded[checkID(c)] = true
		}
		for _, e := range scope {
			if recorded[e.ID] {
				continue
			}
			c := Check{ID: e.ID, Name: e.Name, Critical: e.Critical, Status: e.Status, Measured: "–", Detail: e.Why}
			if c.Status == "" {
				c.Status, c.Detail = StatusNotMeasured, "no spec recorded it in this run (filtered out, or the spec stopped before it)"
			}
			g.Checks = append(g.Checks, c)
		}
		g.Status = deriveStatus(g.Checks)
	}
}

func checkID(c Check) string {
	if c.ID != "" {
		return c.ID
	}
	id, _, _ := strings.Cut(c.Name, " ")
	return id
}

// Measurement counts a run's checks by catalog ID: how many applied to the
// target and how many of those were measured (PASS, WARN or FAIL), and how
// many were N/A, SKIP or NOT MEASURED. A check recorded several times
// (variants) counts once, by its worst status.
type Measurement struct {
	Applicable  int `json:"applicable"`
	Measured    int `json:"measured"`
	NA          int `json:"n_a"`
	Skipped     int `json:"skipped"`
	NotMeasured int `json:"not_measured"`
}

// CountMeasurement counts over the gates' checks.
func CountMeasurement(gates []GateDetail) Measurement {
	worst := map[string]string{}
	rank := map[string]int{StatusPass: 0, StatusWarn: 1, StatusFail: 2, StatusNotMeasured: 3, StatusSkip: 4, StatusNA: 5}
	for _, g := range gates {
		for _, c := range g.Checks {
			id := checkID(c)
			if id == "" {
				continue
			}
			if old, ok := worst[id]; !ok || rank[c.Status] > rank[old] {
				worst[id] = c.Status
			}
		}
	}
	var m Measurement
	for _, st := range worst {
		switch st {
		case StatusNA:
			m.NA++
		case StatusSkip:
			m.Skipped++
		case StatusNotMeasured:
			m.NotMeasured++
			m.Applicable++
		default:
			m.Measured++
			m.Applicable++
		}
	}
	return m
}

// factSources are the catalog checks whose measurement backs each critical
// fact: a fact none of them measured prints "not measured", never 0.
var factSources = []struct {
	what string
	ids  []string
	n    func(Facts) int64
}{
	{"negative balances", []string{"B5", "B13", "B22", "B26", "B27", "B28", "B29", "B32"}, func(f Facts) int64 { return f.NegativeBalances }},
	{"idempotency violations", []string{"A7", "A9", "A11", "A14", "A15", "E8", "CL3a", "CL3c", "CL3d"}, func(f Facts) int64 { return f.IdempotencyViolations }},
	{"multiple final decisions", []string{"B8", "C1", "C3", "C20", "CL2a", "CL2b"}, func(f Facts) int64 { return f.MultipleFinalDecisions }},
	{"crashes on outage", []string{"D3"}, func(f Facts) int64 { return f.CrashesOnOutage }},
	{"replay drift", []string{"B23", "B24"}, func(f Facts) int64 { return f.ReplayDriftEvents }},
}

// CriticalFacts renders the critical facts, each as a count or "not
// measured" when no check that backs it was measured in this run.
func CriticalFacts(s *Summary) string {
	measured := map[string]bool{}
	for _, g := range s.GateDetails {
		for _, c := range g.Checks {
			switch c.Status {
			case StatusPass, StatusWarn, StatusFail:
				measured[checkID(c)] = true
			}
		}
	}
	var parts []string
	for _, fs := range factSources {
		n := fs.n(s.Facts)
		ok := n > 0
		for _, id := range fs.ids {
			ok = ok || measured[id]
		}
		if ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, fs.what))
		} else {
			parts = append(parts, fs.what+" not measured")
		}
	}
	return strings.Join(parts, ", ")
}

// SplitReasons separates the verdict's reasons into the sign-off line of a
// GO, defects found (every NO-GO reason, and CONDITIONAL findings) and what
// could not be measured, and why.
func SplitReasons(reasons []string) (signOff, defects, unmeasured []string) {
	for _, r := range reasons {
		if strings.HasPrefix(r, tagGo) {
			signOff = append(signOff, r)
		} else if strings.HasPrefix(r, tagIncomplete) || !strings.HasPrefix(r, tagNoGo) && (strings.Contains(r, "not measured") ||
			strings.Contains(r, "not verified") || strings.Contains(r, "skipped") || strings.Contains(r, "not run")) {
			unmeasured = append(unmeasured, r)
		} else {
			defects = append(defects, r)
		}
	}
	return signOff, defects, unmeasured
}

// maxNotes bounds the non-critical unmeasured checks named at the top of a
// report; the gate tables list every one.
const maxNotes = 12

// unmeasuredNotes names the non-critical checks that were not measured, with
// why: they do not hold the verdict back, but the first lines of a report
// say what was not measured.
func unmeasuredNotes(s *Summary) []string {
	var out []string
	n := 0
	for _, g := range s.GateDetails {
		for _, c := range g.Checks {
			switch c.Status {
			case StatusSkip, StatusNA, StatusNotMeasured:
			default:
				continue
			}
			if c.Critical || c.Blocked {
				continue
			}
			n++
			if len(out) < maxNotes {
				out = append(out, fmt.Sprintf("gate %s: %s %q: %s", g.ID, strings.ToUpper(c.Status), c.Name, orDefault(c.Detail, "no reason recorded")))
			}
		}
	}
	if n > len(out) {
		out = append(out, fmt.Sprintf("and %d more non-critical check(s) not measured (see the gate tables)", n-len(out)))
	}
	return out
}
