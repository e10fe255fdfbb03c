package harness

import (
	"context"
	"strconv"

	. "github.com/onsi/gomega"

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
	if err != nil {
		return nil // nothing to audit; the failed check above says why
	}
	return audit.GateA(j, e.Ops(), audit.HistoryOptions{KeylessSent: keyless})
}

// ReportAll records every finding as a check; like Check, a finding that
// does not hold fails the spec after its body, never before the next check.
func (e *Env) ReportAll(fs []audit.Finding, critical func(check string) bool) {
	for _, f := range fs {
		e.Check(f.Check, f.OK, f.Measured, f.Threshold, detailOf(f), critical(f.Check))
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

// FoldAndCompare folds the target's whole journal with the reference model
// and compares it with the API (every read route, per-entity ones included):
// the gate B findings, each check named with " (when)" so repeated
// comparisons stay apart in the report. The caller reports them.
func (e *Env) FoldAndCompare(ctx context.Context, when string) ([]audit.Finding, *audit.Model) {
	j, err := e.FullJournal(ctx)
	Expect(err).NotTo(HaveOccurred(), "reading the journal "+when)
	m := audit.Fold(j)
	api, err := audit.FetchAPIState(ctx, e.T.BaseURL(), e.T.Token(), nil)
	Expect(err).NotTo(HaveOccurred(), "reading the API state "+when)
	Expect(audit.FetchEntities(ctx, e.T.BaseURL(), e.T.Token(), m, &api)).To(Succeed(), "reading balances, pools, missions and approvals "+when)
	fs := audit.GateB(j, m, api, audit.GateBOptions{})
	for i := range fs {
		fs[i].Check += " (" + when + ")"
	}
	return fs, m
}
