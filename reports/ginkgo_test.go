package reports

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func entry(name string, v any) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
}

// ginkgoReports builds what gate suites emit: labels on suite, container or
// spec, check entries as maps or as structs, plus noise that must be ignored.
func ginkgoReports() []types.Report {
	loc := func(line int) types.CodeLocation {
		return types.CodeLocation{FileName: "gates/a/a_test.go", LineNumber: line}
	}
	return []types.Report{
		{
			SuiteDescription: "Gate A", SuiteLabels: []string{"gate:A"},
			SpecReports: types.SpecReports{
				{
					LeafNodeType: types.NodeTypeIt, LeafNodeText: "keeps seq gapless", LeafNodeLocation: loc(30), State: types.SpecStatePassed,
					ReportEntries: types.ReportEntries{
						entry("check:seq gapless", map[string]any{"status": "pass", "measured": "1..500", "threshold": "no gap"}),
						entry("latency:consume", map[string]any{"p95": 3}), // not a check
					},
				},
				{
					LeafNodeType: types.NodeTypeIt, LeafNodeText: "records each key once", LeafNodeLocation: loc(10), State: types.SpecStateFailed,
					Failure: types.Failure{Message: "duplicate key k-17", Location: loc(12)},
					ReportEntries: types.ReportEntries{
						entry("check:idempotency key once", GinkgoCheck{Status: "fail", Measured: 2, Threshold: 0, Detail: "k-17 twice", Critical: true, Repro: "SEED=42 make gate-a"}),
					},
				},
				{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
			},
		},
		{
			SuiteDescription: "Gate C",
			SpecReports: types.SpecReports{
				{
					ContainerHierarchyTexts: []string{"approval race"}, ContainerHierarchyLabels: [][]string{{"gate:c"}},
					LeafNodeType: types.NodeTypeIt, LeafNodeText: "decides at most once", LeafNodeLabels: []string{"critical"},
					LeafNodeLocation: loc(5), State: types.SpecStateFailed, Failure: types.Failure{Message: "2 decisions"},
				},
				{
					ContainerHierarchyLabels: [][]string{{"gate:C"}}, LeafNodeType: types.NodeTypeIt, LeafNodeText: "rejects expired",
					LeafNodeLocation: loc(40), State: types.SpecStatePassed,
					ReportEntries: types.ReportEntries{
						entry("check:expired cannot be decided", map[string]any{"measured": "0 late", "threshold": "0"}), // status from the spec
						entry("check:broken entry", "just a string"),
					},
				},
				{
					ContainerHierarchyLabels: [][]string{{"gate:C"}}, LeafNodeType: types.NodeTypeIt, LeafNodeText: "survives crash mid-race",
					LeafNodeLocation: loc(50), State: types.SpecStateSkipped, Failure: types.Failure{Message: "url target: no container control"},
				},
				{LeafNodeType: types.NodeTypeIt, LeafNodeText: "unlabelled", State: types.SpecStateFailed},
			},
		},
	}
}

func checkFromGinkgo(t *testing.T, gates []GateDetail) {
	t.Helper()
	if len(gates) != 2 || gates[0].ID != "A" || gates[1].ID != "C" {
		t.Fatalf("gates %+v", gates)
	}
	a := gates[0]
	if a.Status != StatusFail || !a.Critical || a.Name != "Event Integrity" {
		t.Errorf("gate A %s critical %v name %q", a.Status, a.Critical, a.Name)
	}
	// Ordered by source line: the failing spec at line 10 before line 30.
	if len(a.Checks) != 2 || a.Checks[0].Name != "idempotency key once" || a.Checks[1].Name != "seq gapless" {
		t.Fatalf("gate A checks %+v", a.Checks)
	}
	c0 := a.Checks[0]
	if c0.Status != StatusFail || !c0.Critical || c0.Measured != "2" || c0.Threshold != "0" || c0.Detail != "k-17 twice" || c0.Repro != "SEED=42 make gate-a" {
		t.Errorf("check from struct entry %+v", c0)
	}
	c := gates[1]
	byName := map[string]Check{}
	for _, ch := range c.Checks {
		byName[ch.Name] = ch
	}
	if len(c.Checks) != 4 {
		t.Fatalf("gate C checks %+v", c.Checks)
	}
	if ch := byName["approval race decides at most once"]; ch.Status != StatusFail || !ch.Critical || ch.Detail != "2 decisions" {
		t.Errorf("spec without entries, labelled critical: %+v", ch)
	}
	if ch := byName["expired cannot be decided"]; ch.Status != StatusPass || ch.Measured != "0 late" {
		t.Errorf("entry without status takes the spec's: %+v", ch)
	}
	if ch := byName["broken entry"]; ch.Status != StatusFail || !strings.Contains(ch.Detail, "not a check object") {
		t.Errorf("unreadable entry must fail loudly: %+v", ch)
	}
	if ch := byName["survives crash mid-race"]; ch.Status != StatusSkip || ch.Detail != "skipped: url target: no container control" || ch.Blocked {
		t.Errorf("skipped spec: %+v", ch)
	}
}

func TestFromGinkgoMapsLabelsAndCheckEntriesInProcess(t *testing.T) {
	checkFromGinkgo(t, FromGinkgo(ginkgoReports()))
}

// The same reports after a round trip through `ginkgo --json-report`'s encoding.
func TestFromGinkgoReadsTheJSONReport(t *testing.T) {
	data, err := json.Marshal(ginkgoReports())
	if err != nil {
		t.Fatal(err)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		t.Fatal(err)
	}
	checkFromGinkgo(t, FromGinkgo(reports))
}

func TestGinkgoGatesDecideTheVerdict(t *testing.T) {
	s := goSummary(t)
	s.GateDetails = FromGinkgo(ginkgoReports())
	status, reasons := Decide(s)
	joined := strings.Join(reasons, "\n")
	if status != VerdictNoGo || !strings.Contains(joined, `critical check "idempotency key once" failed`) ||
		!strings.Contains(joined, `critical check "approval race decides at most once" failed`) {
		t.Fatalf("%s\n%s", status, joined)
	}
}

// A failed spec whose check entries all passed must not look green.
func TestFromGinkgoNeverHidesASpecFailure(t *testing.T) {
	r := []types.Report{{SpecReports: types.SpecReports{{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "folds", LeafNodeLabels: []string{"gate:B"}, State: types.SpecStatePanicked,
		Failure:       types.Failure{Message: "panic: nil map"},
		ReportEntries: types.ReportEntries{entry("check:fold equal", map[string]any{"status": "pass", "measured": "0", "threshold": "0"})},
	}}}}
	g := FromGinkgo(r)
	if len(g) != 1 || g[0].Status != StatusFail || len(g[0].Checks) != 2 || g[0].Checks[1].Detail != "panic: nil map" {
		t.Fatalf("%+v", g)
	}
}

// An ordered gate suite with ContinueOnFailure: a non-critical failure,
// then specs skipped for every reason Ginkgo records. Each skipped spec must
// appear as a skipped check with its reason, critical specs keep their
// criticality, and only skips caused by a failure or an interruption are
// "blocked".
func TestFromGinkgoReportsEverySkippedSpecWithItsReason(t *testing.T) {
	loc := func(line int) types.CodeLocation {
		return types.CodeLocation{FileName: "gates/d/d_test.go", LineNumber: line}
	}
	spec := func(line int, text string, st types.SpecState, msg string, critical bool, entries ...types.ReportEntry) types.SpecReport {
		sp := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, LeafNodeLocation: loc(line), State: st,
			Failure: types.Failure{Message: msg}, ReportEntries: entries}
		if critical {
			sp.LeafNodeLabels = []string{"critical"}
		}
		return sp
	}
	r := types.Report{SuiteLabels: []string{"gate:D"}, SpecialSuiteFailureReasons: []string{"Detected pending specs and --fail-on-pending is set", "Suite Timeout Elapsed"},
		SpecReports: types.SpecReports{
			spec(10, "karma", types.SpecStateFailed, "gate D: 1 check(s) failed", true,
				entry("check:KARMA slow: max consume latency", GinkgoCheck{Status: "fail", Measured: "520ms", Threshold: "≤ 500ms"})),
			spec(20, "after a BeforeAll failure", types.SpecStateSkipped, "Spec skipped because a BeforeAll node failed", true),
			spec(30, "url target", types.SpecStateSkipped, "url target: the harness cannot kill it", true),
			spec(40, "skipped midway", types.SpecStateSkipped, "KARMA control unavailable", false,
				entry("check:KARMA answers live", GinkgoCheck{Status: "pass", Measured: "live", Threshold: "live"})),
			spec(50, "after the timeout", types.SpecStateSkipped, "", true),
		}}
	gates := FromGinkgo([]types.Report{r})
	if len(gates) != 1 || gates[0].ID != "D" {
		t.Fatalf("gates = %+v", gates)
	}
	byName := map[string]Check{}
	for _, c := range gates[0].Checks {
		byName[c.Name] = c
	}
	for _, tc := range []struct {
		name             string
		blocked, crit    bool
		reasonSubstrings string
	}{
		{"after a BeforeAll failure", true, true, "a BeforeAll node failed"},
		{"url target", false, true, "skipped: url target"},
		{"skipped midway", false, false, "skipped: KARMA control unavailable"},
		{"after the timeout", true, true, "Suite Timeout Elapsed"},
	} {
		c, ok := byName[tc.name]
		if !ok {
			t.Errorf("skipped spec %q is not reported", tc.name)
			continue
		}
		if c.Status != StatusSkip || c.Blocked != tc.blocked || c.Critical != tc.crit || !strings.Contains(c.Detail, tc.reasonSubstrings) {
			t.Errorf("%s: %+v; want skip, blocked %v, critical %v, reason containing %q", tc.name, c, tc.blocked, tc.crit, tc.reasonSubstrings)
		}
	}
	if c := byName["KARMA answers live"]; c.Status != StatusPass {
		t.Errorf("a check recorded before the spec skipped keeps its status: %+v", c)
	}
	if c := byName["KARMA slow: max consume latency"]; c.Status != StatusFail || c.Critical {
		t.Errorf("the non-critical failure: %+v", c)
	}
}

// A BeforeAll that finds the target cannot serve its container's checks
// (harness.Requiring) records each with its reason in the first spec and
// skips; Ginkgo skips the later specs with its own message. Those hide
// nothing and are not reported again, but the same message in a container
// whose first spec gave no reasons is still a critical spec not run.
func TestFromGinkgoTakesLaterSpecsOfANotApplicableBeforeAllAsExplained(t *testing.T) {
	spec := func(container string, line int, text, msg string, entries ...types.ReportEntry) types.SpecReport {
		return types.SpecReport{ContainerHierarchyTexts: []string{container},
			ContainerHierarchyLocations: []types.CodeLocation{{FileName: "gates/d/" + container + "_test.go", LineNumber: 27}},
			LeafNodeType:                types.NodeTypeIt, LeafNodeText: text, LeafNodeLabels: []string{"critical"},
			LeafNodeLocation: types.CodeLocation{FileName: "gates/d/" + container + "_test.go", LineNumber: line},
			State:            types.SpecStateSkipped, Failure: types.Failure{Message: msg}, ReportEntries: entries}
	}
	skipD := func(id string) types.ReportEntry {
		return entry("check:"+id+" strict", GinkgoCheck{ID: id, Status: StatusSkip, Critical: true, Measured: "–", Detail: "the target has no journal file"})
	}
	r := types.Report{SuiteLabels: []string{"gate:D"}, SpecReports: types.SpecReports{
		spec("strict", 34, "cuts a torn tail", NotApplicableSkip+"D60: no journal file\nD66: no journal file", skipD("D60"), skipD("D66")),
		spec("strict", 80, "refuses damage in the middle", "Spec skipped because Skip() was called in BeforeAll"),
		spec("other", 40, "first", "the backend has no KARMA"),
		spec("other", 50, "second", "Spec skipped because Skip() was called in BeforeAll"),
	}}
	gates := FromGinkgo([]types.Report{r})
	if len(gates) != 1 {
		t.Fatalf("gates = %+v", gates)
	}
	var names []string
	for _, c := range gates[0].Checks {
		names = append(names, c.Name)
	}
	want := []string{"other first", "other second", "D60 strict", "D66 strict"} // by file
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("checks %q, want %q: a later spec of a container whose BeforeAll explained every check is not reported again; of another container it is", names, want)
	}
}
