package harness

import (
	"context"
	"strconv"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/load"
)

// Ops converts the client history into the audit's operations: a retry or
// concurrent duplicate points at the first request with its key, and a
// "noop" acknowledgement (repeated collaboration id) must write nothing.
func Ops(entries []load.HistoryEntry) []audit.Op {
	first := map[string]string{}
	ops := make([]audit.Op, 0, len(entries))
	for _, e := range entries {
		op := audit.Op{OpID: strconv.FormatUint(e.OpID, 10), Kind: string(e.Kind), IdempotencyKey: e.IdempotencyKey,
			CallNs: e.CallNs, ReturnNs: e.ReturnNs, Status: e.Status, Outcome: audit.Outcome(e.Outcome), EventID: e.EventID,
			NoEvent: e.Role == scenarios.RoleNoop}
		if e.IdempotencyKey != "" {
			if orig, ok := first[e.IdempotencyKey]; ok && (e.Role == "retry" || e.Role == "concurrent_duplicate") {
				op.RetryOf = orig
			} else if !ok {
				first[e.IdempotencyKey] = op.OpID
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// AuditA runs every gate A check over the target's journal and the
// client's history and reports each as a check.
func (e *Env) AuditA(ctx context.Context, keyless bool) []audit.Finding {
	j, err := e.Journal(ctx)
	e.Check("journal readable", err == nil, errString(err), "no error", "the journal must be readable from the file or GET /api/credits/events", true)
	if err != nil {
		return nil // nothing to audit; the failed check above says why
	}
	return audit.GateA(j, Ops(e.C.History.Entries()), audit.HistoryOptions{KeylessSent: keyless})
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
