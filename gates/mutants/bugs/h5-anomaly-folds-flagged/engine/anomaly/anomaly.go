//go:build mutant

// Seeded bug h5-anomaly-folds-flagged (blind hunt 5): Observe counts a
// flagged sample but folds it into the agent's running mean and variance
// anyway (the early return is missing), so the first anomaly shifts the
// norm: after 5 consumes of 10, a consume of 100 is flagged, but a second
// consume of 100 is not (mean 25, z 2.0) and further anomalies of the same
// size are not flagged either. Breaks SPEC §5 (ML anomaly detection: an
// amount >= 10x the agent's norm is flagged) and §8 scenario 5 (anomalous
// consumes at 10x the norm are flagged).

package anomaly

// Observe is the fold step for one credit.consumed event. A sample that Check
// would flag is counted as flagged; every sample updates (count, mean, M2)
// by Welford's method. Non-positive amounts are ignored (consumes are always
// positive).
func (d *Detector) Observe(agentID string, amountMilli int64) {
	if amountMilli <= 0 {
		return
	}
	a := d.touch(agentID)
	x := float64(amountMilli)
	if d.check(a, x).Detected {
		a.flagged++
	}
	a.count++
	delta := x - a.mean
	a.mean += float64(delta / float64(a.count))
	a.m2 += float64(delta * float64(x-a.mean))
	if a.m2 < 0 { // rounding can leave a tiny negative; variance is never negative
		a.m2 = 0
	}
}
