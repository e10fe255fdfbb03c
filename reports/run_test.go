package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func oneGateRun(status string, checks ...Check) *Summary {
	s := &Summary{TestConfig: TestConfig{TestDuration: 60}}
	for _, id := range GateIDs {
		g := GateDetail{ID: id, Name: GateNames[id], Status: StatusSkip, Detail: "not run in this invocation"}
		if id == "D" {
			g = GateDetail{ID: id, Name: GateNames[id], Status: status, Checks: checks}
		}
		s.GateDetails = append(s.GateDetails, g)
	}
	return s
}

func TestGateVerdictJudgesOneGateOnItsOwnEvidence(t *testing.T) {
	pass := Check{Name: "p", Status: StatusPass}
	slow := Check{Name: "KARMA slow: max consume latency", Status: StatusFail, Measured: "520 ms", Threshold: "≤ 500ms"}
	torn := Check{Name: "torn tail: append survives", Status: StatusFail, Critical: true}
	hidden := Check{Name: "kill -9", Status: StatusSkip, Critical: true, Blocked: true, Detail: "not run: Spec skipped because a BeforeAll node failed"}
	chosen := Check{Name: "kill -9", Status: StatusSkip, Critical: true, Detail: "skipped: url target"}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   string
	}{
		{"a passing gate alone is GO", []Check{pass}, VerdictGo},
		{"a non-critical failure alone is CONDITIONAL", []Check{slow, pass}, VerdictConditional},
		{"a critical failure after a non-critical failure is NO-GO", []Check{slow, torn}, VerdictNoGo},
		{"a critical failure before a non-critical failure is NO-GO", []Check{torn, slow}, VerdictNoGo},
		{"a critical spec hidden by an earlier failure is NO-GO", []Check{slow, hidden}, VerdictNoGo},
		{"a critical spec skipped by choice is not GO", []Check{pass, chosen}, VerdictIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := oneGateRun(deriveStatus(tc.checks), tc.checks...)
			before, _ := json.Marshal(s)
			got, reasons := GateVerdict(s, "d")
			if after, _ := json.Marshal(s); string(after) != string(before) {
				t.Fatal("GateVerdict modified its input")
			}
			if got != tc.want {
				t.Fatalf("GateVerdict = %s, want %s; reasons %q", got, tc.want, reasons)
			}
			if rv := RunVerdict(s, []string{"D"}); rv != tc.want {
				t.Fatalf("RunVerdict of a gate-D-only run = %s, want %s", rv, tc.want)
			}
		})
	}
}

func TestGateVerdictDoesNotInheritAnotherGatesFailure(t *testing.T) {
	s := oneGateRun(StatusFail, Check{Name: "torn", Status: StatusFail, Critical: true})
	s.GateDetails[0] = GateDetail{ID: "A", Status: StatusPass, Checks: []Check{{Name: "x", Status: StatusPass}}}
	if v, r := GateVerdict(s, "A"); v != VerdictGo {
		t.Fatalf("gate A must not inherit gate D's failure: %s %q", v, r)
	}
	if v := RunVerdict(s, []string{"A", "D"}); v != VerdictNoGo {
		t.Fatalf("a run of A and D is as bad as its worst gate: %s", v)
	}
}

func TestRunVerdictOfAFullRunIsTheSignOffVerdict(t *testing.T) {
	s := goSummary(t)
	Finalize(s)
	if v := RunVerdict(s, GateIDs); v != s.OverallStatus || v != VerdictGo {
		t.Fatalf("RunVerdict = %s, overall %s", v, s.OverallStatus)
	}
}

// FromRunDir reads what `creditgate gates` leaves in a run directory; a
// gate whose later critical spec failed after an earlier failure is NO-GO.
func TestFromRunDirBuildsTheSummaryFromTheRunDirectory(t *testing.T) {
	dir := t.TempDir()
	rs := []types.Report{{SuiteLabels: []string{"gate:D"}, SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "karma", LeafNodeLocation: types.CodeLocation{FileName: "d.go", LineNumber: 1},
			State: types.SpecStateFailed, ReportEntries: types.ReportEntries{entry("check:KARMA slow", GinkgoCheck{Status: "fail", Measured: "520ms", Threshold: "≤ 500ms"})}},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "corruption", LeafNodeLocation: types.CodeLocation{FileName: "d.go", LineNumber: 9},
			State: types.SpecStateFailed, ReportEntries: types.ReportEntries{entry("check:torn tail append survives", GinkgoCheck{Status: "fail", Critical: true})}},
	}}}
	write := func(rel string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ginkgo.json", rs)
	write("run-config.json", map[string]any{"test_config": TestConfig{Seed: 7, TestDuration: 60}, "repro": "SEED=7 make gates"})
	write("gate-D/facts.json", Facts{CrashesOnOutage: 0})
	write("gate-D/scenario-6-crash-replay.json", Scenario{Name: "6 crash replay", Status: ScenarioPassed, InvariantsPassed: true})
	s, err := FromRunDir(dir, RunInfo{Gates: []string{"D"}, Started: time.Unix(0, 0), Branch: "b", Commit: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Facts.Seed != 7 || s.Facts.ReproCommand != "SEED=7 make gates" || len(s.Scenarios) != 1 {
		t.Fatalf("run config or scenarios not read: %+v %+v", s.Facts, s.Scenarios)
	}
	if g := s.Gate("A"); g == nil || g.Status != StatusSkip || g.Detail != "not run in this invocation" {
		t.Fatalf("gate A: %+v", g)
	}
	if g := s.Gate("D"); g == nil || g.Status != StatusFail || len(g.Checks) != 2 {
		t.Fatalf("gate D: %+v", g)
	}
	if v := RunVerdict(s, []string{"D"}); v != VerdictNoGo {
		t.Fatalf("RunVerdict = %s, want NO-GO", v)
	}
}
