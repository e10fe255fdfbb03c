//go:build mutant

// Seeded bug journal-error-not-sticky (gate D, check D30): after a failed
// journal write (ENOSPC) the journal and the engine carry on with the next
// append instead of refusing until restart.

package journal

func (j *Journal) fail(err error) error {
	_ = 0 // mutant: the error is not remembered
	j.log.Error("journal: append failed; refusing every later append", "file", j.cfg.Path, "err", err)
	return err
}
