package verify

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/creditgate/creditgate/gates/mutants"
	"github.com/creditgate/creditgate/reports"
)

// Config is one verify-gates run.
type Config struct {
	Root string // the repository (mutants build from its sources)
	Out  string // directory for each case's report (<Out>/<name>)
	// Only runs just the mutants and foreign cases (foreign-<defect>) it
	// names, comma-separated; empty runs all.
	Only      string
	NoForeign bool // skip the foreign-backend cases
	// WholeGates runs each mutant's and each defect case's whole gate; by
	// default only the specs that record the check it names run (a focused
	// run), which judges the same check in a fraction of the time.
	WholeGates bool
	// RunGates runs the comma-listed gates against the target env names
	// (KEY=VALUE pairs over the process's environment: CREDITGATE_TARGET,
	// CREDITGATE_BINARY, ...), focused on the comma-listed checks ("" runs
	// every spec), writes the report to dir and its progress to log; its
	// exit code is not used, the report is judged. Runs may be concurrent.
	RunGates func(gates, checks, dir string, env []string, log io.Writer) int
	// Parallel is how many seeded bugs run at once (default 1). Each run
	// boots its own backend on its own ports and directories; with more
	// than one, a run's progress goes to <Out>/<name>/run.log and stderr
	// gets one line per start and end. The foreign-backend cases run one
	// at a time after them (the clean one judges latency budgets too).
	Parallel int
	// Build builds a mutant's creditd (nil: mutants.Build).
	Build func(root string, m mutants.Mutant) (bin, tmp string, err error)
}

// row is one mutant's outcome.
type row struct {
	m                         mutants.Mutant
	verdict, gateStatus, note string
	failed                    []string // IDs of the checks that failed
	ok                        bool
}

// selects reports whether the case named name runs: every case without
// Only, else those Only lists (comma-separated).
func (c Config) selects(name string) bool {
	if c.Only == "" {
		return true
	}
	for _, n := range strings.Split(c.Only, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// Run runs every selected case, prints the table and the failures to
// stdout (progress to stderr) and returns the exit code: 0 when every case
// was rejected as it must be, 1 otherwise or when nothing ran.
func Run(cfg Config) int {
	// The runs' logs go to <Out>/<name>.run.log from the start: without
	// the directory the first runs' progress fell back to stderr.
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "verify-gates: %v\n", err)
		return 1
	}
	var selected []mutants.Mutant
	for _, m := range mutants.All() {
		if cfg.selects(m.Name) {
			selected = append(selected, m)
		}
	}
	rows := runMutants(cfg, selected)
	var foreign []foreignRow
	if !cfg.NoForeign {
		foreign = runForeign(cfg)
	}
	fmt.Printf("\n=== verify-gates: every seeded bug must be rejected (NO-GO) by the gate that guards against it\n")
	failed := 0
	for _, r := range rows {
		mark := "REJECTED"
		if !r.ok {
			mark = "SURVIVED"
			failed++
		}
		fmt.Printf("  %-9s gate %s  %-28s check %-6s verdict %-11s gate %-5s %s\n", mark, strings.ToUpper(r.m.Gate), r.m.Name, orNone(r.m.Check), r.verdict, r.gateStatus, r.note)
	}
	if len(foreign) > 0 {
		fmt.Printf("\n=== the foreign backends: cmd/original-backend, each defect failed by the check it names, without defects 0 FAIL and INCOMPLETE; " +
			"cmd/spec-backend (written from the SPEC alone), 0 FAIL and neither GO nor NO-GO\n")
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
				r.m.Name, strings.ToUpper(r.m.Gate), orNone(r.m.Check), r.verdict, r.gateStatus, strings.Join(r.failed, ","), r.note, r.m.Name)
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

// runMutants runs ms, cfg.Parallel at a time, and returns their rows in
// the order of ms.
func runMutants(cfg Config, ms []mutants.Mutant) []row {
	rows := make([]row, len(ms))
	start := time.Now()
	order := slowFirst(len(ms), func(i int) string { return ms[i].Gate })
	workers := inParallel(order, cfg.Parallel, func(i int, quiet bool) { rows[i] = runMutant(cfg, ms[i], quiet) })
	if len(ms) > 0 {
		fmt.Fprintf(os.Stderr, "=== verify-gates: %d seeded bugs in %s, %d at a time\n", len(ms), time.Since(start).Round(time.Second), workers)
	}
	return rows
}

// slowFirst orders n cases for inParallel: those of gate D first (its
// focused runs take one to four minutes: restarts, outages, corruption;
// the others mostly under one), so the last minutes of a parallel run are
// not one slow case alone. Otherwise the order is kept. gates(i) is the
// comma-listed gates case i runs.
func slowFirst(n int, gates func(i int) string) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(slowRank(gates(a)), slowRank(gates(b)))
	})
	return order
}

func slowRank(gates string) int {
	if strings.Contains(strings.ToLower(gates), "d") {
		return 0
	}
	return 1
}

// inParallel calls run(i, quiet) for each i of order, started in that
// order, parallel at a time (at least one), and returns how many ran at
// once; quiet is true when more than one did, so each run's progress goes
// to its own log.
func inParallel(order []int, parallel int, run func(i int, quiet bool)) int {
	workers := min(max(parallel, 1), max(len(order), 1))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				run(i, workers > 1)
			}
		}()
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	return workers
}

// logged calls run with the writer a gate run's progress goes to: stderr,
// or when quiet <dir>.run.log, which moves into dir (the run empties and
// refills it) as <dir>/run.log once run returns.
func logged(dir string, quiet bool, run func(log io.Writer)) {
	if !quiet {
		run(os.Stderr)
		return
	}
	f, err := os.Create(dir + ".run.log")
	if err != nil {
		run(os.Stderr)
		return
	}
	run(f)
	f.Close()
	_ = os.Rename(dir+".run.log", filepath.Join(dir, "run.log"))
}

// runMutant builds m and runs its gate up to m.Runs times; quiet sends
// the runs' progress to <dir>/run.log instead of stderr.
func runMutant(cfg Config, m mutants.Mutant, quiet bool) row {
	fmt.Fprintf(os.Stderr, "\n=== verify-gates: %s (gate %s): %s\n", m.Name, strings.ToUpper(m.Gate), m.Bug)
	started := time.Now()
	r := row{m: m}
	build := cfg.Build
	if build == nil {
		build = mutants.Build
	}
	bin, tmp, err := build(cfg.Root, m)
	defer os.RemoveAll(tmp)
	if err != nil {
		r.note = "mutant did not build or plant: " + err.Error()
		return r
	}
	dir, _ := filepath.Abs(filepath.Join(cfg.Out, m.Name))
	// A bug that shows only when a fault lands in its window (a crash
	// inside an unflushed commit) is run up to m.Runs times; it counts as
	// rejected on the first run that rejects it, and the row says which.
	runs := max(m.Runs, 1)
	defer func() {
		if quiet {
			mark := "REJECTED"
			if !r.ok {
				mark = "SURVIVED"
			}
			fmt.Fprintf(os.Stderr, "=== verify-gates: %s %s in %s (log: %s)\n", m.Name, mark, time.Since(started).Round(time.Second), filepath.Join(dir, "run.log"))
		}
	}()
	for run := 1; run <= runs; run++ {
		logged(dir, quiet, func(log io.Writer) { r = runOnce(cfg, m, bin, dir, log) })
		if r.ok && runs > 1 {
			r.note = strings.TrimSpace(fmt.Sprintf("%s rejected on run %d of up to %d", r.note, run, runs))
		}
		if r.ok || r.verdict == "" || run == runs {
			break
		}
		fmt.Fprintf(os.Stderr, "=== verify-gates: %s survived run %d of %d; running it again\n", m.Name, run, runs)
	}
	return r
}

// runOnce runs m's gate against its binary once and judges the report.
func runOnce(cfg Config, m mutants.Mutant, bin, dir string, log io.Writer) row {
	_ = os.RemoveAll(dir)
	env := append([]string{"CREDITGATE_TARGET=process", "CREDITGATE_BINARY=" + bin}, m.Env...)
	checks := m.Check
	if cfg.WholeGates {
		checks = ""
	}
	cfg.RunGates(m.Gate, checks, dir, env, log)
	return judgeMutant(m, dir)
}

// judgeMutant reads the report in dir: rejected means the gate failed
// with NO-GO and one of the checks m names failed.
func judgeMutant(m mutants.Mutant, dir string) row {
	r := row{m: m}
	s, err := reports.Load(dir)
	if err != nil {
		r.note = "no report: " + err.Error()
		return r
	}
	r.verdict, _ = reports.GateVerdict(s, m.Gate)
	if g := s.Gate(strings.ToUpper(m.Gate)); g != nil {
		r.gateStatus = g.Status
	}
	r.failed = failedIDs(s)
	want := cmp.Or(m.Verdict, reports.VerdictNoGo)
	// A bug its non-critical check rejects with CONDITIONAL is rejected
	// by a NO-GO too: a critical check failed beside it (a race that
	// happened to show it, as RT3 does to h6-stale-version-hides-winner).
	worse := want == reports.VerdictConditional && r.verdict == reports.VerdictNoGo
	r.ok = (r.verdict == want || worse) && r.gateStatus == reports.StatusFail
	if !r.ok && r.verdict != "" && r.verdict != want && r.verdict != reports.VerdictGo {
		r.note = "verdict " + r.verdict + ", want " + want
	}
	if r.ok && m.Check != "" && !anyFailed(r.failed, m.Check) {
		r.ok = false
		r.note = "caught by the wrong check: " + m.Check + " did not fail; failed: " + strings.Join(r.failed, ", ")
	}
	if m.Check == "" && len(r.failed) > 0 {
		r.note = "failed: " + strings.Join(r.failed, ", ")
	}
	return r
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

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
