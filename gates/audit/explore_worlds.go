package audit

import (
	"fmt"
	"strings"
	"time"
)

// Faults and concurrency in the explore judge.
//
// The model may hold several candidate states ("worlds") at once: a group
// of commands sent concurrently may have executed in any serial order
// consistent with their answers, and a command in flight during a kill -9,
// power cut or restart (no answer, or a 5xx) may or may not have happened.
// Every world and every order and choice is tried; a step is correct when
// at least one candidate explains every answer, and only those candidates
// go on. A step no candidate explains is a violation: the candidate with
// the fewest problems is reported and followed (as a single command's
// model follows its answer). Faults themselves move no state: what was
// acknowledged before them must still be there (the final reads and later
// answers are judged against worlds that contain it), and a keyed retry of
// a command whose outcome a fault left unknown must replay it in the
// worlds where it happened and execute it afresh in the others.

// maxWorlds bounds the candidate states (a few unresolved outcomes at once).
const maxWorlds = 64

// xDone is what a client key holds in one world.
type xDone struct {
	n     int  // the command that executed under it
	known bool // its answer is known (false: a command a fault interrupted, taken as executed)
	// faultNs: the interrupting fault's call time (a replay's events are
	// older than it, a fresh execution's newer).
	faultNs int64
}

// disruptiveFault reports whether a fault step restarted the backend.
func disruptiveFault(c ExploreCommand) bool {
	switch c.Fault {
	case "kill -9", "clean restart", "power cut", "batch sync fails":
		return c.Skip == ""
	}
	return false
}

// unknownOutcomes maps each command without a definite answer (no answer
// or a 5xx) whose window overlaps a restart to that fault's call time.
func unknownOutcomes(cmds []ExploreCommand) map[int]int64 {
	out := map[int]int64{}
	for _, f := range cmds {
		if !disruptiveFault(f) {
			continue
		}
		for _, c := range cmds {
			if c.Fault == "" && (c.Status == 0 || c.Status >= 500) && c.CallNs <= f.ReturnNs && c.ReturnNs >= f.CallNs {
				if _, ok := out[c.N]; !ok {
					out[c.N] = f.CallNs
				}
			}
		}
	}
	return out
}

func (m *xModel) clone() *xModel {
	c := *m
	c.agents = cloneMap(m.agents)
	c.skills = cloneMap(m.skills)
	c.collabs = cloneMap(m.collabs)
	c.granted = cloneMap(m.granted)
	c.done = cloneMap(m.done)
	c.approvals = make(map[string]*xApproval, len(m.approvals))
	for k, a := range m.approvals {
		x := *a
		x.voters = append([]string(nil), a.voters...)
		c.approvals[k] = &x
	}
	c.missions = make(map[string]*xMission, len(m.missions))
	for k, ms := range m.missions {
		x := *ms
		c.missions[k] = &x
	}
	c.pools = make(map[string]*xPool, len(m.pools))
	for k, p := range m.pools {
		x := *p
		x.members = cloneMap(p.members)
		c.pools[k] = &x
	}
	return &c
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// fingerprint renders a world's state, to merge candidates that agree.
func (m *xModel) fingerprint() string {
	var b strings.Builder
	for _, k := range sortedKeys(m.agents) {
		fmt.Fprintf(&b, "a%s=%d;", k, m.agents[k])
	}
	for _, k := range sortedKeys(m.approvals) {
		a := m.approvals[k]
		fmt.Fprintf(&b, "r%s=%s/%d/%v;", k, a.status, a.version, a.voters)
	}
	for _, k := range sortedKeys(m.missions) {
		ms := m.missions[k]
		fmt.Fprintf(&b, "m%s=%s/%d/%d;", k, ms.status, ms.consumed, ms.refunded)
	}
	for _, k := range sortedKeys(m.pools) {
		p := m.pools[k]
		fmt.Fprintf(&b, "p%s=%d/%d/%d/%v/%v;", k, p.balance, p.consumed, p.refunded, p.closed, sortedKeys(p.members))
	}
	for _, k := range sortedKeys(m.granted) {
		fmt.Fprintf(&b, "g%s=%d;", k, m.granted[k])
	}
	for _, k := range sortedKeys(m.done) {
		d := m.done[k]
		fmt.Fprintf(&b, "k%s=%d/%v;", k, d.n, d.known)
	}
	fmt.Fprintf(&b, "c%d", len(m.collabs))
	return b.String()
}

// branch is one candidate explanation of a step.
type branch struct {
	m        *xModel
	problems [][]string // per member
	wants    []want
	total    int
}

// stepGroup judges a group of commands sent at once (or one command) in
// every world: every order, and for each member whose outcome a fault left
// unknown, both "it happened" and "it did not".
func stepGroup(worlds []*xModel, members []ExploreCommand, unknown map[int]int64) ([]*xModel, branch) {
	// A member resending another member's key (a concurrent retry) comes
	// after it in every order: whichever reached the backend first, the
	// two answers are one execution and its replay, and a retry taken as
	// executing before its original would explain a key executed twice.
	var perms [][]int
	permute(len(members), func(p []int) {
		if retriesFollowOriginals(members, p) {
			perms = append(perms, append([]int(nil), p...))
		}
	})
	var maybe []int
	for i, c := range members {
		if _, ok := unknown[c.N]; ok {
			maybe = append(maybe, i)
		}
	}
	var best branch
	best.total = -1
	var survivors []*xModel
	seen := map[string]bool{}
	single := len(members) == 1 && len(maybe) == 0
	for _, w := range worlds {
		for _, perm := range perms {
			for mask := 0; mask < 1<<len(maybe); mask++ {
				m := w
				if !single {
					m = w.clone()
				}
				br := branch{m: m, problems: make([][]string, len(members)), wants: make([]want, len(members))}
				for _, i := range perm {
					c := members[i]
					if k := indexOf(maybe, i); k >= 0 {
						if mask&(1<<k) == 0 {
							continue // it did not happen
						}
						wt := m.predict(c)
						br.wants[i] = wt
						if len(wt.refuse) > 0 && !wt.either {
							continue // refused: the same as not happening
						}
						if wt.apply != nil {
							wt.apply(map[string]any{})
						}
						if c.Key != "" {
							m.done[c.Key] = xDone{n: c.N, faultNs: unknown[c.N]}
						}
						continue
					}
					wt := m.predict(c)
					br.wants[i] = wt
					br.problems[i] = m.evaluate(c, wt)
					br.total += len(br.problems[i])
				}
				if br.total == 0 {
					if fp := m.fingerprint(); !seen[fp] || single {
						seen[fp] = true
						survivors = append(survivors, m)
						if best.total != 0 {
							best = br
						}
					}
				} else if best.total < 0 || br.total < best.total {
					best = br
				}
			}
		}
	}
	if len(survivors) > 0 {
		if len(survivors) > maxWorlds {
			survivors = survivors[:maxWorlds]
		}
		return survivors, best
	}
	return []*xModel{best.m}, best
}

// retriesFollowOriginals reports whether, in the order perm, every member
// retrying another member's command comes after it.
func retriesFollowOriginals(members []ExploreCommand, perm []int) bool {
	pos := make(map[int]int, len(perm)) // command N → position
	for k, i := range perm {
		pos[members[i].N] = k
	}
	for k, i := range perm {
		if o, ok := pos[members[i].RetryOf]; ok && members[i].RetryOf >= 0 && o > k {
			return false
		}
	}
	return true
}

func indexOf(l []int, x int) int {
	for i, v := range l {
		if v == x {
			return i
		}
	}
	return -1
}

// permute calls f with every permutation of 0..n-1 (n ≤ 5 here).
func permute(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			f(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

// replayUnknown predicts a keyed retry of a command a fault interrupted,
// in a world where that command executed: the retry must replay it (the
// answer says so, or its event is older than the fault), never execute
// again.
func (m *xModel) replayUnknown(c ExploreCommand, d xDone) want {
	return want{checks: func(r map[string]any) []string {
		if c.Replayed {
			return nil
		}
		if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["timestamp"])); err == nil && ts.UnixNano() < d.faultNs {
			return nil
		}
		return []string{fmt.Sprintf("a retry of #%d (its outcome left unknown by the fault) executed afresh, so #%d never executed; "+
			"yet only orders in which #%d executed explain the earlier answers (was a refusal, a replay or a read answered from state the fault lost?)", d.n, d.n, d.n)}
	}}
}
