package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/gates/mutants"
	"github.com/creditgate/creditgate/reports"
)

// writeReport writes a gate A run in which the given checks failed.
func writeReport(t *testing.T, failed ...string) string {
	t.Helper()
	g := reports.GateDetail{ID: "A", Name: "gate A", Status: reports.StatusPass, Critical: true}
	g.Checks = append(g.Checks, reports.Check{ID: "A1", Name: "A1 something", Status: reports.StatusPass})
	for _, id := range failed {
		g.Checks = append(g.Checks, reports.Check{ID: id, Name: id + " guard", Status: reports.StatusFail, Critical: true})
		g.Status = reports.StatusFail
	}
	b, err := json.Marshal(reports.Summary{GateDetails: []reports.GateDetail{g}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, reports.SummaryFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A mutant is rejected only by a NO-GO in which a check it names failed;
// a NO-GO by another check is "caught by the wrong check", a failure.
func TestAMutantCountsAsRejectedOnlyWhenTheCheckItNamesFails(t *testing.T) {
	m := mutants.Mutant{Name: "x", Gate: "a", Check: "A9,A11"}
	if r := judgeMutant(m, writeReport(t, "A11")); !r.ok {
		t.Errorf("A11 failed (named second): want rejected, got %+v", r)
	}
	r := judgeMutant(m, writeReport(t, "A5"))
	if r.ok || !strings.Contains(r.note, "caught by the wrong check") {
		t.Errorf("only A5 failed: want a wrong-check failure, got %+v", r)
	}
	if r := judgeMutant(m, writeReport(t)); r.ok {
		t.Errorf("nothing failed: want survived, got %+v", r)
	}
	if r := judgeMutant(m, t.TempDir()); r.ok || !strings.Contains(r.note, "no report") {
		t.Errorf("no report: want a failure saying so, got %+v", r)
	}
}
