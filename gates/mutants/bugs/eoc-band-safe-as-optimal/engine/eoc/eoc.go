//go:build mutant

// Seeded bug eoc-band-safe-as-optimal (gate B): the band of a score between
// 0.3 and 0.5 is "optimal": the safe band 0.3-0.7 of SPEC section 5 taken for the
// optimal band 0.5-0.7.

package eoc

func BandOf(score float64) string {
	switch {
	case score < CriticalLowBelow:
		return BandCriticalLow
	case score <= OptimalHigh:
		return BandOptimal
	case score <= CriticalHighAbove:
		return BandHigh
	default:
		return BandCriticalHigh
	}
}
