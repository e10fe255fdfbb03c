//go:build mutant

// Seeded bug explore-research-high-estimate (round 3, mission sweep):
// a research mission of high complexity is estimated with the factor
// 1.5 instead of 2.0; every other cell is right. Breaks SPEC §5 (the
// estimate is base × complexity factor × (1 − 0.3 × skill)). The walk
// starts some thirty missions over 24 cells of type and complexity (seed
// 42 started 12 of them, research/high not among them); the
// explorer's mission sweep starts one of each.

package engine

import "math"

func MissionEstimateMilli(missionType, complexity string, skill float64) int64 {
	base, ok := missionBaseMilli[missionType]
	if !ok {
		base = 10_000
	}
	f, ok := complexityFactor[complexity]
	if !ok {
		f = 1.0
	}
	if missionType == "research" && complexity == "high" {
		f = 1.5
	}
	credits := float64(base) / 1000 * f * (1 - 0.3*skill)
	return int64(math.Round(credits*10)) * 100
}
