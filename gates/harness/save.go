package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/reports"
)

// saveRunConfig writes the run's parameters beside the gate directories,
// where `creditgate gates` reads them for the summary. Boot writes it before
// the target starts (so a failed boot still names target and seed) and
// again once the routes are known.
func (e *Env) saveRunConfig() {
	fsync := e.TCfg.Env["CREDITD_FSYNC"] != "false"
	cfg := map[string]any{
		"test_config": reports.TestConfig{Concurrency: e.P.Concurrency, TestDuration: reports.Seconds(e.P.Duration.Seconds()),
			Seed: int64(e.P.Seed), Target: string(e.TCfg.Kind), Fsync: reports.Bool(fsync),
			KarmaEnabled: reports.Bool(e.P.KarmaEnabled), MLAnomalyInjection: reports.Bool(e.P.MLAnomalyInjection),
			RetryInjection: reports.Bool(e.P.RetryInjection), Profile: profile(e.P.Duration), Routes: e.routesLine()},
		"repro": strings.Replace(e.P.Repro(e.Gate), "make gate-"+strings.ToLower(e.Gate), "make gates", 1),
	}

	e.writeJSON(filepath.Join(filepath.Dir(e.OutDir), "run-config.json"), cfg)
}

func profile(d time.Duration) string {
	if d >= 10*time.Minute {
		return "full"
	}
	return "ci-short"
}

// SaveScenario records a scenario's outcome for the summary's scenarios list.
func (e *Env) SaveScenario(s reports.Scenario) {
	if s.Repro == "" {
		s.Repro = e.P.Repro(e.Gate)
	}
	name := strings.NewReplacer(" ", "-", "/", "-").Replace(strings.ToLower(s.Name))
	e.writeJSON(filepath.Join(e.OutDir, "scenario-"+name+".json"), s)
}

// ScenarioStatus maps whether a scenario's invariants held to its status.
func ScenarioStatus(ok bool) string {
	if ok {
		return reports.ScenarioPassed
	}
	return reports.ScenarioFailed
}

// SaveFacts records the gate's critical counters (negative balances,
// idempotency violations, multiple final decisions, crashes on outage).
func (e *Env) SaveFacts(f reports.Facts) {
	e.writeJSON(filepath.Join(e.OutDir, "facts.json"), f)
}

// SaveHistory writes the client history as JSONL, and its fault windows
// beside it (FaultsFile) when any fault was injected.
func (e *Env) SaveHistory() {
	e.saveWindows(e.OutDir)
	f, err := os.Create(filepath.Join(e.OutDir, "history.jsonl"))
	if err != nil {
		ginkgo.GinkgoWriter.Printf("saving the history: %v\n", err)
		return
	}
	defer f.Close()
	_ = e.C.History.WriteJSONL(f)
}

func (e *Env) writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		ginkgo.GinkgoWriter.Printf("saving %s: %v\n", path, err)
	}
}

func (e *Env) routesLine() string {
	if e.Routes.served == nil {
		return ""
	}
	return e.Routes.Summary()
}
