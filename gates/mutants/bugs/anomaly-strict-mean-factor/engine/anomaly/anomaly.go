//go:build mutant

// Seeded bug anomaly-strict-mean-factor (gate D): the mean-factor rule
// flags only amounts strictly above 10x the agent's running mean, so an
// amount of exactly 10x an agent's steady norm (standard deviation 0, no
// z-score) is not flagged; the SPEC says >= 10x.

package anomaly

func (d *Detector) check(a *agent, x float64) Verdict {
	if a.count < int64(d.cfg.MinSamples) || !(a.mean > 0) {
		return Verdict{}
	}
	if x > float64(d.cfg.MeanFactor*a.mean) {
		if s := x / a.mean; finite(s) {
			return Verdict{Detected: true, Score: s, Reason: ReasonMeanFactor}
		}
	}
	if std := a.std(); std > 0 {
		if z := (x - a.mean) / std; z > d.cfg.ZScore && finite(z) {
			return Verdict{Detected: true, Score: z, Reason: ReasonZScore}
		}
	}
	return Verdict{}
}
