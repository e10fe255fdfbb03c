package harness

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/reports"

	"github.com/creditgate/creditgate/gates/audit"
)

// Ops is the client's whole recorded history (the one history type the
// audit judges).
func (e *Env) Ops() []audit.Op { return e.C.History.Ops() }

// AuditA runs every gate A check over the target's journal and the
// client's history and reports each as a check.
func (e *Env) AuditA(ctx context.Context, keyless bool) []audit.Finding {
	j, err := e.Journal(ctx)
	e.Check("journal readable", err == nil, errString(err), "no error", "the journal must be readable from the file or GET /api/credits/events", true)
	return audit.GateA(j, e.Ops(), audit.HistoryOptions{KeylessSent: keyless})
}

// ReportAll records every finding as a check, then fails the spec once if
// any did not hold, so the report lists them all.
func (e *Env) ReportAll(fs []audit.Finding, critical func(check string) bool) {
	var failed []string
	for _, f := range fs {
		status, repro := "pass", ""
		if !f.OK {
			status, repro = "fail", e.P.Repro(e.Gate)
			failed = append(failed, f.String())
		}
		AddReportEntry(reports.GinkgoCheckPrefix+f.Check, reports.GinkgoCheck{Status: status, Measured: f.Measured,
			Threshold: f.Threshold, Detail: detailOf(f), Repro: repro, Critical: critical(f.Check)}, ReportEntryVisibilityFailureOrVerbose)
	}
	if len(failed) > 0 {
		Fail(fmt.Sprintf("gate %s: %d check(s) failed:\n%s\nrepro: %s", e.Gate, len(failed), strings.Join(failed, "\n"), e.P.Repro(e.Gate)))
	}
}

func detailOf(f audit.Finding) string {
	detail := f.Detail
	for _, v := range f.Violations {
		detail += "\n  - " + v
	}
	if f.ViolationCount > len(f.Violations) {
		detail += "\n  … " + strconv.Itoa(f.ViolationCount-len(f.Violations)) + " more"
	}
	return detail
}

// Report records a finding as a check.
func (e *Env) Report(f audit.Finding, critical bool) {
	e.Check(f.Check, f.OK, f.Measured, f.Threshold, detailOf(f), critical)
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}
