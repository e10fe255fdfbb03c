package reports

import (
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
