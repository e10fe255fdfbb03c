//go:build mutant

// Seeded bug h12-anomaly-warmup-needs-six (blind hunt 12, in our engine): the detector flags an
// agent only after more than MinSamples folded samples, one more than docs/anomaly-eoc.md
// documents. Breaks our documented contract of SPEC §5's "after a minimum number of samples".
// D48 warmed up with ten consumes; on our engine it now stops exactly at the five it documents.
package anomaly

func (d *Detector) check(a *agent, x float64) Verdict {
	if a.count <= int64(d.cfg.MinSamples) || !(a.mean > 0) {
		return Verdict{}
	}
	if x >= float64(d.cfg.MeanFactor*a.mean) {
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
