package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Recommendations shown under the verdict.
const (
	RecommendGo          = "Sign off: every gate and scenario passed within budget."
	RecommendConditional = "Sign off only if the reliability owner accepts each listed condition; otherwise fix them and rerun."
	RecommendNoGo        = "Do not sign off: fix every NO-GO reason below and rerun with the same seed."
	RecommendIncomplete  = "Not signed off: no measured check failed, but the critical checks listed below could not be measured on this target; give the harness what each names (a route, a capability) or sign off on a target that offers it."
)

// Finalize makes the derived fields of s consistent with its data: gate
// details for A–E (from checks, or from the original `gates` booleans), the
// `gates` map, memory slopes (refitted when samples exist), facts seed,
// caveats, and the verdict with its reasons and recommendation. Every writer
// calls it, so the saved verdict is always the one the data supports.
func Finalize(s *Summary) {
	s.GateDetails = normalizeGates(s)
	s.Gates = make(map[string]bool, len(s.GateDetails))
	for _, g := range s.GateDetails {
		if _, known := GateNames[g.ID]; known {
			s.Gates[GateKey(g.ID)] = g.Status == StatusPass || g.Status == StatusWarn
		}
	}
	for i := range s.Scenarios {
		s.Scenarios[i].Status = normalizeScenarioStatus(s.Scenarios[i].Status)
	}
	if m := s.Memory; m != nil && m.steadySamples() >= 2 {
		fitted := AnalyzeMemoryWindow(m.Samples, m.SteadyStateFromS, m.SteadyStateUntilS)
		fitted.Informational = m.Informational
		*m = fitted
	}
	if f := s.TestConfig.Fsync; f != nil && !*f {
		s.Facts.FsyncDisabled = true
	}
	if s.Facts.Seed == 0 {
		s.Facts.Seed = s.TestConfig.Seed
	}
	s.Caveats = caveats(s)
	if len(s.GateDetails) > 0 {
		m := CountMeasurement(s.GateDetails)
		s.Measurement = &m
	}
	s.OverallStatus, s.VerdictReasons = Decide(s)
	switch s.OverallStatus {
	case VerdictGo:
		s.Recommendation = RecommendGo
	case VerdictConditional:
		s.Recommendation = RecommendConditional
	case VerdictIncomplete:
		s.Recommendation = RecommendIncomplete
	default:
		s.Recommendation = RecommendNoGo
	}
}

func caveats(s *Summary) []string {
	var out []string
	if s.Facts.FsyncDisabled {
		out = append(out, "fsync was disabled: acknowledged writes survive kill -9 but not power loss; durability budgets are not shown")
	}
	if m := s.Memory; m != nil && m.Informational {
		out = append(out, fmt.Sprintf("memory trend %s MB/min is informational: this run is too short to resolve %g MB/min (bounded caches still fill); the nightly soak judges it",
			fmtSlope(m.SlopeMBPerMin), MemGoMBPerMin))
	}
	if len(s.Focus) > 0 {
		out = append(out, "a focused run: only the specs that record "+strings.Join(s.Focus, ", ")+" ran; every other check was left out, so this run cannot sign off")
	}
	if s.Facts.ReproCommand == "" {
		out = append(out, "no repro command recorded: this run cannot be replayed from the report")
	}
	return out
}

// normalizeGates returns the gate details in order A–E (then any unknown ids,
// sorted), with names filled in, statuses normalized and derived from the
// checks, A and B marked critical, and gates that are missing from the details
// taken from the original `gates` booleans or marked not run. s is not modified.
func normalizeGates(s *Summary) []GateDetail {
	byID := map[string]GateDetail{}
	var extraIDs []string
	for _, g := range s.GateDetails {
		g.ID = strings.ToUpper(strings.TrimSpace(g.ID))
		g.Checks = append([]Check(nil), g.Checks...)
		if prev, dup := byID[g.ID]; dup {
			// Two suites reporting the same gate: keep every check.
			prev.Checks = append(prev.Checks, g.Checks...)
			g = prev
		} else if _, known := GateNames[g.ID]; !known {
			extraIDs = append(extraIDs, g.ID)
		}
		byID[g.ID] = g
	}
	for _, id := range GateIDs {
		if _, ok := byID[id]; ok {
			continue
		}
		passed, ok := s.Gates[GateKey(id)]
		switch {
		case !ok:
			byID[id] = GateDetail{ID: id, Status: StatusSkip, Detail: "not run"}
		case passed:
			byID[id] = GateDetail{ID: id, Status: StatusPass, Detail: "from the gates map; no check detail"}
		default:
			byID[id] = GateDetail{ID: id, Status: StatusFail, Detail: "from the gates map; no check detail"}
		}
	}
	sort.Strings(extraIDs)
	out := make([]GateDetail, 0, len(byID))
	for _, id := range append(append([]string(nil), GateIDs...), extraIDs...) {
		g := byID[id]
		if name, ok := GateNames[id]; ok {
			g.Name = name
			g.Critical = CriticalGate(id)
		}
		for i := range g.Checks {
			g.Checks[i].Status = normalizeStatus(g.Checks[i].Status)
		}
		if len(g.Checks) > 0 {
			g.Status = deriveStatus(g.Checks)
		} else {
			g.Status = normalizeStatus(g.Status)
		}
		out = append(out, g)
	}
	return out
}

// deriveStatus: any fail → fail; any warn → warn; all skipped → skip; else pass.
func deriveStatus(cs []Check) string {
	var warn, pass bool
	for _, c := range cs {
		switch c.Status {
		case StatusFail:
			return StatusFail
		case StatusWarn:
			warn = true
		case StatusPass:
			pass = true
		}
	}
	switch {
	case warn:
		return StatusWarn
	case pass:
		return StatusPass
	default:
		return StatusSkip
	}
}

// normalizeStatus accepts the common spellings; anything unknown is a fail,
// because a report must not pass on a status nobody can read.
func normalizeStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pass", "passed", "ok":
		return StatusPass
	case "warn", "warning":
		return StatusWarn
	case "skip", "skipped", "pending":
		return StatusSkip
	case "n/a", "na", "not applicable":
		return StatusNA
	case "not measured", "not-measured", "not_measured":
		return StatusNotMeasured
	default:
		return StatusFail
	}
}

// normalizeScenarioStatus maps to passed/failed/skipped; unknown is failed.
func normalizeScenarioStatus(s string) string {
	switch normalizeStatus(s) {
	case StatusPass:
		return ScenarioPassed
	case StatusSkip:
		return ScenarioSkipped
	default:
		return ScenarioFailed
	}
}

// round3 rounds to 3 decimals for display.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// fmtMs formats milliseconds with at most 3 decimals and the unit.
func fmtMs(v float64) string { return fmtNum(v) + " ms" }

// fmtNum formats a number with at most 3 decimals, no exponent.
func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(round3(v)+0, 'f', -1, 64) // +0 turns -0 into 0
}

// fmtSlope shows slopes with 4 decimals: 0.1 MB/min budgets need them.
func fmtSlope(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/1e4+0, 'f', -1, 64)
}
