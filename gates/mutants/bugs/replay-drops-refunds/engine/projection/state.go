//go:build mutant

package projection

import "github.com/creditgate/creditgate/engine/event"

// SkipForMutant advances seq without folding (the mutant's replay calls it
// for credit.refunded).
func (s *State) SkipForMutant(e *event.Envelope) error { s.seq = e.Seq; return nil }
