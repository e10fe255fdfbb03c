//go:build mutant

// Seeded bug eoc-anomaly-overweight (gate B, check B11): EoC weighs the
// anomaly rate 0.3 instead of 0.08.

package eoc

// anomalyWeight is overweighted: 0.30 instead of 0.08 (× anomaly rate).
const anomalyWeight = 0.30
