package reports

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// Ginkgo report conventions (docs/reports.md): a spec belongs to gate X when
// it, a container or the suite carries the label "gate:X"; each report entry
// named "check:<name>" is one check whose value is a GinkgoCheck; the label
// "critical" makes a spec's own failure critical.
const (
	GinkgoGateLabelPrefix = "gate:"
	GinkgoCheckPrefix     = "check:"
	GinkgoCriticalLabel   = "critical"
)

// GinkgoCheck is the value of a "check:<name>" report entry. Measured and
// Threshold may be strings or numbers. An empty Status takes the spec's state.
type GinkgoCheck struct {
	// ID is the check's catalog ID (gates/catalog).
	ID        string `json:"id,omitempty"`
	Status    string `json:"status"`
	Measured  any    `json:"measured"`
	Threshold any    `json:"threshold"`
	Detail    string `json:"detail,omitempty"`
	Repro     string `json:"repro,omitempty"`
	Critical  bool   `json:"critical,omitempty"`
	// Samples is how many things the check judged (0: not measured).
	Samples int `json:"samples,omitempty"`
}

// maxGinkgoChecks bounds the checks taken from one gate: a runaway loop of
// AddReportEntry must not produce a report nobody can open.
const maxGinkgoChecks = 1000

type orderedCheck struct {
	file  string
	line  int
	index int
	check Check
}

// FromGinkgo maps Ginkgo JSON reports (`ginkgo --json-report`) to gate details.
// Specs without a gate label are ignored. A spec with check entries yields
// those checks; a spec without any yields one check named after the spec; a
// failed spec whose entries all pass (its assertion failed elsewhere) yields an
// extra failing check so the failure is never hidden. Checks are ordered by
// source location, so randomized spec order gives the same report. The
// returned gates carry statuses derived from their checks.
func FromGinkgo(reports []types.Report) []GateDetail {
	byGate := map[string][]orderedCheck{}
	for _, r := range reports {
		notApplicableIn := notApplicableContainers(r.SpecReports)
		for _, sp := range r.SpecReports {
			if sp.LeafNodeType != types.NodeTypeIt {
				continue // suite-level nodes (BeforeSuite…) carry no gate checks
			}
			labels := append(append([]string(nil), r.SuiteLabels...), sp.Labels()...)
			gate := ""
			critical := false
			for _, l := range labels {
				if id, ok := strings.CutPrefix(strings.ToLower(l), GinkgoGateLabelPrefix); ok && gate == "" {
					gate = strings.ToUpper(strings.TrimSpace(id))
				}
				if strings.EqualFold(l, GinkgoCriticalLabel) {
					critical = true
				}
			}
			if gate == "" {
				continue
			}
			file, line := sp.LeafNodeLocation.FileName, sp.LeafNodeLocation.LineNumber
			add := func(i int, c Check) {
				byGate[gate] = append(byGate[gate], orderedCheck{file: file, line: line, index: i, check: c})
			}
			specStatus := specState(sp)
			var checks []Check
			for _, e := range sp.ReportEntries {
				name, ok := strings.CutPrefix(e.Name, GinkgoCheckPrefix)
				if !ok {
					continue
				}
				checks = append(checks, checkFromEntry(strings.TrimSpace(name), e, specStatus))
			}
			for i, c := range checks {
				add(i, c)
			}
			anyFailed := false
			for _, c := range checks {
				anyFailed = anyFailed || c.Status == StatusFail
			}
			// A skipped spec is reported as its own skipped check with the
			// reason, even when it recorded checks before it skipped (what
			// it did not verify must be visible), unless its entries already
			// say why each of its checks did not run (Env.Require).
			notApplicable := specStatus == StatusSkip && (isNotApplicableSkip(sp) ||
				strings.HasPrefix(strings.TrimSpace(sp.Failure.Message), skippedInBeforeAll) && notApplicableIn[containerKey(sp)])
			if (len(checks) == 0 && !notApplicable) || (specStatus == StatusFail && !anyFailed) || (specStatus == StatusSkip && !allUnmeasured(checks)) {
				add(len(checks), specCheck(sp, specStatus, critical, suiteInterruption(r)))
			}
		}
	}
	ids := make([]string, 0, len(byGate))
	for id := range byGate {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]GateDetail, 0, len(ids))
	for _, id := range ids {
		oc := byGate[id]
		sort.SliceStable(oc, func(i, j int) bool {
			if oc[i].file != oc[j].file {
				return oc[i].file < oc[j].file
			}
			if oc[i].line != oc[j].line {
				return oc[i].line < oc[j].line
			}
			return oc[i].index < oc[j].index
		})
		g := GateDetail{ID: id, Name: GateNames[id], Critical: CriticalGate(id)}
		for i, c := range oc {
			if i == maxGinkgoChecks {
				g.Checks = append(g.Checks, Check{Name: "report truncated", Status: StatusWarn,
					Measured: fmt.Sprint(len(oc)), Threshold: fmt.Sprintf("≤ %d checks", maxGinkgoChecks),
					Detail: "further checks of this gate are in the Ginkgo JSON report"})
				break
			}
			g.Checks = append(g.Checks, c.check)
		}
		g.Status = deriveStatus(g.Checks)
		out = append(out, g)
	}
	return out
}

// skippedInBeforeAll starts the message Ginkgo gives every later spec of an
// ordered container whose BeforeAll called Skip: the first spec carries the
// BeforeAll's own message.
const skippedInBeforeAll = "Spec skipped because Skip() was called in"

// isNotApplicableSkip reports whether sp skipped with Env.Require's message:
// its report entries say why each of its checks did not run.
func isNotApplicableSkip(sp types.SpecReport) bool {
	return sp.State.Is(types.SpecStateSkipped) && strings.HasPrefix(strings.TrimSpace(sp.Failure.Message), NotApplicableSkip)
}

// notApplicableContainers are the containers (containerKey) one of whose
// specs skipped as not applicable: when that happened in a BeforeAll
// (harness.Requiring), the entries recorded there name every check of the
// container, so its later specs, skipped for the same reason, hide nothing.
func notApplicableContainers(specs types.SpecReports) map[string]bool {
	out := map[string]bool{}
	for _, sp := range specs {
		if sp.LeafNodeType == types.NodeTypeIt && isNotApplicableSkip(sp) {
			out[containerKey(sp)] = true
		}
	}
	return out
}

// containerKey names the container a spec sits in: its texts and where
// each was declared.
func containerKey(sp types.SpecReport) string {
	var b strings.Builder
	for i, t := range sp.ContainerHierarchyTexts {
		b.WriteString(t)
		if i < len(sp.ContainerHierarchyLocations) {
			fmt.Fprintf(&b, "@%s:%d", sp.ContainerHierarchyLocations[i].FileName, sp.ContainerHierarchyLocations[i].LineNumber)
		}
		b.WriteByte(0)
	}
	return b.String()
}

func specState(sp types.SpecReport) string {
	switch {
	case sp.State == types.SpecStatePassed:
		return StatusPass
	case sp.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		return StatusSkip
	default:
		return StatusFail
	}
}

// specCheck represents the spec itself as a check. A skipped spec carries
// the reason it did not run (SkipReason) and whether it was blocked by a
// failure or an interruption elsewhere; a critical spec keeps Critical when
// skipped, so the verdict knows which evidence is missing.
func specCheck(sp types.SpecReport, status string, critical bool, interrupted string) Check {
	c := Check{
		Name:      sp.FullText(),
		Status:    status,
		Measured:  "spec " + sp.State.String(),
		Threshold: "spec passes",
		Detail:    sp.Failure.Message,
		Critical:  critical && (status == StatusFail || status == StatusSkip),
	}
	if c.Name == "" {
		c.Name = "unnamed spec"
	}
	if status == StatusSkip {
		c.Detail, c.Blocked = SkipReason(sp.Failure.Message, interrupted)
		c.Measured = "not run"
	}
	// Focus the spec itself, not the harness helper where its failure was
	// raised (the deferred check failure points into gates/harness).
	if loc := sp.LeafNodeLocation; loc.FileName != "" {
		c.Repro = fmt.Sprintf("ginkgo --focus-file %s:%d", loc.FileName, loc.LineNumber)
	}
	return c
}

// filteredOut is why a spec a filter left out of the run did not run.
const filteredOut = "not run: filtered out of this run (--focus/--skip/--label-filter)"

// Skip messages Ginkgo writes when a spec could not run because something
// else failed (as opposed to the spec's own Skip call with its reason).
var ginkgoBlockedSkips = []string{
	"an earlier spec in an ordered container failed",
	"a BeforeAll node failed",
}

// SkipReason states why a skipped spec did not run and whether it was
// blocked: skipped because of a failure or an interruption elsewhere (its
// evidence is hidden), rather than by its own Skip(reason) or a spec filter.
// interrupted is the suite's interruption/timeout reason ("" if none).
func SkipReason(msg, interrupted string) (reason string, blocked bool) {
	msg = strings.TrimSpace(msg)
	for _, b := range ginkgoBlockedSkips {
		if strings.Contains(msg, b) {
			return "not run: " + msg, true
		}
	}
	switch {
	case strings.HasPrefix(msg, FocusSkip):
		return filteredOut, false // left out by the focus, as a filter would
	case msg != "":
		return "skipped: " + msg, false
	case interrupted != "":
		return "not run: the suite stopped before it (" + interrupted + ")", true
	default:
		return filteredOut, false
	}
}

// suiteInterruption is why a suite stopped early (timeout, interrupt,
// fail-fast), "" when it ran to its end.
func suiteInterruption(r types.Report) string {
	for _, why := range r.SpecialSuiteFailureReasons {
		// Ginkgo: "Interrupted by User", "Interrupted by Other Ginkgo
		// Process", "Suite Timeout Elapsed".
		if l := strings.ToLower(why); strings.Contains(l, "interrupt") || strings.Contains(l, "timeout") ||
			strings.Contains(l, "timed out") || strings.Contains(l, "abort") {
			return why
		}
	}
	return ""
}

func checkFromEntry(name string, e types.ReportEntry, specStatus string) Check {
	raw := []byte(e.Value.AsJSON)
	if len(raw) == 0 {
		// In-process reports (ReportAfterSuite) hold the raw value, not its JSON.
		var err error
		if raw, err = json.Marshal(e.Value.GetRawValue()); err != nil {
			raw = nil
		}
	}
	var gc GinkgoCheck
	if err := json.Unmarshal(raw, &gc); err != nil || len(raw) == 0 || string(raw) == "null" {
		return Check{Name: name, Status: StatusFail, Measured: "unreadable",
			Threshold: "a JSON object {status, measured, threshold, detail, critical}",
			Detail:    "check entry value is not a check object: " + e.Value.String()}
	}
	status := specStatus
	if gc.Status != "" {
		status = normalizeStatus(gc.Status)
	}
	return Check{
		ID:        gc.ID,
		Samples:   gc.Samples,
		Name:      name,
		Status:    status,
		Measured:  scalarString(gc.Measured),
		Threshold: scalarString(gc.Threshold),
		Detail:    gc.Detail,
		Repro:     gc.Repro,
		Critical:  gc.Critical,
	}
}

// scalarString renders a decoded check value; maps and lists become
// readable lists (Readable), never Go or JSON syntax.
func scalarString(v any) string { return Readable(v) }

// FocusSkip starts the skip message of a spec a focused run did not select
// although its container ran (harness.SkipUnlessSelected): it is filtered
// out, neither evidence nor missing evidence.
const FocusSkip = "not selected by the focused run"

// NotApplicableSkip starts the skip message of a spec none of whose catalog
// checks applies to the target (harness Env.Require): each check is listed
// once as SKIP or N/A with its reason, so the spec adds no row of its own.
const NotApplicableSkip = "not applicable to this target: "

// allUnmeasured reports whether every check says why it was not measured
// (SKIP, N/A, NOT MEASURED).
func allUnmeasured(cs []Check) bool {
	for _, c := range cs {
		switch c.Status {
		case StatusSkip, StatusNA, StatusNotMeasured:
		default:
			return false
		}
	}
	return true
}
