//go:build mutant

// Seeded bug cluster-reads-without-catch-up (gate B, check CL4): reads
// answer from the local projection without catching up, so a write
// acknowledged by another instance is not seen.

package engine

// catchUpLocked brings the engine up to the store's last seq before a
// read: a read that starts after a write was acknowledged by any instance
// sees it.
func (e *Engine) catchUpLocked() error {
	if e.inflight != nil {
		// This instance holds the append lock: nobody else commits.
		return nil
	}
	if e.storeDown.Load() {
		return errStoreDown
	}
	if e.stale {
		return e.reloadLocked()
	}
	return nil
}
