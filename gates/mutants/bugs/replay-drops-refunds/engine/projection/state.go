//go:build mutant

// Seeded bug replay-drops-refunds (gate B, check B23): replay skips
// credit.refunded, so the state drifts after a restart.

package projection

import "github.com/creditgate/creditgate/engine/event"

// SkipForMutant advances seq without folding (the mutant's replay calls it
// for credit.refunded).
func (s *State) SkipForMutant(e *event.Envelope) error { s.seq = e.Seq; return nil }
