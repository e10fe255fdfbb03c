package harness

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// Measure is what a spec measured for one catalog check.
type Measure struct {
	OK bool
	// Samples is how many things were judged (requests, keys, decisions,
	// agents, probes). 0 is NOT MEASURED: a check never passes on nothing.
	Samples   int
	Measured  any
	Threshold any
	Detail    string
	// Variant tells repeated recordings of one check apart (a KARMA mode, a
	// corruption kind, "after a clean restart").
	Variant string
	// Warn makes a failure a warning (CONDITIONAL at most), for checks whose
	// severity depends on the value (a P95 between 500 and 1000 ms).
	Warn bool
	// Unavailable, with Samples 0, says the target lacks what would have
	// produced samples (e.g. a fault that makes writes fail): SKIP with this
	// reason instead of NOT MEASURED.
	Unavailable string
}

// Record records one measurement of a catalog check as a "check:<ID title>"
// report entry (the convention reports.FromGinkgo reads). The catalog alone
// decides criticality and whether the check applies: a capability the
// target lacks records SKIP with the remedy, a route the backend does not
// serve records N/A naming it, and a measurement over nothing records NOT
// MEASURED. A check that fails does not stop the spec: the spec fails once,
// after its body, listing every failed check with the repro line.
func (e *Env) Record(id string, m Measure) {
	c := catalog.MustLookup(id)
	checkLabelled(c.ID)
	if !e.inScope(c) {
		return // about another kind of target: not listed at all
	}
	name := c.Name()
	if m.Variant != "" {
		name += " (" + m.Variant + ")"
	}
	gc := reports.GinkgoCheck{ID: c.ID, Critical: c.Critical, Measured: m.Measured, Threshold: m.Threshold,
		Detail: m.Detail, Samples: m.Samples}
	switch status, why := e.Applicability(c); {
	case status != "" && !e.noteUnapplied(c.ID):
		return // said once already, by Require or an earlier Record
	case status != "":
		gc.Status, gc.Detail, gc.Measured = status, why, "–"
	case m.Samples <= 0 && m.Unavailable != "":
		gc.Status, gc.Detail = reports.StatusSkip, m.Unavailable
	case m.Samples <= 0:
		gc.Status = reports.StatusNotMeasured
		gc.Detail = strings.TrimSpace("nothing to judge (0 samples). " + m.Detail)
	case m.OK:
		gc.Status = reports.StatusPass
	case m.Warn:
		gc.Status, gc.Repro = reports.StatusWarn, e.P.Repro(e.Gate)
	default:
		gc.Status, gc.Repro = reports.StatusFail, e.P.Repro(e.Gate)
	}
	ginkgo.AddReportEntry(reports.GinkgoCheckPrefix+name, gc, ginkgo.ReportEntryVisibilityFailureOrVerbose)
	if gc.Status == reports.StatusFail {
		e.failLater(fmt.Sprintf("check %s failed at %s: measured %v, expected %v. %s", name, callerOutsideHarness(),
			reports.Readable(m.Measured), reports.Readable(m.Threshold), m.Detail))
	}
}

// Applicability says whether a check applies to this target: "" when it
// does, else the status it gets (SKIP for a missing capability, N/A for a
// route the backend does not serve) and why, with the remedy.
func (e *Env) Applicability(c catalog.Check) (status, why string) {
	for _, cap := range c.Needs {
		if ok, reason := e.Has(cap); !ok {
			return reports.StatusSkip, reason
		}
	}
	var missing []string
	for _, r := range c.Routes {
		if !e.Routes.Has(r) {
			missing = append(missing, e.Routes.Why(r))
		}
	}
	if len(missing) > 0 {
		return reports.StatusNA, "the backend does not serve " + strings.Join(missing, "; ")
	}
	return "", ""
}

// Applies reports whether every listed check applies to this target.
func (e *Env) Applies(ids ...string) bool {
	for _, id := range ids {
		if s, _ := e.Applicability(catalog.MustLookup(id)); s != "" {
			return false
		}
	}
	return true
}

// Require is the one way a spec declares what it needs: the catalog checks
// it records. Every listed check that does not apply is recorded as SKIP or
// N/A with its reason, and when none applies the spec is skipped. A spec
// whose checks apply only in part runs and lets Record mark the rest.
func (e *Env) Require(ids ...string) {
	var whys []string
	for _, id := range ids {
		c := catalog.MustLookup(id)
		checkLabelled(c.ID)
		if !e.inScope(c) {
			whys = append(whys, c.ID+": about another kind of target")
			continue
		}
		if status, why := e.Applicability(c); status != "" {
			whys = append(whys, c.ID+": "+why)
			if !e.noteUnapplied(c.ID) {
				continue
			}
			ginkgo.AddReportEntry(reports.GinkgoCheckPrefix+c.Name(), reports.GinkgoCheck{ID: c.ID, Status: status,
				Critical: c.Critical, Measured: "–", Detail: why}, ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	}
	if len(whys) == len(ids) && len(ids) > 0 {
		ginkgo.Skip(reports.NotApplicableSkip + strings.Join(whys, "\n"))
	}
}

// Has reports whether the target offers a capability, and if not why, with
// the remedy.
func (e *Env) Has(cap catalog.Capability) (bool, string) {
	switch cap {
	case catalog.CapJournal:
		if e.T != nil && e.T.JournalPath() != "" && e.TCfg.Kind.OwnEngine() {
			return true, ""
		}
		if e.Routes.Has(catalog.Events) {
			return true, ""
		}
		return false, "the journal is not readable: the backend does not serve " + e.Routes.Why(catalog.Events) +
			", so the journal audits cannot run (serve the SPEC §6 event stream to enable them)"
	case catalog.CapKarmaControl:
		// Before the boot (Requiring), the stub is planned for our engine.
		if e.Karma != nil || (e.T == nil && e.P.KarmaEnabled && karmaControllable(e.TCfg)) {
			return true, ""
		}
		if !e.P.KarmaEnabled {
			return false, "KARMA blackouts are off (LIVE_TEST_KARMA_ENABLED=false)"
		}
		if e.TCfg.Kind == target.KindExec {
			return false, "target exec: the harness cannot point the backend at its KARMA stub; put {karma_url} in CREDITGATE_EXEC where the backend takes its KARMA base URL (the stub speaks the contract of docs/karma.md)"
		}
		return false, fmt.Sprintf("target %s: the harness cannot point the backend at its KARMA stub; run with CREDITGATE_TARGET=container, process or cluster, or start the backend with CREDITGATE_EXEC and {karma_url}", e.TCfg.Kind)
	case catalog.CapRoleTokens:
		if e.roleTokens() {
			return true, ""
		}
		return false, "no token per role: set CREDITGATE_ROLE_TOKENS=reader=…,operator=…,service=…,approver=…,admin=… (our own engine's targets have them)"
	case catalog.CapTokens:
		switch {
		case e.tokensIgnored != "":
			return false, e.tokensIgnored
		case e.TCfg.Kind.OwnEngine(), e.TCfg.Kind == target.KindExec:
			return true, ""
		}
		return false, fmt.Sprintf("target %s: the harness does not start that backend, so it cannot give it the tokens of its own principals (CREDITD_TOKENS); run with CREDITGATE_TARGET=exec, container or process", e.TCfg.Kind)
	case catalog.CapWriter:
		if e.writeRefused != "" {
			return false, e.writeRefused
		}
		return true, ""
	case catalog.CapSettings, catalog.CapCreditd:
		if e.TCfg.Kind.OwnEngine() {
			return true, ""
		}
		if cap == catalog.CapSettings {
			return e.settingsReadable()
		}
		return false, fmt.Sprintf("target %s: the check is about our engine's binary (creditd); it does not apply to another backend", e.TCfg.Kind)
	}
	return e.TCfg.Supports(cap)
}

// settingsReadable is CapSettings for another backend: one started from a
// command line that reads every rule setting under our engine's names
// (CREDITGATE_EXEC_SETTINGS); SPEC §7 names no variables for them.
func (e *Env) settingsReadable() (bool, string) {
	if e.TCfg.Kind != target.KindExec {
		return false, fmt.Sprintf("target %s: the harness cannot start the backend with its own settings (e.g. a 3 s approval timeout); run our engine with CREDITGATE_TARGET=container or process, or start yours with CREDITGATE_EXEC and CREDITGATE_EXEC_SETTINGS", e.TCfg.Kind)
	}
	ok, missing := e.TCfg.ExecReadsSettings(explore.RuleVariables())
	if ok {
		return true, ""
	}
	if len(missing) == len(explore.RuleVariables()) {
		return false, "target exec: the harness cannot choose the backend's settings (e.g. a 3 s approval timeout; SPEC §7 names no variables for them); if it reads our engine's (docs/own-backend.md), say so with CREDITGATE_EXEC_SETTINGS=rules"
	}
	return false, "target exec: CREDITGATE_EXEC_SETTINGS does not name " + strings.Join(missing, ", ") + " (the checks that draw settings set every rule setting; \"rules\" names them all)"
}

// roleTokens reports whether the harness has a token per role: our own
// engine's targets are booted with generated ones, another backend needs
// CREDITGATE_ROLE_TOKENS.
func (e *Env) roleTokens() bool {
	return e.TCfg.Kind.OwnEngine() || os.Getenv("CREDITGATE_ROLE_TOKENS") != ""
}

// Ensure fails the running node with a sentence when a precondition of the
// measurement does not hold (a fixture could not be created, a request had
// no answer): the report then says in words what was expected and what was
// seen, never a matcher dump.
func Ensure(ok bool, format string, args ...any) {
	if !ok {
		ginkgo.Fail(fmt.Sprintf(format, args...), 1)
	}
}

// inScope reports whether a check is about this kind of target at all: the
// cluster's instance and database checks are not about a single backend,
// and the journal-file and power-loss checks are not about a database
// store. Out-of-scope checks are not listed (their specs are not
// registered); every in-scope check is, measured or not.
func (e *Env) inScope(c catalog.Check) bool {
	cluster := e.TCfg.Kind == target.KindCluster
	for _, cap := range c.Needs {
		switch {
		case cap == catalog.CapCluster && !cluster:
			return false
		case (cap == catalog.CapJournalFile || cap == catalog.CapPowerLoss) && cluster:
			return false
		}
	}
	return true
}

// saveScope writes the gate's in-scope catalog checks with whether each
// applies to the target (gate-<X>/catalog.json): the report lists every one
// of them, so a check no spec recorded reads NOT MEASURED instead of
// vanishing, and "measured / applicable" is counted over all of them. A
// focused run (Focus) lists only the checks it selected.
func (e *Env) saveScope() {
	var out []reports.ScopeEntry
	focus := Focus()
	for _, c := range catalog.Gate(e.Gate) {
		if !e.inScope(c) || (focus != nil && !slices.Contains(focus, c.ID)) {
			continue
		}
		status, why := e.Applicability(c)
		out = append(out, reports.ScopeEntry{ID: c.ID, Name: c.Name(), Critical: c.Critical, Status: status, Why: why})
	}
	e.writeJSON(filepath.Join(e.OutDir, reports.ScopeFile), out)
}

// noteUnapplied reports whether this is the first time the env says a check
// does not apply (SKIP or N/A), so several specs declaring one check list it
// once.
func (e *Env) noteUnapplied(id string) bool {
	e.fails.mu.Lock()
	defer e.fails.mu.Unlock()
	if e.unapplied == nil {
		e.unapplied = map[string]bool{}
	}
	first := !e.unapplied[id]
	e.unapplied[id] = true
	return first
}

// TimeoutTaken says whether a backend whose settings the harness declared
// (CREDITGATE_EXEC_SETTINGS) took the approval timeout it was given
// (variable=want): "" when GET /approvals/{id} shows the request's deadline
// within a minute of created_at + want, or shows none to compare (the
// declaration stands); else why the checks waiting for that deadline are
// not measured. Our own engine is judged as booted: "".
func (e *Env) TimeoutTaken(ctx context.Context, id, variable string, want time.Duration) string {
	if e.TCfg.Kind.OwnEngine() {
		return ""
	}
	r := e.C.Get(ctx, "/api/credits/approvals/"+url.PathEscape(id))
	created, cerr := time.Parse(time.RFC3339Nano, r.Str("created_at"))
	expires, eerr := time.Parse(time.RFC3339Nano, r.Str("expires_at"))
	if !r.OK() || cerr != nil || eerr != nil {
		return ""
	}
	if got := expires.Sub(created); got > want+time.Minute {
		return fmt.Sprintf("the backend did not take %s=%s (CREDITGATE_EXEC_SETTINGS names it): request %s expires %s after it was created; a deadline it does not keep within the run is not judged",
			variable, want, id, got.Round(time.Second))
	}
	return ""
}
