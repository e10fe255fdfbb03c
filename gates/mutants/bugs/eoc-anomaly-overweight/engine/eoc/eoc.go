//go:build mutant

package eoc

// anomalyWeight is overweighted: 0.30 instead of 0.08 (× anomaly rate).
const anomalyWeight = 0.30
