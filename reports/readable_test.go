package reports

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestReadableRendersMapsAndListsAsSortedReadableLists(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]int{"fallback": 47, "cache": 3}, "cache: 3, fallback: 47"},
		{map[string]any{"b": 1.5, "a": []any{"x", "y"}}, "a: x, y, b: 1.5"},
		{map[string]int{}, "none"},
		{[]string{"k-1", "k-2"}, "k-1, k-2"},
		{[]int{}, "none"},
		{nil, ""},
		{"as is", "as is"},
		{2.0, "2"},
		{int64(7), "7"},
	} {
		if got := Readable(c.in); got != c.want {
			t.Errorf("Readable(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A gate that passes a map as the measured value gets a readable list in
// every report text, never Go's map[...] syntax nor JSON braces.
func TestMapValuedCheckRendersWithoutGoMapSyntaxInAnyReport(t *testing.T) {
	rep := types.Report{SuiteDescription: "Gate D", SuiteLabels: []string{"gate:D"}, SpecReports: types.SpecReports{{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "falls back", State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{entry("check:fallback recorded",
			GinkgoCheck{Status: "pass", Measured: map[string]int{"fallback": 47, "cache": 3}, Threshold: []string{"fallback", "cache"}})},
	}}}
	gates := FromGinkgo([]types.Report{rep})
	if len(gates) != 1 || len(gates[0].Checks) != 1 {
		t.Fatalf("FromGinkgo = %+v", gates)
	}
	c := gates[0].Checks[0]
	if c.Measured != "cache: 3, fallback: 47" || c.Threshold != "fallback, cache" {
		t.Errorf("measured %q threshold %q, want readable lists", c.Measured, c.Threshold)
	}
	s := &Summary{Timestamp: fixedTime, GateDetails: gates}
	Finalize(s)
	page, err := HTML(s)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"report.md": Markdown(s), "report.html": string(page)} {
		if strings.Contains(text, "map[") {
			t.Errorf("%s contains Go map syntax", name)
		}
		if !strings.Contains(text, "cache: 3, fallback: 47") {
			t.Errorf("%s lacks the readable measured value", name)
		}
	}
}

// Long details fold into <details> with their first line as the summary;
// short ones stay inline.
func TestLongCheckDetailsFoldInTheHTMLReport(t *testing.T) {
	long := "granted credits: " + strings.Repeat("agent-x: 500, ", 40)
	s := &Summary{Timestamp: fixedTime, GateDetails: []GateDetail{{ID: "B", Checks: []Check{
		{Name: "long", Status: StatusFail, Measured: "1", Threshold: "0", Detail: long},
		{Name: "short", Status: StatusPass, Measured: "0", Threshold: "0", Detail: "fits"},
	}}}}
	Finalize(s)
	page, err := HTML(s)
	if err != nil {
		t.Fatal(err)
	}
	p := string(page)
	if strings.Count(p, `<details class="fold">`) != 1 || !strings.Contains(p, "<summary>granted credits: agent-x") {
		t.Errorf("the long detail is not folded exactly once with its start as summary")
	}
	if !strings.Contains(p, `<span class="detail">fits</span>`) {
		t.Errorf("the short detail is not inline")
	}
}
