package mutants

// Seeded durability bugs for gate D's power-loss and full-disk checks
// (gates/d/powerloss_test.go, gates/d/fulldisk_test.go). Each needs the
// power-loss layer (FUSE): where it is unavailable gate D SKIPs those
// checks and these mutants are not rejected.
func powerlossMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "ack-before-fdatasync", Gate: "d", Check: "D33",
			Bug: "the journal acknowledges a batch without fdatasync (written to the page cache only): a kill -9 keeps it, a power cut loses it"},
		Mutant{Name: "enospc-answered-500", Gate: "d", Check: "D35",
			Bug: "a failed journal (ENOSPC) is answered 500 internal instead of 503 journal_failed"},
		Mutant{Name: "journal-error-not-sticky", Gate: "d", Check: "D30",
			Bug: "after a failed journal write (ENOSPC) the journal and the engine carry on with the next append instead of refusing until restart"},
	}
}
