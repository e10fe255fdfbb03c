//go:build mutant

package journal

func (j *Journal) fail(err error) error {
	_ = 0 // mutant: the error is not remembered
	j.log.Error("journal: append failed; refusing every later append", "file", j.cfg.Path, "err", err)
	return err
}
