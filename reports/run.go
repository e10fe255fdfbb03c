package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// RunInfo is what the caller knows about a gate run that the run directory
// does not record.
type RunInfo struct {
	// Gates are the ids of the gates this invocation ran ("A".."E").
	Gates   []string
	Started time.Time
	Branch  string
	Commit  string
	// Focus are the checks a focused run selected (`gates --checks`); the
	// specs filtered out of it are left out of the summary, not listed as
	// not run.
	Focus []string
}

// FromRunDir builds the summary of a gate run from its directory: Ginkgo's
// JSON report (ginkgo.json) and what the gate suites saved beside it
// (run-config.json, gate-*/scenario-*.json, gate-*/facts.json,
// gate-E/load-summary.json, and each faults.jsonl with its history.jsonl).
// Gates not in info.Gates are recorded as not run. The summary is not
// finalized: WriteAll finalizes it once, computing the verdict (Finalize)
// just before it is saved.
func FromRunDir(dir string, info RunInfo) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "ginkgo.json"))
	if err != nil {
		return nil, fmt.Errorf("no Ginkgo report (did the suites compile?): %w", err)
	}
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("ginkgo.json: %w", err)
	}
	s := &Summary{Timestamp: info.Started.UTC(), Branch: info.Branch, Commit: info.Commit, Focus: info.Focus}
	s.GateDetails = FromGinkgo(rs)
	if len(info.Focus) > 0 {
		dropFilteredOut(s.GateDetails)
	}
	addUnrecorded(dir, s.GateDetails)
	ran := map[string]bool{}
	for _, g := range info.Gates {
		ran[strings.ToUpper(g)] = true
	}
	for _, g := range GateIDs {
		if !ran[g] {
			s.GateDetails = append(s.GateDetails, GateDetail{ID: g, Name: GateNames[g], Status: StatusSkip,
				Detail: "not run in this invocation"})
		}
	}
	sort.Slice(s.GateDetails, func(i, j int) bool { return s.GateDetails[i].ID < s.GateDetails[j].ID })
	var cfg struct {
		TestConfig TestConfig `json:"test_config"`
		Repro      string     `json:"repro"`
	}
	if err := readJSONFile(filepath.Join(dir, "run-config.json"), &cfg); err == nil {
		s.TestConfig = cfg.TestConfig
		s.Facts.Seed = cfg.TestConfig.Seed
		s.Facts.ReproCommand = cfg.Repro
	}
	scen, _ := filepath.Glob(filepath.Join(dir, "gate-*", "scenario-*.json"))
	sort.Strings(scen)
	for _, f := range scen {
		var sc Scenario
		if err := readJSONFile(f, &sc); err == nil {
			s.Scenarios = append(s.Scenarios, sc)
		}
	}
	factFiles, _ := filepath.Glob(filepath.Join(dir, "gate-*", "facts.json"))
	for _, f := range factFiles {
		var facts Facts
		if err := readJSONFile(f, &facts); err == nil {
			s.Facts.NegativeBalances += facts.NegativeBalances
			s.Facts.IdempotencyViolations += facts.IdempotencyViolations
			s.Facts.MultipleFinalDecisions += facts.MultipleFinalDecisions
			s.Facts.CrashesOnOutage += facts.CrashesOnOutage
			s.Facts.ReplayDriftEvents += facts.ReplayDriftEvents
			s.Facts.FsyncDisabled = s.Facts.FsyncDisabled || facts.FsyncDisabled
		}
	}
	var load Summary
	if err := readJSONFile(filepath.Join(dir, "gate-E", "load-summary.json"), &load); err == nil {
		s.Latency, s.Load, s.Memory, s.Timeseries, s.LatencyCurve = load.Latency, load.Load, load.Memory, load.Timeseries, load.LatencyCurve
	}
	s.Faults = faultTimelines(dir)
	arts, _ := filepath.Glob(filepath.Join(dir, "gate-*", "*"))
	for _, a := range arts {
		if rel, err := filepath.Rel(dir, a); err == nil {
			s.Artifacts = append(s.Artifacts, rel)
		}
	}
	return s, nil
}

// dropFilteredOut removes the specs a focused run filtered out: they were
// not part of the run, so they are neither evidence nor missing evidence.
func dropFilteredOut(gates []GateDetail) {
	for i := range gates {
		g := &gates[i]
		kept := g.Checks[:0]
		for _, c := range g.Checks {
			if c.Status == StatusSkip && c.Detail == filteredOut {
				continue
			}
			kept = append(kept, c)
		}
		g.Checks = kept
		g.Status = deriveStatus(g.Checks)
	}
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// GateVerdict is the verdict one gate's evidence implies on its own: the
// summary with every other gate taken as passed and nothing else missing
// (latency, load and memory are gate E's evidence; scenarios count only
// when the gate recorded some). It applies Decide's rules, so a critical
// failure anywhere in the gate — even after earlier failures — and a
// critical check hidden by a failure are NO-GO. s is not modified.
func GateVerdict(s *Summary, id string) (verdict string, reasons []string) {
	id = strings.ToUpper(id)
	c := *s
	c.GateDetails = nil
	for _, g := range s.GateDetails {
		if g.ID != id {
			g = GateDetail{ID: g.ID, Name: g.Name, Status: StatusPass,
				Checks: []Check{{Name: "not part of this run", Status: StatusPass}}}
		}
		c.GateDetails = append(c.GateDetails, g)
	}
	if id != "E" {
		c.Latency = &Latency{Overall: LatencyStats{P95: 1, Count: 1}}
		c.Load = &LoadStats{TargetRate: 1, AchievedRate: 1, DurationS: float64(s.TestConfig.TestDuration)}
		c.Memory = &Memory{Samples: []MemorySample{{TS: 0}, {TS: 1}}}
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = []Scenario{{Name: "none in this gate", Status: ScenarioPassed, InvariantsPassed: true}}
	}
	c.Gates = nil
	return Decide(&c)
}

// RunVerdict is the verdict a run's exit code reports: the sign-off verdict
// when all five gates ran, else the worst of the verdicts the gates that
// ran imply on their own (a partial run cannot sign off, but it must fail
// when one of its gates would).
func RunVerdict(s *Summary, ran []string) string {
	if len(ran) == len(GateIDs) {
		return s.OverallStatus
	}
	worst := VerdictGo
	for _, id := range ran {
		if v, _ := GateVerdict(s, id); verdictRank(v) > verdictRank(worst) {
			worst = v
		}
	}
	return worst
}
