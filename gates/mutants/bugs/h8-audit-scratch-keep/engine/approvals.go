//go:build mutant

// Seeded bug h8-audit-scratch-keep (blind hunt 8, in our engine): when decided requests were evicted
// from memory, the audit folds the journal again into a scratch projection, but that scratch keeps
// only as many decided requests as memory does (the configured bound), not as many as the audit asked
// for: every request decided before the newest CREDITD_APPROVALS_KEEP is missing from the audit.
// Breaks SPEC §5 (the audit endpoint lists every request with its decision event ids). A client sees,
// with CREDITD_APPROVALS_KEEP=2: decide three requests, GET /approvals/audit → two of them.

package engine

import (
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/projection"
)

// AuditApprovals: the scratch keeps memory's bound.
func (e *Engine) AuditApprovals(newest int) ([]projection.Approval, error) {
	var out []projection.Approval
	var evicted int
	err := e.read(func(st *projection.State) {
		out = st.Approvals("")
		evicted = st.EvictedDecided()
	})
	if err != nil || evicted == 0 || newest <= e.cfg.Projection.DecidedKeepOrDefault() {
		return decidedOnly(out), err
	}
	cfg := e.cfg.Projection
	scratch := projection.New(cfg)
	var ferr error
	if err := e.iterate(0, func(_ []byte, ev *event.Envelope) bool {
		ferr = scratch.Apply(ev)
		return ferr == nil
	}); err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	return decidedOnly(scratch.Approvals("")), nil
}
