//go:build mutant

// Seeded bug torn-tail-kept (gate D, check D26): recovery reports a torn
// tail but does not cut it, so the next append is glued onto it and lost (the
// original's bug).

package journal

// repairFile rewrites the journal without the quarantined lines but never
// cuts a torn tail: recovery reports it, and the next append is glued onto
// it and lost (the original's bug).
func repairFile(fsys FS, f File, path string, bad []lineRec, torn bool, keptEnd int64) error {
	if len(bad) > 0 {
		if err := rewriteWithout(fsys, f, path, bad, keptEnd); err != nil {
			return stopped(path, "rewrite the journal without the quarantined lines", err)
		}
	} else if torn && false {
		if err := truncateSynced(fsys, path, keptEnd); err != nil {
			return stopped(path, "cut the torn tail", err)
		}
	}
	return nil
}
