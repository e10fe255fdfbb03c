package harness

import (
	"context"
	"strconv"

	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
)

// Ops is the client's whole recorded history (the one history type the
// audit judges).
func (e *Env) Ops() []audit.Op { return e.C.History.Ops() }

// AuditA runs every gate A check over the target's journal and the
// client's history and reports each as a check.
//
// Without a readable journal (no file of our engine, no GET /events) the
// audit does not run: A23 and the caller's Record calls say SKIP.
func (e *Env) AuditA(ctx context.Context, keyless bool) []audit.Finding {
	if !e.Applies("A23") {
		e.Record("A23", Measure{})
		return nil
	}
	j, err := e.Journal(ctx)
	e.Record("A23", Measure{OK: err == nil, Samples: 1, Measured: errString(err), Threshold: "no error",
		Detail: "the journal must be readable from the file or GET /api/credits/events"})
	if err != nil {
		return nil // nothing to audit; the failed check above says why
	}
	return audit.GateA(j, e.Ops(), audit.HistoryOptions{KeylessSent: keyless})
}

// RecordFinding records an audit finding against the catalog check its
// name starts with ("A8 …"); variant tells repeated audits apart.
func (e *Env) RecordFinding(f audit.Finding, variant string) {
	e.Record(catalog.IDOf(f.Check), Measure{OK: f.OK, Samples: f.Samples, Measured: f.Measured,
		Threshold: f.Threshold, Detail: detailOf(f), Variant: variant})
}

// RecordFindings records every finding (see RecordFinding).
func (e *Env) RecordFindings(fs []audit.Finding, variant string) {
	for _, f := range fs {
		e.RecordFinding(f, variant)
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

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// FoldAndCompare folds the target's whole journal with the reference model
// and compares it with the API (every read route, per-entity ones included):
// the gate B findings. The caller records them with RecordFindings(fs, when)
// so repeated comparisons stay apart in the report.
func (e *Env) FoldAndCompare(ctx context.Context, when string) ([]audit.Finding, *audit.Model) {
	j, err := e.FullJournal(ctx)
	Expect(err).NotTo(HaveOccurred(), "reading the journal "+when)
	m := audit.Fold(j)
	api, err := audit.FetchAPIState(ctx, e.T.BaseURL(), e.T.Token(), nil)
	Expect(err).NotTo(HaveOccurred(), "reading the API state "+when)
	Expect(audit.FetchEntities(ctx, e.T.BaseURL(), e.T.Token(), m, &api)).To(Succeed(), "reading balances, pools, missions and approvals "+when)
	return audit.GateB(j, m, api, audit.GateBOptions{}), m
}
