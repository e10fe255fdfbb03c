package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/chaos/karmastub"
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
	m := audit.FoldWith(j, e.Formulas())
	api, err := audit.FetchAPIState(ctx, e.T.BaseURL(), e.T.Token(), nil)
	Expect(err).NotTo(HaveOccurred(), "reading the API state "+when)
	Expect(audit.FetchEntities(ctx, e.T.BaseURL(), e.T.Token(), m, &api)).To(Succeed(), "reading balances, pools, missions and approvals "+when)
	api.AllFields = e.TCfg.Kind.OwnEngine()
	return audit.GateB(j, m, api, audit.GateBOptions{}), m
}

// Formulas are the documented parameters the reference model folds with,
// and the score KARMA serves each agent where the harness runs KARMA (its
// stub's, from the run's seed).
func (e *Env) Formulas() audit.FormulaParams {
	p := audit.DefaultFormulas()
	if e.Karma != nil {
		seed := int64(e.P.Seed)
		p.KarmaScoreOf = func(agent string) float64 { return karmastub.ScoreFor(seed, agent) }
	}
	return p
}

// Serves reports whether the backend serves every route, and names the
// ones it does not.
func (e *Env) Serves(routes ...string) (bool, []string) {
	var missing []string
	for _, r := range routes {
		if !e.Routes.Has(r) {
			missing = append(missing, r)
		}
	}
	return len(missing) == 0, missing
}

// StateOf is what a refused request must leave unchanged, read through the
// backend's own routes: the digest and last seq (GET /digest) where it
// serves them, else the balances (GET /balances, the original's route) of
// this suite's agents — on a shared url target only those under its
// namespace, so other clients' writes do not count. ok is false when the
// backend serves neither or the read failed; how says which route was read.
func (e *Env) StateOf(ctx context.Context) (state, how string, ok bool) {
	switch {
	case e.Routes.Has(catalog.Digest):
		r := e.C.Get(ctx, "/api/credits/digest")
		if !r.OK() {
			return fmt.Sprintf("GET /digest answered %d", r.Status), "GET /api/credits/digest", false
		}
		return fmt.Sprintf("seq %v digest %v", r.Body["seq"], r.Body["digest"]), "GET /api/credits/digest", true
	case e.Routes.Has(catalog.Balances):
		r := e.C.Get(ctx, "/api/credits/balances")
		if !r.OK() {
			return fmt.Sprintf("GET /balances answered %d", r.Status), "GET /api/credits/balances", false
		}
		all, _ := r.Body["balances"].(map[string]any)
		own := map[string]any{}
		for id, v := range all {
			if strings.HasPrefix(id, e.NS) {
				own[id] = v
			}
		}
		b, _ := json.Marshal(own) // map keys sorted: a canonical form
		return string(b), "GET /api/credits/balances", true
	}
	return "", "neither GET /api/credits/digest nor GET /api/credits/balances", false
}

// Only keeps the findings of the listed checks (a judge that decides
// checks of two gates records each gate's in its own suite).
func Only(fs []audit.Finding, ids ...string) []audit.Finding {
	var out []audit.Finding
	for _, f := range fs {
		for _, id := range ids {
			if catalog.IDOf(f.Check) == id {
				out = append(out, f)
			}
		}
	}
	return out
}
