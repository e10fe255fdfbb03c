package catalog

import (
	"fmt"
	"strings"
)

// Capability is something a check needs beyond HTTP access to the routes it
// names. The target kinds offer some (gates/target.Config.Supports); the
// harness derives the rest from the boot (see the constants).
type Capability string

const (
	// Offered by the target kind (gates/target).
	CapCrash       Capability = "crash"        // SIGKILL the backend and start it again
	CapRestart     Capability = "restart"      // stop and start on the same data
	CapJournalFile Capability = "journal-file" // read and damage the journal file
	CapPID         Capability = "pid"          // /proc sampling of the backend
	CapLogs        Capability = "logs"         // the backend's stdout/stderr
	CapPowerLoss   Capability = "power-loss"   // the data dir on the FUSE power-loss layer
	CapCluster     Capability = "cluster"      // single instances and the database under control

	// Derived by the harness at boot.
	//
	// CapJournal: every event readable in the SPEC §2 line format, from the
	// file of our own engine or over GET /api/credits/events.
	CapJournal Capability = "journal"
	// CapKarmaControl: the backend calls the harness's KARMA stub.
	CapKarmaControl Capability = "karma-control"
	// CapRoleTokens: a bearer token for every role (reader … admin).
	CapRoleTokens Capability = "role-tokens"
	// CapSettings: the harness starts the backend with CREDITD_* settings
	// of its choosing (short approval timeouts, thresholds).
	CapSettings Capability = "settings"
	// CapTokens: the harness starts the backend with bearer tokens of its
	// choosing for principals it names (CREDITD_TOKENS, SPEC §6: our
	// engine's targets, and a backend it starts from a command line, which
	// must then honour them).
	CapTokens Capability = "tokens"
	// CapWriter: the harness holds a token the backend lets write — its
	// principals' tokens where it starts the backend with them, else the
	// one it was given (CREDITGATE_TOKEN, or none for a backend serving
	// without). Known only after the boot: a registration is tried.
	CapWriter Capability = "writer"
	// CapCreditd: the backend is our engine's binary (start-up refusals).
	CapCreditd Capability = "creditd"
)

// FocusEnv is the environment variable a focused run (`creditgate gates
// --checks A16,B41`) hands its checks to the suites in (a comma list): the
// suites label each spec container with the checks it records, ginkgo runs
// the labelled ones, and the harness scopes the report to them.
const FocusEnv = "CREDITGATE_CHECKS"

// Check is one catalog entry.
type Check struct {
	// ID is the gate letter and a number ("A8"), or "CL…" for the cluster
	// checks; unique over the catalog.
	ID    string
	Gate  string // "A" … "E"
	Title string
	// Critical: a failure alone is NO-GO, and GO needs it measured.
	Critical bool
	Rules    []string     // SPEC rule IDs (Rules) it guards
	Routes   []string     // "METHOD /path" it calls; missing → N/A
	Needs    []Capability // missing → SKIP with the reason
	// Uses are capabilities the check exercises where the target offers
	// them and runs without elsewhere (the explorer's faults): missing →
	// the detail says what was skipped and why, never SKIP.
	Uses []Capability
}

// Name is how reports show the check: "A8 title".
func (c Check) Name() string { return c.ID + " " + c.Title }

var (
	all  = concat(gateA, gateB, gateC, gateD, gateE, exploreChecks)
	byID = index(all)
)

func concat(gs ...[]Check) []Check {
	var out []Check
	for _, g := range gs {
		out = append(out, g...)
	}
	return out
}

func index(cs []Check) map[string]Check {
	m := make(map[string]Check, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

// All returns every entry in declaration order (gate by gate).
func All() []Check { return append([]Check(nil), all...) }

// Gate returns the entries of one gate.
func Gate(g string) []Check {
	var out []Check
	for _, c := range all {
		if c.Gate == g {
			out = append(out, c)
		}
	}
	return out
}

// Lookup finds an entry by ID.
func Lookup(id string) (Check, bool) {
	c, ok := byID[id]
	return c, ok
}

// MustLookup finds an entry by ID and panics on an unknown one: recording a
// check the catalog does not declare is a harness bug, not a finding.
func MustLookup(id string) Check {
	c, ok := byID[id]
	if !ok {
		panic(fmt.Sprintf("catalog: no check %q", id))
	}
	return c
}

// IDOf reads the ID at the start of a name ("A8 title" → "A8").
func IDOf(name string) string {
	id, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return id
}

// Problems lists what makes the catalog inconsistent: duplicate or
// malformed IDs, an unknown gate or rule, a route not written "METHOD /path".
func Problems() []string {
	var out []string
	seen := map[string]bool{}
	rules := map[string]bool{}
	for _, r := range Rules {
		rules[r.ID] = true
	}
	for _, c := range all {
		switch {
		case seen[c.ID]:
			out = append(out, "duplicate ID "+c.ID)
		case c.Title == "":
			out = append(out, c.ID+": no title")
		case !strings.Contains("ABCDE", c.Gate) || len(c.Gate) != 1:
			out = append(out, c.ID+": unknown gate "+c.Gate)
		case !strings.HasPrefix(c.ID, c.Gate) && !strings.HasPrefix(c.ID, "CL") && !strings.HasPrefix(c.ID, "RT"):
			out = append(out, c.ID+": ID does not start with its gate "+c.Gate)
		case len(c.Rules) == 0:
			out = append(out, c.ID+": guards no rule")
		}
		seen[c.ID] = true
		for _, r := range c.Rules {
			if !rules[r] {
				out = append(out, fmt.Sprintf("%s: unknown rule %q", c.ID, r))
			}
		}
		for _, r := range c.Routes {
			m, p, ok := strings.Cut(r, " ")
			if !ok || !strings.HasPrefix(p, "/") || strings.ToUpper(m) != m {
				out = append(out, fmt.Sprintf("%s: route %q is not \"METHOD /path\"", c.ID, r))
			}
		}
	}
	return out
}

// RouteChecks maps every route named by an entry to the IDs that call it.
func RouteChecks() map[string][]string {
	m := map[string][]string{}
	for _, c := range all {
		for _, r := range c.Routes {
			m[r] = append(m[r], c.ID)
		}
	}
	return m
}

// RuleChecks maps every rule ID to the IDs that guard it.
func RuleChecks() map[string][]string {
	m := map[string][]string{}
	for _, c := range all {
		for _, r := range c.Rules {
			m[r] = append(m[r], c.ID)
		}
	}
	return m
}
