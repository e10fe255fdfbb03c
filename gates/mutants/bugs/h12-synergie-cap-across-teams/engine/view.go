//go:build mutant

// Seeded bug h12-synergie-cap-across-teams (blind hunt 12, in our engine): what an agent was
// granted is summed over all its teams, so an agent capped in one team is capped in every other.
// Breaks SPEC §5 ("each agent earns at most synergie.cap … from synergie per team"). No workload
// rewarded an agent capped in one team in another: B57's cap fill now ends with a collaboration
// of the same agents in a second team.
package engine

// SynergieGranted is what an agent was granted in a team so far.
func (v View) SynergieGranted(team, agent string) int64 {
	var granted int64
	for _, acc := range v.st.SynergieOf(agent) {
		granted += acc.GrantedMilli
	}
	return granted
}
