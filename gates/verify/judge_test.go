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
	return writeGateReport(t, "A", true, failed...)
}

// writeGateReport writes a run of one gate in which the given checks,
// critical or not, failed.
func writeGateReport(t *testing.T, gate string, critical bool, failed ...string) string {
	t.Helper()
	g := reports.GateDetail{ID: gate, Name: "gate " + gate, Status: reports.StatusPass, Critical: gate == "A" || gate == "B"}
	g.Checks = append(g.Checks, reports.Check{ID: gate + "1", Name: gate + "1 something", Status: reports.StatusPass})
	for _, id := range failed {
		g.Checks = append(g.Checks, reports.Check{ID: id, Name: id + " guard", Status: reports.StatusFail, Critical: critical})
		g.Status = reports.StatusFail
	}
	gates := []reports.GateDetail{g}
	for _, id := range reports.GateIDs {
		if id != gate { // not run: a partial run lists them too
			gates = append(gates, reports.GateDetail{ID: id, Name: "gate " + id, Status: reports.StatusSkip})
		}
	}
	b, err := json.Marshal(reports.Summary{GateDetails: gates, // a load that met its budgets
		Latency: &reports.Latency{Overall: reports.LatencyStats{P95: 1, Count: 1}},
		Load:    &reports.LoadStats{TargetRate: 1, AchievedRate: 1},
		Memory:  &reports.Memory{Samples: []reports.MemorySample{{TS: 0}, {TS: 1}}}})
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

// A bug that only a non-critical check guards against is rejected by the
// CONDITIONAL the SPEC's rules give a failed non-critical check, when its
// mutant says so; any other mutant still needs a NO-GO.
func TestAMutantOfANonCriticalCheckIsRejectedByTheVerdictItNames(t *testing.T) {
	conditional := writeGateReport(t, "E", false, "E7")
	if r := judgeMutant(mutants.Mutant{Name: "x", Gate: "e", Check: "E7", Verdict: reports.VerdictConditional}, conditional); !r.ok {
		t.Errorf("a failed non-critical E7 and Verdict CONDITIONAL: want rejected, got %+v", r)
	}
	r := judgeMutant(mutants.Mutant{Name: "x", Gate: "e", Check: "E7"}, conditional)
	if r.ok || !strings.Contains(r.note, "want NO-GO") {
		t.Errorf("a CONDITIONAL for a mutant that wants NO-GO: want a failure saying so, got %+v", r)
	}
	if r := judgeMutant(mutants.Mutant{Name: "x", Gate: "e", Check: "E7", Verdict: reports.VerdictConditional}, writeGateReport(t, "E", false)); r.ok {
		t.Errorf("nothing failed: want survived, got %+v", r)
	}
	// A critical failure beside it makes the run NO-GO: still rejected.
	if r := judgeMutant(mutants.Mutant{Name: "x", Gate: "e", Check: "E7", Verdict: reports.VerdictConditional}, writeGateReport(t, "E", true, "E7")); !r.ok {
		t.Errorf("Verdict CONDITIONAL, E7 failed and the run NO-GO: want rejected, got %+v", r)
	}
}
