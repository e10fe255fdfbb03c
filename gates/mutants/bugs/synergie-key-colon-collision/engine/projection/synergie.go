//go:build mutant

// Seeded bug synergie-key-colon-collision (gate B): the synergie account key joins team and agent with ":", which ids may contain: team "t:a" with agent "b" and team "t" with agent "a:b" share one cap account

package projection

func synergieKey(team, agent string) string { return team + ":" + agent }
