package reports

import (
	"encoding/json"
	"strings"
	"testing"
)

func informational(s *Summary) {
	s.Memory.Informational = true
	s.Memory.SteadyStateFromS, s.Memory.SteadyStateUntilS = 0, 0
	s.Memory.Samples = []MemorySample{{TS: 10}, {TS: 20}, {TS: 30}}
}

func withMemory(slope float64) func(*Summary) {
	return func(s *Summary) {
		s.Memory = &Memory{SlopeMBPerMin: slope, Samples: []MemorySample{{TS: 0, RSSBytes: 1}, {TS: 60, RSSBytes: 1}}}
	}
}

func withP95(ms float64) func(*Summary) {
	return func(s *Summary) { s.Latency.Overall.P95 = ms }
}

func failScenarios(n int) func(*Summary) {
	return func(s *Summary) {
		for i := 0; i < n; i++ {
			s.Scenarios[i].Status = ScenarioFailed
		}
	}
}

func setCheck(gate string, i int, c Check) func(*Summary) {
	return func(s *Summary) { s.Gate(gate).Checks[i] = c }
}

func addCheck(gate string, c Check) func(*Summary) {
	return func(s *Summary) { g := s.Gate(gate); g.Checks = append(g.Checks, c); g.Status = deriveStatus(g.Checks) }
}

func removeGate(id string) func(*Summary) {
	return func(s *Summary) {
		var keep []GateDetail
		for _, g := range s.GateDetails {
			if g.ID != id {
				keep = append(keep, g)
			}
		}
		s.GateDetails = keep
	}
}

func TestDecideAppliesEveryVerdictRuleAndBoundary(t *testing.T) {
	failed := Check{Name: "x", Status: "fail", Measured: "1", Threshold: "0"}
	cases := []struct {
		name   string
		mutate []func(*Summary)
		want   string
		reason string // substring of some reason
	}{
		{"complete passing run is GO", nil, VerdictGo, "all scenarios and gates pass"},

		// Scenarios.
		{"one failed non-critical scenario is CONDITIONAL", []func(*Summary){failScenarios(1)}, VerdictConditional, "1 scenario(s) failed"},
		{"two failed non-critical scenarios are CONDITIONAL", []func(*Summary){failScenarios(2)}, VerdictConditional, "2 scenario(s) failed"},
		{"three failed scenarios are NO-GO", []func(*Summary){failScenarios(3)}, VerdictNoGo, "3 scenarios failed"},
		{"a failed critical scenario is NO-GO", []func(*Summary){failScenarios(1), func(s *Summary) { s.Scenarios[0].Critical = true }}, VerdictNoGo, "critical scenario"},
		{"a passed scenario with broken invariants counts as failed", []func(*Summary){func(s *Summary) { s.Scenarios[0].InvariantsPassed = false }}, VerdictConditional, "1 scenario(s) failed"},
		{"a skipped scenario is CONDITIONAL", []func(*Summary){func(s *Summary) { s.Scenarios[5].Status = ScenarioSkipped }}, VerdictConditional, "skipped"},
		{"no scenarios recorded is CONDITIONAL", []func(*Summary){func(s *Summary) { s.Scenarios = nil }}, VerdictConditional, "no scenario results"},
		{"an unknown scenario status counts as failed", []func(*Summary){func(s *Summary) { s.Scenarios[0].Status = "flaky" }}, VerdictConditional, "1 scenario(s) failed"},

		// Gates A and B.
		{"gate A failing a non-critical check is NO-GO", []func(*Summary){setCheck("A", 1, failed)}, VerdictNoGo, "gate A (Event Integrity) failed"},
		{"gate B failing is NO-GO", []func(*Summary){setCheck("B", 0, failed)}, VerdictNoGo, "gate B (Projection Integrity) failed"},
		{"gate A warning is NO-GO", []func(*Summary){setCheck("A", 1, Check{Name: "w", Status: "warn"})}, VerdictNoGo, "A and B must pass"},
		{"gate B not run is NO-GO", []func(*Summary){removeGate("B")}, VerdictNoGo, "gate B (Projection Integrity) not verified"},
		{"gate A false in the original gates map is NO-GO", []func(*Summary){removeGate("A"), func(s *Summary) { s.Gates = map[string]bool{"A - Event Integrity": false} }}, VerdictNoGo, "gate A (Event Integrity) failed"},
		{"a non-critical check skipped inside gate A does not hold GO back (the report lists it)", []func(*Summary){setCheck("A", 1, Check{Name: "s", Status: "skip"})}, VerdictGo, "[GO]"},
		{"a critical check N/A (route missing) is INCOMPLETE, naming the route", []func(*Summary){setCheck("A", 1, Check{Name: "A16 conflict", Status: StatusNA, Critical: true, Detail: "the backend does not serve POST /api/credits/withdraw (probe answered 404)"})}, VerdictIncomplete, "POST /api/credits/withdraw"},
		{"a critical check measured over nothing is INCOMPLETE, never GO", []func(*Summary){setCheck("C", 0, Check{Name: "RT3 decisions", Status: StatusNotMeasured, Critical: true, Detail: "nothing to judge (0 samples)"})}, VerdictIncomplete, "0 samples"},
		{"a measured failure beside an unmeasured critical check is NO-GO", []func(*Summary){
			setCheck("C", 0, Check{Name: "RT3 decisions", Status: StatusNotMeasured, Critical: true}),
			setCheck("A", 1, Check{Name: "A11 retry moved money", Status: StatusFail, Critical: true})}, VerdictNoGo, "A11 retry moved money"},

		{"a non-critical failure beside an unmeasured critical check is NO-GO, never INCOMPLETE (nothing measured may have failed)", []func(*Summary){
			setCheck("C", 0, Check{Name: "C31 acting principal", Status: StatusSkip, Critical: true, Detail: "skipped: tokens"}),
			setCheck("D", 1, Check{Name: "C35 audit lists every decided request", Status: StatusFail})}, VerdictNoGo, "while critical checks went unmeasured"},

		// Gates C, D, E.
		{"gate C warning is CONDITIONAL", []func(*Summary){setCheck("C", 0, Check{Name: "w", Status: "warn"})}, VerdictConditional, "gate C (Human Gate Safety) warns"},
		{"gate D failing a non-critical check is CONDITIONAL", []func(*Summary){setCheck("D", 1, failed)}, VerdictConditional, "failed non-critical check"},
		{"gate C failing a critical check is NO-GO", []func(*Summary){setCheck("C", 0, Check{Name: "one decision", Status: "fail", Critical: true, Measured: "2", Threshold: "≤ 1"})}, VerdictNoGo, `critical check "one decision" failed: measured 2, threshold ≤ 1`},
		{"gate E failing a critical check is NO-GO", []func(*Summary){setCheck("E", 0, Check{Name: "c", Status: "fail", Critical: true})}, VerdictNoGo, "critical check"},
		{"gate D failed without check detail is NO-GO", []func(*Summary){removeGate("D"), func(s *Summary) { s.Gates = map[string]bool{"D - Failure Safety": false} }}, VerdictNoGo, "without check detail"},
		{"gate E not run is CONDITIONAL", []func(*Summary){removeGate("E")}, VerdictConditional, "gate E (Load Reality) not verified: not run"},
		{"an unknown check status counts as a failure", []func(*Summary){setCheck("D", 1, Check{Name: "?", Status: "weird"})}, VerdictConditional, "failed non-critical check"},

		// No hidden evidence: later checks and skipped specs.
		{"a critical failure after a non-critical failure in gate D is NO-GO", []func(*Summary){
			setCheck("D", 1, Check{Name: "KARMA slow: max consume latency", Status: "fail", Measured: "520 ms", Threshold: "≤ 500ms"}),
			addCheck("D", Check{Name: "torn tail: first append after recovery survives a restart", Status: "fail", Measured: "false", Threshold: "true", Critical: true}),
		}, VerdictNoGo, `critical check "torn tail: first append after recovery survives a restart" failed`},
		{"the non-critical failure before a critical one is still listed", []func(*Summary){
			setCheck("D", 1, Check{Name: "KARMA slow: max consume latency", Status: "fail", Measured: "520 ms", Threshold: "≤ 500ms"}),
			addCheck("D", Check{Name: "anomalous consumes blocked", Status: "fail", Measured: "3", Threshold: "0", Critical: true}),
		}, VerdictNoGo, `KARMA slow: max consume latency`},
		{"a critical spec skipped because an earlier spec failed is NO-GO", []func(*Summary){
			setCheck("D", 1, Check{Name: "KARMA slow: max consume latency", Status: "fail", Measured: "520 ms", Threshold: "≤ 500ms"}),
			addCheck("D", Check{Name: "kill -9 mid-load loses no acknowledged mutation", Status: "skip", Critical: true, Blocked: true,
				Detail: "not run: Spec skipped because an earlier spec in an ordered container failed"}),
		}, VerdictNoGo, `critical check "kill -9 mid-load loses no acknowledged mutation" was not verified: not run: Spec skipped because`},
		{"a critical spec not run because the suite timed out is NO-GO", []func(*Summary){
			addCheck("C", Check{Name: "crash mid-race", Status: "skip", Critical: true, Blocked: true, Detail: "not run: the suite stopped before it (Interrupted by Timeout)"}),
		}, VerdictNoGo, "Interrupted by Timeout"},
		{"a critical spec skipped for a capability the target lacks is INCOMPLETE, never GO, with its reason", []func(*Summary){
			addCheck("D", Check{Name: "kill -9 mid-load", Status: "skip", Critical: true, Detail: "skipped: url target: the harness cannot kill it"}),
		}, VerdictIncomplete, `critical "kill -9 mid-load" (skipped: url target: the harness cannot kill it)`},
		{"a non-critical spec blocked by an earlier failure is CONDITIONAL", []func(*Summary){
			addCheck("D", Check{Name: "corruption reported", Status: "skip", Blocked: true, Detail: "not run: Spec skipped because a BeforeAll node failed"}),
		}, VerdictConditional, "a BeforeAll node failed"},
		{"a gate whose specs were all skipped names each reason", []func(*Summary){func(s *Summary) {
			g := s.Gate("E")
			g.Checks = []Check{{Name: "load", Status: "skip", Detail: "skipped: LIVE_TEST_DURATION=0"}}
			g.Status = StatusSkip
		}}, VerdictConditional, `gate E (Load Reality) not verified: nothing measured: "load" (skipped: LIVE_TEST_DURATION=0)`},
		{"a skipped critical check in gate A blocked by a failure is NO-GO", []func(*Summary){
			addCheck("A", Check{Name: "retries return the original event", Status: "skip", Critical: true, Blocked: true, Detail: "not run: Spec skipped because a BeforeAll node failed"}),
		}, VerdictNoGo, "was not verified"},

		// Critical facts.
		{"a negative balance is NO-GO", []func(*Summary){func(s *Summary) { s.Facts.NegativeBalances = 1 }}, VerdictNoGo, "negative balance"},
		{"an idempotency violation is NO-GO", []func(*Summary){func(s *Summary) { s.Facts.IdempotencyViolations = 1 }}, VerdictNoGo, "idempotency violation"},
		{"more than one final decision is NO-GO", []func(*Summary){func(s *Summary) { s.Facts.MultipleFinalDecisions = 1 }}, VerdictNoGo, "more than one final decision"},
		{"a crash on a dependency outage is NO-GO", []func(*Summary){func(s *Summary) { s.Facts.CrashesOnOutage = 1 }}, VerdictNoGo, "crash(es) on a dependency outage"},
		{"replay drift is NO-GO", []func(*Summary){func(s *Summary) { s.Facts.ReplayDriftEvents = 3 }}, VerdictNoGo, "drift"},

		// P95 boundaries.
		{"P95 just below 500 ms is GO", []func(*Summary){withP95(499.999)}, VerdictGo, ""},
		{"P95 exactly 500 ms is CONDITIONAL", []func(*Summary){withP95(500)}, VerdictConditional, "P95 overall is 500 ms"},
		{"P95 exactly 1000 ms is CONDITIONAL", []func(*Summary){withP95(1000)}, VerdictConditional, "within 500–1000 ms"},
		{"P95 above 1000 ms is NO-GO", []func(*Summary){withP95(1000.001)}, VerdictNoGo, "> 1000 ms"},
		{"P95 of one endpoint counts", []func(*Summary){func(s *Summary) { s.Latency.PerEndpoint["POST /consume"] = LatencyStats{P95: 600, Count: 10} }}, VerdictConditional, "P95 of POST /consume is 600 ms"},
		{"latency not measured is CONDITIONAL", []func(*Summary){func(s *Summary) { s.Latency = nil }}, VerdictConditional, "latency not measured"},

		// Memory boundaries.
		{"memory trend 0.0999 MB/min is GO", []func(*Summary){withMemory(0.0999)}, VerdictGo, ""},
		{"memory trend exactly 0.1 MB/min is CONDITIONAL", []func(*Summary){withMemory(0.1)}, VerdictConditional, "not below 0.1"},
		{"memory trend 0.4999 MB/min is CONDITIONAL", []func(*Summary){withMemory(0.4999)}, VerdictConditional, "0.4999"},
		{"memory trend exactly 0.5 MB/min is NO-GO", []func(*Summary){withMemory(0.5)}, VerdictNoGo, "CONDITIONAL ceiling"},
		{"memory trend exactly 1.0 MB/min is NO-GO", []func(*Summary){withMemory(1.0)}, VerdictNoGo, "CONDITIONAL ceiling"},
		{"memory trend above 1.0 MB/min is NO-GO", []func(*Summary){withMemory(1.0001)}, VerdictNoGo, "> 1 MB/min"},
		{"shrinking memory is GO", []func(*Summary){withMemory(-0.3)}, VerdictGo, ""},
		{"an informational short-run trend of 9 MB/min is GO with a caveat", []func(*Summary){withMemory(9), informational}, VerdictGo, ""},
		{"an informational short-run trend above the gross-leak bound is NO-GO", []func(*Summary){withMemory(20.5), informational}, VerdictNoGo, "gross leak"},
		{"a short run's trend through fewer than 3 samples is not measured, never a gross leak", []func(*Summary){withMemory(50), informational,
			func(s *Summary) { s.Memory.Samples = s.Memory.Samples[:2] }}, VerdictConditional, "memory trend not measured"},
		{"memory not measured is CONDITIONAL", []func(*Summary){func(s *Summary) { s.Memory = nil }}, VerdictConditional, "memory trend not measured"},
		{"a CONDITIONAL reason with memory at 0.5 is NO-GO", []func(*Summary){failScenarios(1), withMemory(0.5)}, VerdictNoGo, "1 scenario(s) failed"},

		// Duration.
		{"running 99% of the planned duration is GO", []func(*Summary){func(s *Summary) { s.Load.DurationS = 594 }}, VerdictGo, ""},
		{"stopping before 99% of the planned duration is NO-GO", []func(*Summary){func(s *Summary) { s.Load.DurationS = 593.9 }}, VerdictNoGo, "run stopped early"},
		{"load not measured is CONDITIONAL", []func(*Summary){func(s *Summary) { s.Load = nil }}, VerdictConditional, "load not measured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := goSummary(t)
			for _, m := range tc.mutate {
				m(s)
			}
			before, _ := json.Marshal(s)
			got, reasons := Decide(s)
			after, _ := json.Marshal(s)
			if string(before) != string(after) {
				t.Fatal("Decide modified its input")
			}
			if got != tc.want {
				t.Fatalf("verdict = %s, want %s; reasons:\n%s", got, tc.want, strings.Join(reasons, "\n"))
			}
			if len(reasons) == 0 {
				t.Fatal("a verdict without reasons")
			}
			if tc.reason != "" && !strings.Contains(strings.Join(reasons, "\n"), tc.reason) {
				t.Fatalf("no reason contains %q:\n%s", tc.reason, strings.Join(reasons, "\n"))
			}
			// Every reason names the verdict it causes; the first names the verdict itself.
			if !strings.HasPrefix(reasons[0], "["+got+"] ") {
				t.Fatalf("first reason %q does not start with [%s]", reasons[0], got)
			}
		})
	}
}

func TestDecideListsBlockersBeforeConditions(t *testing.T) {
	s := goSummary(t)
	failScenarios(1)(s)
	s.Facts.NegativeBalances = 1
	_, reasons := Decide(s)
	if len(reasons) != 2 || !strings.HasPrefix(reasons[0], tagNoGo) || !strings.HasPrefix(reasons[1], tagConditional) {
		t.Fatalf("reasons = %q", reasons)
	}
}

func TestExitCodeFollowsVerdict(t *testing.T) {
	for v, want := range map[string]int{VerdictGo: 0, VerdictNoGo: 1, VerdictConditional: 2, VerdictIncomplete: 3, "": 1, "maybe": 1} {
		if got := ExitCode(v); got != want {
			t.Errorf("ExitCode(%q) = %d, want %d", v, got, want)
		}
	}
}

func TestFinalizeDerivesGatesMapAndRecommendation(t *testing.T) {
	s := noGoSummary(t)
	Finalize(s)
	if s.OverallStatus != VerdictNoGo || s.Recommendation != RecommendNoGo {
		t.Fatalf("status %s, recommendation %q", s.OverallStatus, s.Recommendation)
	}
	want := map[string]bool{"A - Event Integrity": false, "B - Projection Integrity": true, "C - Human Gate Safety": true,
		"D - Failure Safety": true, "E - Load Reality": true}
	for k, v := range want {
		if got, ok := s.Gates[k]; !ok || got != v {
			t.Errorf("gates[%q] = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if g := s.Gate("C"); g.Status != StatusWarn || g.Critical {
		t.Errorf("gate C = %s critical %v, want warn non-critical", g.Status, g.Critical)
	}
	if !s.Gate("A").Critical || !s.Gate("B").Critical {
		t.Error("gates A and B must be critical")
	}
	// Finalize is idempotent: a re-render of a saved summary changes nothing.
	first, _ := MarshalSummary(s)
	Finalize(s)
	second, _ := MarshalSummary(s)
	if string(first) != string(second) {
		t.Error("Finalize is not idempotent")
	}
}
