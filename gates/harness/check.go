package harness

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/reports"
)

// Check records one gate check — measured value beside its threshold — as a
// "check:<name>" report entry (the convention reports.FromGinkgo reads) and
// fails the spec, printing the repro line, when it does not hold. critical
// marks violations that decide NO-GO on their own (negative balance,
// idempotency violation, two final decisions, crash on an outage).
func (e *Env) Check(name string, ok bool, measured, threshold any, detail string, critical bool) {
	status, repro := "pass", ""
	if !ok {
		status, repro = "fail", e.P.Repro(e.Gate)
	}
	AddReportEntry(reports.GinkgoCheckPrefix+name, reports.GinkgoCheck{Status: status, Measured: measured,
		Threshold: threshold, Detail: detail, Repro: repro, Critical: critical}, ReportEntryVisibilityFailureOrVerbose)
	Expect(ok).To(BeTrue(), fmt.Sprintf("gate %s check %q failed: measured %v, threshold %v. %s\nrepro: %s",
		e.Gate, name, measured, threshold, detail, e.P.Repro(e.Gate)))
}

// Warn records a check that did not hold but does not fail the gate (it
// makes the verdict CONDITIONAL at most).
func (e *Env) Warn(name string, ok bool, measured, threshold any, detail string) {
	status, repro := "pass", ""
	if !ok {
		status, repro = "warn", e.P.Repro(e.Gate)
	}
	AddReportEntry(reports.GinkgoCheckPrefix+name, reports.GinkgoCheck{Status: status, Measured: measured,
		Threshold: threshold, Detail: detail, Repro: repro}, ReportEntryVisibilityFailureOrVerbose)
}
