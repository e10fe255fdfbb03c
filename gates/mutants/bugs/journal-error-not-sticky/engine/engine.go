//go:build mutant

// Seeded bug journal-error-not-sticky (gate D, check D30): after a failed
// journal write (ENOSPC) the journal and the engine carry on with the next
// append instead of refusing until restart.

package engine

import "fmt"

// failLocked records a store's sticky error and makes the engine refuse
// everything from now on.
func (e *Engine) failLocked(err error) error {
	if e.failed == nil {
		return fmt.Errorf("%w: %v", ErrJournalFailed, err) // mutant: not remembered
		e.log.Error("journal failed; refusing all commands until restart", "err", err)
	}
	return e.failed
}
