package signoff

import (
	"bytes"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/reports"
)

func TestParseGatesAcceptsOnlyAThroughE(t *testing.T) {
	got, err := ParseGates(" A, b ,e")
	if err != nil || strings.Join(got, ",") != "a,b,e" {
		t.Fatalf("ParseGates(\" A, b ,e\") = %v, %v; want a,b,e", got, err)
	}
	for _, bad := range []string{"", "f", "a,,b", "ab", "a;b"} {
		if _, err := ParseGates(bad); err == nil {
			t.Errorf("ParseGates(%q) accepted a gate that does not exist", bad)
		}
	}
}

// The verdict block is what a CI log shows: every check that did not pass
// with what was measured against what, and the repro line unless GO.
func TestPrintVerdictNamesEveryCheckThatDidNotPassAndTheRepro(t *testing.T) {
	s := &reports.Summary{OverallStatus: reports.VerdictNoGo, VerdictReasons: []string{"gate B failed"}}
	s.Facts.ReproCommand = "LIVE_TEST_SEED=7 make gate-b"
	s.GateDetails = []reports.GateDetail{{ID: "B", Name: "Projection Integrity", Status: "fail", Checks: []reports.Check{
		{Name: "B5 no overdraft", Status: reports.StatusFail, Measured: "3", Threshold: "0"},
		{Name: "B6 fine", Status: reports.StatusPass, Measured: "0", Threshold: "0"},
		{Name: "B7 not here", Status: reports.StatusSkip, Detail: "no journal file"},
	}}}
	var b bytes.Buffer
	PrintVerdict(&b, s, "out/x")
	out := b.String()
	for _, want := range []string{"verdict: NO-GO", "B5 no overdraft: measured 3, threshold 0", "SKIP  B7 not here: no journal file",
		"- gate B failed", "repro: LIVE_TEST_SEED=7 make gate-b", "out/x/report.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("verdict block lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "B6 fine") {
		t.Errorf("a passing check is listed:\n%s", out)
	}
}

// The catalog spells some IDs with a lower-case suffix (CL6a): --checks
// used to upper-case every ID and so refused them.
func TestParseChecksFindsEveryCatalogIDWhateverItsCase(t *testing.T) {
	ids, err := ParseChecks("a16, CL6a,cl7B")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "A16,CL6a,CL7b" {
		t.Fatalf("ParseChecks = %s, want A16,CL6a,CL7b", got)
	}
	if _, err := ParseChecks("CL99"); err == nil {
		t.Fatal("an ID the catalog does not declare was accepted")
	}
}
