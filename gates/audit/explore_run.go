package audit

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ExploreRunFromJSON reads a run as scenarios/explore writes it (the two
// packages share the JSON shape, never code: the judge stays independent).
func ExploreRunFromJSON(b []byte) (ExploreRun, error) {
	var r ExploreRun
	err := json.Unmarshal(b, &r)
	return r, err
}

// ExploreCounts are what one run explored, for the report.
type ExploreCounts struct {
	Commands, Distinct, Boundary, Principals, Retries, Final int
	// Routes is how many routes (method and path with ids collapsed) the
	// run drove; Outcomes counts the answers by status and code ("409
	// insufficient_credits"), the states the workload reached.
	Routes   int
	Outcomes map[string]int
	// Faults counts the injected fault steps by kind, Skipped the ones the
	// target could not take (kind → reason); Groups the concurrent groups,
	// Unknown the commands a fault left without an answer.
	Faults  map[string]int
	Skipped map[string]string
	Groups  int
	Unknown int
}

// FaultLine renders the fault points and concurrency of a run.
func (c ExploreCounts) FaultLine() string {
	var parts []string
	for _, k := range sortedKeys(c.Faults) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, c.Faults[k]))
	}
	s := "faults: none"
	if len(parts) > 0 {
		s = "faults: " + strings.Join(parts, ", ")
	}
	for _, k := range sortedKeys(c.Skipped) {
		s += fmt.Sprintf("; %s skipped (%s)", k, c.Skipped[k])
	}
	return s + fmt.Sprintf("; %d concurrent groups, %d outcomes left unknown by a fault", c.Groups, c.Unknown)
}

// OutcomeLine renders Outcomes, most frequent first.
func (c ExploreCounts) OutcomeLine() string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range c.Outcomes {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var b strings.Builder
	for i, x := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s ×%d", x.k, x.v)
	}
	return b.String()
}

// CountExplore counts the distinct commands (method, route and the rule
// case the note names), the boundary cases, the principals that acted and
// the retries of a run.
func CountExplore(run ExploreRun) ExploreCounts {
	c := ExploreCounts{Outcomes: map[string]int{}, Faults: map[string]int{}, Skipped: map[string]string{},
		Unknown: len(unknownOutcomes(run.Commands))}
	groups := map[int]bool{}
	distinct, who, routes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	known := map[string]bool{}
	for _, p := range run.Principals {
		known[p.Token] = true
	}
	for _, x := range run.Commands {
		if x.Fault != "" {
			if x.Skip != "" {
				c.Skipped[x.Fault] = x.Skip
			} else {
				c.Faults[x.Fault]++
			}
			continue
		}
		c.Commands++
		if x.Group != 0 {
			groups[x.Group] = true
		}
		if x.Final {
			c.Final++
			continue
		}
		distinct[string(x.Body)+x.Method+x.Path] = true
		seg := strings.Split(strings.TrimPrefix(x.Path, "/api/credits/"), "/")
		for i := 1; i < len(seg); i += 2 {
			seg[i] = "{id}"
		}
		routes[x.Method+" "+strings.Join(seg, "/")] = true
		code, _ := decodeBody(x.Resp)["code"].(string)
		c.Outcomes[strings.TrimSpace(fmt.Sprintf("%d %s", x.Status, code))]++
		if known[x.Token] {
			who[x.Token] = true
		}
		if x.RetryOf >= 0 {
			c.Retries++
		}
		if containsAny(x.Note, "pivot", "=max", "max+", "zero", "decimals", "negative", "deadline") {
			c.Boundary++
		}
	}
	c.Distinct, c.Principals, c.Routes, c.Groups = len(distinct), len(who), len(routes), len(groups)
	return c
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if len(x) > 0 && len(s) >= len(x) {
			for i := 0; i+len(x) <= len(s); i++ {
				if s[i:i+len(x)] == x {
					return true
				}
			}
		}
	}
	return false
}
