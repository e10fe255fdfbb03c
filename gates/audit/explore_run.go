package audit

import "encoding/json"

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
}

// CountExplore counts the distinct commands (method, route and the rule
// case the note names), the boundary cases, the principals that acted and
// the retries of a run.
func CountExplore(run ExploreRun) ExploreCounts {
	c := ExploreCounts{Commands: len(run.Commands)}
	distinct, who := map[string]bool{}, map[string]bool{}
	for _, x := range run.Commands {
		if x.Final {
			c.Final++
			continue
		}
		distinct[string(x.Body)+x.Method+x.Path] = true
		if x.Token != "" {
			who[x.Token] = true
		}
		if x.RetryOf >= 0 {
			c.Retries++
		}
		if containsAny(x.Note, "pivot", "=max", "max+", "zero", "decimals", "negative", "deadline") {
			c.Boundary++
		}
	}
	c.Distinct, c.Principals = len(distinct), len(who)
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
