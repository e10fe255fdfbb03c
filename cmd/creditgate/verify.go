package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/creditgate/creditgate/internal/repo"
	"github.com/creditgate/creditgate/reports"
)

// mutant is an engine with one seeded bug: small text patches applied to a
// temporary copy of this repository, built into a throwaway creditd. Each
// patch must match exactly once, so a mutant that no longer applies fails
// loudly instead of silently testing the unmutated engine.
//
// Every patch is anchored on a comment `//mutant:<marker>` in the
// engine (as etcd's gofail anchors failpoints): its old text is looked up
// only in the markerWindow lines after that comment (first occurrence), so
// refactors elsewhere in the file cannot move or duplicate the anchor.
type mutant struct {
	name, gate, bug string
	// check is the catalog ID of the check that guards against the bug
	// (a comma list where a race decides which of several guards fires
	// first): the mutant counts as rejected only when one of them fails (a
	// NO-GO by another check is "caught by the wrong check", a failure of
	// its own).
	check   string
	patches []patch
	env     []string // extra LIVE_TEST_* for the gate run
}

type patch struct{ file, marker, old, new string }

// marked is a patch anchored on a `//mutant:<marker>` comment (exactly one
// in the file): the first occurrence of old within the markerWindow lines
// after it is replaced.
func marked(file, marker, old, new string) patch {
	return patch{file: file, marker: marker, old: old, new: new}
}

// markerWindow is how many lines after a `//mutant:` comment a marked
// patch's old text may start in.
const markerWindow = 12

// apply returns src with the patch applied, or an error when its anchor
// is missing or ambiguous.
func (p patch) apply(src string) (string, error) {
	if p.marker == "" {
		return "", fmt.Errorf("%s: a patch needs a //mutant: marker (anchors on bare text break on refactors)", p.file)
	}
	tag := "//mutant:" + p.marker
	lines := strings.SplitAfter(src, "\n")
	at := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == tag {
			if at >= 0 {
				return "", fmt.Errorf("%s: marker %s found twice", p.file, tag)
			}
			at = i
		}
	}
	if at < 0 {
		return "", fmt.Errorf("%s: marker %s not found", p.file, tag)
	}
	head := strings.Join(lines[:at+1], "")
	end := min(len(lines), at+1+markerWindow)
	window := strings.Join(lines[at+1:end], "")
	if !strings.Contains(window, p.old) {
		return "", fmt.Errorf("%s: the anchor is not within %d lines after marker %s: %q", p.file, markerWindow, tag, firstLine(p.old))
	}
	return head + strings.Replace(window, p.old, p.new, 1) + strings.Join(lines[end:], ""), nil
}

// mutants are the seeded bugs; every patch is anchored on a
// `//mutant:<marker>` comment in the engine. Branches add theirs in
// mutants_<branch>.go (init appends).
var mutants = []mutant{
	{name: "retry-writes-twice", gate: "a", check: "A9", bug: "the idempotency lookup is skipped, so a retry writes a second event",
		patches: []patch{marked("engine/engine.go", "idempotency-lookup", "if k, ok := e.keys.lookup(req.IdempotencyKey); ok {", "if k, ok := e.keys.lookup(req.IdempotencyKey); ok && false {")}},
	{name: "dangling-causation", gate: "a", check: "A5", bug: "derived events point at an event that does not exist",
		patches: []patch{marked("engine/engine.go", "derived-causation", "ev.CausationID = &evs[pe.causedBy].EventID", "dangling := uuid.NewString(); ev.CausationID = &dangling")}},
	{name: "overdraft-under-concurrency", gate: "b", check: "B5,B21,B22,B32,B47", bug: "consume checks a balance read before the KARMA call, so concurrent consumes overdraw",
		// The balance is read before the KARMA call, outside the lock, and
		// the rule checks that instead of its view: a check-then-act race.
		patches: []patch{marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n\treturn e.execute(", "\tstale, _ := e.Balance(in.AgentID)\n\tscore := e.score(ctx, in.AgentID)\n\treturn e.execute("),
			marked("engine/credits.go", "consume-score", "return consumeRule(v, in, score, now)", "return consumeRule(v, in, score, now, stale)"),
			marked("engine/credits.go", "consume-rule", "_ time.Time) (*plan, error) {", "_ time.Time, stale int64) (*plan, error) {"),
			marked("engine/credits.go", "consume-rule", "\tif a.BalanceMilli < in.AmountMilli {\n\t\treturn nil, insufficient(a, in.AmountMilli, \"requested\")\n\t}\n\tmeta",
				"\tif stale < in.AmountMilli {\n\t\treturn nil, insufficient(a, in.AmountMilli, \"requested\")\n\t}\n\tmeta")}},
	{name: "replay-drops-refunds", gate: "b", check: "B23", bug: "replay skips credit.refunded, so the state drifts after a restart",
		patches: []patch{marked("engine/engine.go", "replay", "func (e *Engine) replay(ev *event.Envelope) error {\n",
			"func (e *Engine) replay(ev *event.Envelope) error {\n\tif ev.EventType == event.CreditRefunded {\n\t\te.seq = ev.Seq\n\t\treturn e.models.st.SkipForMutant(ev)\n\t}\n"),
			marked("engine/projection/state.go", "state-methods", "func (s *State) Seq() uint64", "// SkipForMutant advances seq without folding (verify-gates only).\nfunc (s *State) SkipForMutant(e *event.Envelope) error { s.seq = e.Seq; return nil }\n\nfunc (s *State) Seq() uint64")}},
	{name: "two-approvals-win", gate: "c", check: "C1", bug: "a decision does not re-check the request state, so racing approvals all win",
		patches: []patch{marked("engine/approvals.go", "decide-pending", "if ap.Status != projection.StatusPending {\n\t\treturn ap, false, refuse(CodeAlreadyDecided", "if false {\n\t\treturn ap, false, refuse(CodeAlreadyDecided"),
			marked("engine/projection/approvals.go", "fold-decision-pending", "\tif a.Status != StatusPending {\n\t\treturn fmt.Errorf(\"decision on %s approval %q\", a.Status, p.RequestID)\n\t}\n", ""),
			marked("engine/approvals.go", "decide-pending", "if !now.Before(ap.ExpiresAt) {", "if ap.Status == projection.StatusPending && !now.Before(ap.ExpiresAt) {")}},
	{name: "requester-approves-own", gate: "c", check: "C6", bug: "the four-eyes rule is not enforced",
		patches: []patch{marked("engine/approvals.go", "four-eyes", "if ap.RequesterID == in.DeciderID {", "if ap.RequesterID == in.DeciderID && false {")}},
	{name: "karma-outage-fails-consume", gate: "d", check: "D2", bug: "a consume fails when KARMA cannot give a live score",
		patches: []patch{marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\tif score.Source != karma.SourceLive {\n\t\treturn Result{}, ErrClosed\n\t}\n")}},
	{name: "anomaly-blocks-consume", gate: "d", check: "D9", bug: "an anomalous consume is refused instead of flagged",
		patches: []patch{marked("engine/credits.go", "consume-anomaly", "\tcase verdict.Detected:\n", "\tcase verdict.Detected:\n\t\treturn nil, refuse(CodeInvalid, nil, \"anomalous amount\")\n")}},
	{name: "torn-tail-kept", gate: "d", check: "D26", bug: "recovery reports a torn tail but does not cut it, so the next append is glued onto it and lost (the original's bug)",
		patches: []patch{tornTailKept}},
	{name: "slow-consume", gate: "e", check: "E1", bug: "every consume stalls 1.2 s (P95 above 1000 ms)", env: []string{"LIVE_TEST_DURATION=20s"},
		patches: []patch{marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\ttime.Sleep(1200 * time.Millisecond)\n")}},
	{name: "leaks-per-request", gate: "e", check: "E5", bug: "every consume leaks 256 KiB and a goroutine", env: []string{"LIVE_TEST_DURATION=20s"},
		patches: []patch{marked("engine/credits.go", "consume-score", "\tscore := e.score(ctx, in.AgentID)\n", "\tscore := e.score(ctx, in.AgentID)\n\tleak = append(leak, make([]byte, 256<<10))\n\tgo func() { select {} }()\n"),
			marked("engine/credits.go", "credits-decls", "const (\n", "var leak [][]byte\n\nconst (\n")}},
}

// Patches shared by several mutants.
var (
	// tornTailKept: recovery does not cut a torn tail.
	tornTailKept = marked("engine/journal/recovery.go", "torn-tail-cut", "} else if rep.TornTail != nil {\n\t\tif err := truncateSynced(", "} else if rep.TornTail != nil && false {\n\t\tif err := truncateSynced(")
)

func cmdVerify(args []string) int {
	fs := flag.NewFlagSet("verify-gates", flag.ContinueOnError)
	only := fs.String("only", "", "run only the mutant (or foreign-backend case, foreign-<defect>) with this name")
	skipForeign := fs.Bool("no-foreign", false, "skip the foreign-backend cases")
	out := fs.String("out", filepath.Join("out", "verify-gates"), "directory for each mutant's report")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	root, err := repo.Root()
	if err != nil {
		return fail("verify-gates runs inside the repository: %v", err)
	}
	type row struct {
		m                         mutant
		verdict, gateStatus, note string
		failed                    []string // IDs of the checks that failed
		ok                        bool
	}
	var rows []row
	for _, m := range mutants {
		if *only != "" && m.name != *only {
			continue
		}
		fmt.Fprintf(os.Stderr, "\n=== verify-gates: %s (gate %s): %s\n", m.name, strings.ToUpper(m.gate), m.bug)
		r := row{m: m}
		bin, tmp, err := buildMutant(root, m)
		if err != nil {
			_ = os.RemoveAll(tmp)
			r.note = "mutant did not build or apply: " + err.Error()
			rows = append(rows, r)
			continue
		}
		dir, _ := filepath.Abs(filepath.Join(*out, m.name))
		_ = os.RemoveAll(dir)
		os.Setenv("CREDITGATE_TARGET", "process")
		os.Setenv("CREDITGATE_BINARY", bin)
		restore := setEnv(m.env)
		cmdGates([]string{"--gates", m.gate, "--out", dir}, "")
		restore()
		_ = os.RemoveAll(tmp)
		s, err := reports.Load(dir)
		if err != nil {
			r.note = "no report: " + err.Error()
			rows = append(rows, r)
			continue
		}
		r.verdict, _ = reports.GateVerdict(s, m.gate)
		if g := s.Gate(strings.ToUpper(m.gate)); g != nil {
			r.gateStatus = g.Status
		}
		r.failed = failedIDs(s)
		r.ok = r.verdict == reports.VerdictNoGo && r.gateStatus == reports.StatusFail
		if r.ok && m.check != "" && !anyFailed(r.failed, m.check) {
			r.ok = false
			r.note = "caught by the wrong check: " + m.check + " did not fail; failed: " + strings.Join(r.failed, ", ")
		}
		if m.check == "" && len(r.failed) > 0 {
			r.note = "failed: " + strings.Join(r.failed, ", ")
		}
		rows = append(rows, r)
	}
	os.Unsetenv("CREDITGATE_TARGET")
	os.Unsetenv("CREDITGATE_BINARY")
	var foreign []foreignRow
	if !*skipForeign {
		foreign = runForeign(root, *out, *only)
	}
	fmt.Printf("\n=== verify-gates: every seeded bug must be rejected (NO-GO) by the gate that guards against it\n")
	failed := 0
	for _, r := range rows {
		mark := "REJECTED"
		if !r.ok {
			mark = "SURVIVED"
			failed++
		}
		fmt.Printf("  %-9s gate %s  %-28s check %-6s verdict %-11s gate %-5s %s\n", mark, strings.ToUpper(r.m.gate), r.m.name, orNone(r.m.check), r.verdict, r.gateStatus, r.note)
	}
	if len(foreign) > 0 {
		fmt.Printf("\n=== the foreign backend (cmd/original-backend): each defect failed by the check it names; without defects 0 FAIL and INCOMPLETE\n")
	}
	for _, r := range foreign {
		mark := "CAUGHT"
		if r.c.check == "" {
			mark = "HONEST"
		}
		if !r.ok {
			mark = "MISSED"
			failed++
		}
		fmt.Printf("  %-9s %-32s check %-5s verdict %-11s %s\n", mark, r.c.name(), orNone(r.c.check), r.verdict, r.note)
	}
	total := len(rows) + len(foreign)
	fmt.Printf("%d passed, %d failed\n", total-failed, failed)
	// The failures again, last: a CI log shows its tail.
	for _, r := range rows {
		if !r.ok {
			fmt.Printf("FAILED mutant %s (gate %s, check %s): verdict %q, gate %q, failed checks [%s] %s — repro: build/creditgate verify-gates --only %s --no-foreign\n",
				r.m.name, strings.ToUpper(r.m.gate), orNone(r.m.check), r.verdict, r.gateStatus, strings.Join(r.failed, ","), r.note, r.m.name)
		}
	}
	for _, r := range foreign {
		if !r.ok {
			fmt.Printf("FAILED foreign case %s (check %s): verdict %q %s — repro: build/creditgate verify-gates --only %s\n",
				r.c.name(), orNone(r.c.check), r.verdict, r.note, r.c.name())
		}
	}
	if failed > 0 || total == 0 {
		return 1
	}
	return 0
}

// buildMutant builds creditd with the mutant's patches applied through a
// `go build -overlay` (the patched files are written to a temporary
// directory; the working tree is never touched and the build cache
// serves every package the patches leave alone). It returns the binary's
// path and the directory (for the caller to remove, also after an error).
func buildMutant(root string, m mutant) (bin, tmp string, err error) {
	tmp, err = os.MkdirTemp("", "creditgate-mutant-"+m.name+"-")
	if err != nil {
		return "", "", err
	}
	bin, err = buildMutantIn(root, tmp, m)
	return bin, tmp, err
}

func buildMutantIn(root, tmp string, m mutant) (string, error) {
	overlay, err := writeOverlay(root, tmp, m)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "creditd")
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", bin, "./cmd/creditd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// writeOverlay applies the mutant's patches (in order; several may patch
// one file) to copies under tmp and writes the overlay file that maps each
// original path to its patched copy; it returns the overlay file's path.
func writeOverlay(root, tmp string, m mutant) (string, error) {
	patched := map[string]string{} // repo-relative path → patched source
	var order []string
	for _, p := range m.patches {
		src, ok := patched[p.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, p.file))
			if err != nil {
				return "", err
			}
			src = string(b)
			order = append(order, p.file)
		}
		out, err := p.apply(src)
		if err != nil {
			return "", err
		}
		patched[p.file] = out
	}
	replace := map[string]string{}
	for i, f := range order {
		dst := filepath.Join(tmp, fmt.Sprintf("%d-%s", i, filepath.Base(f)))
		if err := os.WriteFile(dst, []byte(patched[f]), 0o644); err != nil {
			return "", err
		}
		abs, err := filepath.Abs(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		replace[abs] = dst
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(tmp, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

// anyFailed reports whether one of the comma-listed checks failed.
func anyFailed(failed []string, checks string) bool {
	for _, c := range strings.Split(checks, ",") {
		if slices.Contains(failed, strings.TrimSpace(c)) {
			return true
		}
	}
	return false
}

// failedIDs lists the catalog IDs of the checks that failed in a run.
func failedIDs(s *reports.Summary) []string {
	var out []string
	for _, g := range s.GateDetails {
		for _, c := range g.Checks {
			if c.Status != reports.StatusFail {
				continue
			}
			id := c.ID
			if id == "" {
				id, _, _ = strings.Cut(c.Name, " ")
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// setEnv sets KEY=VALUE pairs and returns a func restoring the old values.
func setEnv(kvs []string) func() {
	var undo []func()
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		undo = append(undo, func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		})
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}
