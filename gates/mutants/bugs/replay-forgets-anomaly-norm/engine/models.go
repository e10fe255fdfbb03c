//go:build mutant

// Seeded bug replay-forgets-anomaly-norm (gate B, check B25): replay does
// not feed consumes to the anomaly detector, so after a restart every agent's
// norm is empty and the first anomaly goes unflagged.

package engine

import "github.com/creditgate/creditgate/engine/anomaly"

// replayBlind is the anomaly checker replay uses: it observes nothing, so
// after a restart every agent's norm is empty.
type replayBlind struct{ anomaly.Checker }

func (replayBlind) Observe(string, int64) {}
